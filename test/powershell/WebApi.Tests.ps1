BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-D365WithFakes
}

Describe 'webapi' {
    BeforeAll {
        Mock -ModuleName D365ExoSync Write-D365Log { }
    }

    BeforeEach {
        Reset-FakeWindows
    }

    It 'sends each request with the runner''s Windows identity (-UseDefaultCredentials) and returns status, headers and the UTF-8 body' {
        Mock -ModuleName D365ExoSync Invoke-WebRequest {
            $bytes = [System.Text.Encoding]::UTF8.GetBytes('{"UserId":"a1","name":"Gr' + [char]0x00FC + 'n"}')
            [pscustomobject]@{ StatusCode = 200; Headers = @{ 'Content-Type' = 'application/json; odata.metadata=minimal'; 'OData-Version' = @('4.0') }; RawContentStream = [System.IO.MemoryStream]::new($bytes); Content = 'ignored' }
        }
        $state = Invoke-D365ExoSyncWebApi -Requests @(@{ id = 'who'; method = 'GET'; url = 'https://crm.contoso.com/contoso/api/data/v9.0/WhoAmI'; headers = @{ Accept = 'application/json'; 'OData-MaxVersion' = '4.0' } })
        $response = $state.evidence.responses[0]
        $response.id | Should -Be 'who'
        $response.status | Should -Be 200
        $response.body | Should -Be ('{"UserId":"a1","name":"Gr' + [char]0x00FC + 'n"}')
        $response.headers['OData-Version'] | Should -Be '4.0'
        Should -Invoke -ModuleName D365ExoSync Invoke-WebRequest -Times 1 -Exactly -ParameterFilter {
            $UseDefaultCredentials -and $UseBasicParsing -and $Method -eq 'GET' -and $Uri -eq 'https://crm.contoso.com/contoso/api/data/v9.0/WhoAmI' -and $Headers['Accept'] -eq 'application/json' -and $null -eq $Body
        }
    }

    It 'sends a body as UTF-8 bytes with the Content-Type header as -ContentType' {
        Mock -ModuleName D365ExoSync Invoke-WebRequest { [pscustomobject]@{ StatusCode = 204; Headers = @{ 'OData-EntityId' = 'https://crm/x(1)' }; RawContentStream = [System.IO.MemoryStream]::new() } }
        $payload = '{"name":"' + [char]0x00E9 + '"}'
        $state = Invoke-D365ExoSyncWebApi -Requests @(@{ method = 'PATCH'; url = 'https://crm.contoso.com/api/data/v9.0/mailboxes(1)'; headers = @{ 'Content-Type' = 'application/json'; 'If-Match' = '*' }; body = $payload })
        $state.evidence.responses[0].status | Should -Be 204
        $state.evidence.responses[0].body | Should -Be ''
        Should -Invoke -ModuleName D365ExoSync Invoke-WebRequest -Times 1 -Exactly -ParameterFilter {
            $ContentType -eq 'application/json' -and -not $Headers.ContainsKey('Content-Type') -and $Headers['If-Match'] -eq '*' -and [System.Text.Encoding]::UTF8.GetString($Body) -eq $payload
        }
    }

    It 'returns an HTTP error status with its body as a result, not a failure' {
        Mock -ModuleName D365ExoSync Invoke-WebRequest {
            $message = [System.Net.Http.HttpResponseMessage]::new([System.Net.HttpStatusCode]::NotFound)
            $message.Headers.Add('REQ_ID', 'abc')
            $exception = [Microsoft.PowerShell.Commands.HttpResponseException]::new('Response status code does not indicate success: 404 (Not Found).', $message)
            $record = [System.Management.Automation.ErrorRecord]::new($exception, 'WebCmdletWebResponseException', 'InvalidOperation', $null)
            $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new('{"error":{"code":"0x80040217","message":"mailbox With Id = 1 Does Not Exist"}}')
            throw $record
        }
        $state = Invoke-D365ExoSyncWebApi -Requests @(@{ url = 'https://crm.contoso.com/api/data/v9.0/mailboxes(1)' })
        $state.ok | Should -BeTrue
        $response = $state.evidence.responses[0]
        $response.status | Should -Be 404
        $response.body | Should -Match '0x80040217'
        $response.headers['REQ_ID'] | Should -Be 'abc'
    }

    It 'returns status 0 and the error when no response came back, and goes on with the next request' {
        $script:calls = 0
        Mock -ModuleName D365ExoSync Invoke-WebRequest {
            $script:calls++
            if ($script:calls -eq 1) { throw [System.Net.Http.HttpRequestException]::new('No such host is known. (crm.invalid:443)') }
            [pscustomobject]@{ StatusCode = 200; Headers = @{}; RawContentStream = [System.IO.MemoryStream]::new([byte[]](0x7B, 0x7D)) }
        }
        $state = Invoke-D365ExoSyncWebApi -Requests @(@{ url = 'https://crm.invalid/api' }, @{ url = 'https://crm.contoso.com/api' })
        $state.evidence.responses[0].status | Should -Be 0
        $state.evidence.responses[0].error | Should -Match 'No such host'
        $state.evidence.responses[1].status | Should -Be 200
        $state.evidence.responses[1].body | Should -Be '{}'
    }

    It 'sends only GET/HEAD under -WhatIf' {
        Mock -ModuleName D365ExoSync Invoke-WebRequest { [pscustomobject]@{ StatusCode = 200; Headers = @{}; RawContentStream = [System.IO.MemoryStream]::new() } }
        $state = Invoke-D365ExoSyncWebApi -WhatIf -Requests @(@{ method = 'GET'; url = 'https://crm/api/a' }, @{ method = 'POST'; url = 'https://crm/api/b'; body = '{}' })
        $state.evidence.responses[1].skipped | Should -BeTrue
        Should -Invoke -ModuleName D365ExoSync Invoke-WebRequest -Times 1 -Exactly
    }

    It 'fails the step for a request without an absolute URL, naming the request' {
        { Invoke-D365ExoSyncWebApi -Requests @(@{ id = 'bad'; url = '/api/data' }) } | Should -Throw -ExpectedMessage "*step 'request bad' failed*no absolute http(s) url*"
    }
}
