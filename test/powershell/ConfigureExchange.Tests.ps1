BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Remove-Module D365ExoSync, FakeExchangeOnline -ErrorAction SilentlyContinue
    Import-Module $script:ModuleManifest -Force
    Import-Module $script:FakeExchange -Force -Global
    $script:Dynamics = '00000007-0000-0000-c000-000000000000'
    $script:Other = '11111111-2222-3333-4444-555555555555'
    function New-TestToken {
        param([string] $Audience = 'https://outlook.office365.com', [string[]] $Roles = @('Exchange.ManageAsApp'))
        $encode = { param($text) [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($text)).TrimEnd('=').Replace('+', '-').Replace('/', '_') }
        $payload = ConvertTo-Json -Compress -InputObject @{ aud = $Audience; roles = $Roles; appid = '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a' }
        return (& $encode '{"alg":"RS256","typ":"JWT"}') + '.' + (& $encode $payload) + '.c2lnbmF0dXJl'
    }
    $script:Token = New-TestToken
    function Invoke-Exchange {
        param([hashtable] $Extra = @{}, [switch] $Plan)
        $arguments = @{ Organization = 'contoso.onmicrosoft.com'; AccessToken = (ConvertTo-TestSecure $script:Token); Mailboxes = @('anna@contoso.com', 'ben@contoso.com') }
        foreach ($key in $Extra.Keys) { $arguments[$key] = $Extra[$key] }
        if ($Plan) { $arguments['WhatIf'] = $true }
        return Set-D365ExoSyncExchangeConfiguration @arguments
    }
    function Get-Step { param($State, [string] $Id) @($State.steps | Where-Object { $_.id -eq $Id })[0] }
    function Get-Statuses { param($State) @($State.steps | ForEach-Object { "$($_.id)=$($_.status)" }) }
    # A tenant that already allows EWS with an app-id list holding another app.
    function Set-Tenant {
        param($EwsEnabled = $true, $AllowedAppIds = $script:Other, $Policy = $null, [string[]] $AllowList = @(), [string[]] $BlockList = @())
        $tenant = Get-FakeExchange
        $tenant.ewsEnabled = $EwsEnabled
        $tenant.allowedAppIds = $AllowedAppIds
        $tenant.policy = $Policy
        $tenant.allowList = $AllowList
        $tenant.blockList = $BlockList
    }
}

Describe 'configure-exchange' {
    BeforeAll {
        Mock -ModuleName D365ExoSync Write-D365Log { }
    }

    BeforeEach {
        Reset-FakeExchange
        $script:Tenant = Get-FakeExchange
        $script:Tenant.acceptedToken = $script:Token
    }

    Context 'EwsAllowedAppIDs' {
        It 'adds the Dynamics app id when it is missing and keeps every other entry (the whole list, as the String parameter takes it)' {
            Set-Tenant -AllowedAppIds $script:Other
            $state = Invoke-Exchange
            $state.ok | Should -BeTrue
            Get-Statuses $state | Should -Be @('exchange-module=unchanged', 'sign-in=unchanged', 'read-organization=unchanged', 'ews-enabled=unchanged', 'allowed-app-ids=changed', 'user-agent-policy=unchanged', 'mailboxes=unchanged')
            $set = @(Get-FakeExchangeCall 'Set-OrganizationConfig')
            $set.Count | Should -Be 1
            $set[0].args.EwsAllowedAppIDs | Should -Be "$($script:Other),$($script:Dynamics)"
            $set[0].args.Keys | Should -Not -Contain 'EwsEnabled'
            $script:Tenant.allowedAppIds | Should -Be "$($script:Other),$($script:Dynamics)"
            (Get-Step $state 'allowed-app-ids').evidence.kept | Should -Be @($script:Other)
            $state.evidence.effectiveAfter | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
            ([datetime]$state.evidence.effectiveAfter).ToUniversalTime() | Should -BeGreaterThan (Get-Date).ToUniversalTime().AddHours(23.9)
            @($state.warnings) -join ' ' | Should -Match 'up to 24 hours.*Test & Enable'
        }

        It 'reads the list with -RetrieveEwsOperationAccessPolicy (without it Exchange does not return EwsAllowedAppIDs)' {
            Set-Tenant -AllowedAppIds "$($script:Dynamics),$($script:Other)"
            $null = Invoke-Exchange
            foreach ($call in @(Get-FakeExchangeCall 'Get-OrganizationConfig')) { $call.args.RetrieveEwsOperationAccessPolicy | Should -BeTrue }
        }

        It 'leaves the list alone when the app id is present (any letter case)' {
            Set-Tenant -AllowedAppIds "$($script:Other),$($script:Dynamics.ToUpperInvariant())"
            $state = Invoke-Exchange
            (Get-Step $state 'allowed-app-ids').status | Should -Be 'unchanged'
            @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
            $state.changed | Should -BeFalse
            $state.evidence.Contains('effectiveAfter') | Should -BeFalse
        }

        It 'leaves an empty list empty: it restricts nothing, and one id would block every other EWS app of the tenant' {
            Set-Tenant -AllowedAppIds $null
            $state = Invoke-Exchange
            $step = Get-Step $state 'allowed-app-ids'
            $step.status | Should -Be 'unchanged'
            $step.message | Should -Match 'not restricted by app id.*block every other EWS app'
            @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
        }

        It 'adds every configured app id (configurable: Microsoft does not say which id D365 on-premises presents)' {
            $extra = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
            Set-Tenant -AllowedAppIds $script:Other
            $null = Invoke-Exchange -Extra @{ AppIds = @($script:Dynamics, $extra) }
            $script:Tenant.allowedAppIds | Should -Be "$($script:Other),$($script:Dynamics),$extra"
        }

        It 'refuses an app id that is not a GUID before signing in' {
            { Invoke-Exchange -Extra @{ AppIds = @('Dynamics CRM') } } | Should -Throw -ExpectedMessage "*appIds*'Dynamics CRM' is not an application id*"
            @(Get-FakeExchangeCall 'Connect-ExchangeOnline').Count | Should -Be 0
        }

        It 'the fake refuses the hashtable add/remove form on EwsAllowedAppIDs, as the String parameter binds it as text' {
            Connect-ExchangeOnline -AccessToken $script:Token -Organization 'contoso.onmicrosoft.com'
            { Set-OrganizationConfig -EwsAllowedAppIDs @{ Add = $script:Dynamics } } | Should -Throw -ExpectedMessage '*not a valid application ID*'
        }
    }

    Context 'EwsEnabled of the organization' {
        It 'unset, without exchange.ews.enableOrganization: apply refuses and changes nothing' {
            Set-Tenant -EwsEnabled $null -AllowedAppIds $script:Other
            { Invoke-Exchange } | Should -Throw -ExpectedMessage "*step 'ews-enabled' failed*EwsEnabled of the organization is unset*exchange.ews.enableOrganization: true*"
            @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
            @(Get-FakeExchangeCall 'Disconnect-ExchangeOnline').Count | Should -Be 1
            $last = Get-D365ExoSyncLastState
            $last.ok | Should -BeFalse
        }

        It 'unset, in a plan: shows the change and that apply refuses it' {
            Set-Tenant -EwsEnabled $null -AllowedAppIds $script:Other
            $state = Invoke-Exchange -Plan
            $step = Get-Step $state 'ews-enabled'
            $step.status | Should -Be 'would-change'
            $step.before | Should -BeNullOrEmpty
            $step.after | Should -BeTrue
            $step.message | Should -Match '^apply refuses this'
            (Get-Step $state 'allowed-app-ids').status | Should -Be 'would-change'
            @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
        }

        It 'False, with exchange.ews.enableOrganization: sets it to True, then adds the app id' {
            Set-Tenant -EwsEnabled $false -AllowedAppIds $script:Other
            $state = Invoke-Exchange -Extra @{ EnableOrganization = $true }
            (Get-Step $state 'ews-enabled').status | Should -Be 'changed'
            (Get-Step $state 'ews-enabled').before | Should -BeFalse
            $set = @(Get-FakeExchangeCall 'Set-OrganizationConfig')
            $set[0].args.EwsEnabled | Should -BeTrue
            $set[1].args.EwsAllowedAppIDs | Should -Be "$($script:Other),$($script:Dynamics)"
            $script:Tenant.ewsEnabled | Should -BeTrue
        }

        It 'False, without exchange.ews.enableOrganization: refuses' {
            Set-Tenant -EwsEnabled $false
            { Invoke-Exchange } | Should -Throw -ExpectedMessage '*EwsEnabled of the organization is False*'
            $script:Tenant.ewsEnabled | Should -BeFalse
        }

        It 'True: nothing to change' {
            Set-Tenant -EwsEnabled $true -AllowedAppIds "$($script:Dynamics)"
            $state = Invoke-Exchange -Extra @{ EnableOrganization = $true }
            (Get-Step $state 'ews-enabled').status | Should -Be 'unchanged'
            @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
        }
    }

    Context 'user-agent policy' {
        It 'reports a user-agent allow list it cannot judge (D365''s user agent is not documented) and changes nothing' {
            Set-Tenant -AllowedAppIds $script:Dynamics -Policy 'EnforceAllowList' -AllowList @('Outlook*')
            $state = Invoke-Exchange
            $step = Get-Step $state 'user-agent-policy'
            $step.status | Should -Be 'skipped'
            $step.message | Should -Match 'EnforceAllowList.*exchange.ews.userAgents'
            @($state.warnings) -join ' ' | Should -Match 'EnforceAllowList'
            @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
        }

        It 'removes the block-list entries that block the configured user agent with the Remove form, keeping the others' {
            Set-Tenant -AllowedAppIds $script:Dynamics -Policy 'EnforceBlockList' -BlockList @('CRM*', 'BadApp/*')
            $state = Invoke-Exchange -Extra @{ UserAgents = @('CRM/9.1') }
            (Get-Step $state 'user-agent-policy').status | Should -Be 'changed'
            $set = @(Get-FakeExchangeCall 'Set-OrganizationConfig')[0].args
            $set.EwsBlockList.Remove | Should -Be @('CRM*')
            $set.EwsBlockList.Keys | Should -Not -Contain 'Add'
            $script:Tenant.blockList | Should -Be @('BadApp/*')
        }

        It 'adds the configured user agent to an allow list with the Add form, keeping the others' {
            Set-Tenant -AllowedAppIds $script:Dynamics -Policy 'EnforceAllowList' -AllowList @('Outlook*')
            $null = Invoke-Exchange -Extra @{ UserAgents = @('CRM/*') }
            @(Get-FakeExchangeCall 'Set-OrganizationConfig')[0].args.EwsAllowList.Add | Should -Be @('CRM/*')
            $script:Tenant.allowList | Should -Be @('Outlook*', 'CRM/*')
        }
    }

    Context 'mailboxes' {
        It 'finds a blocked mailbox with one filtered, unlimited read (not one call per mailbox) and reports it without changing it' {
            $script:Tenant.mailboxes[1].ewsEnabled = $false
            Set-Tenant -AllowedAppIds $script:Dynamics
            $state = Invoke-Exchange
            $step = Get-Step $state 'mailboxes'
            $step.status | Should -Be 'skipped'
            $step.message | Should -Match 'ben@contoso.com.*exchange.ews.enableMailboxes: true'
            $reads = @(Get-FakeExchangeCall 'Get-CASMailbox')
            $reads.Count | Should -Be 1
            $reads[0].args.Filter | Should -Be 'EwsEnabled -eq 0'
            $reads[0].args.ResultSize | Should -Be 'Unlimited'
            @(Get-FakeExchangeCall 'Set-CASMailbox').Count | Should -Be 0
        }

        It 'switches EWS on for the blocked synchronized mailbox only, with exchange.ews.enableMailboxes (matched by a proxy address too)' {
            $script:Tenant.mailboxes += @{ primary = 'carl@contoso.com'; proxies = @('SMTP:carl@contoso.com'); ewsEnabled = $false }
            $script:Tenant.mailboxes[0].ewsEnabled = $false
            Set-Tenant -AllowedAppIds $script:Dynamics
            $state = Invoke-Exchange -Extra @{ EnableMailboxes = $true; Mailboxes = @('anna.b@contoso.com', 'ben@contoso.com') }
            (Get-Step $state 'mailboxes').status | Should -Be 'changed'
            $sets = @(Get-FakeExchangeCall 'Set-CASMailbox')
            $sets.Count | Should -Be 1
            $sets[0].args.Identity | Should -Be 'anna@contoso.com'
            $sets[0].args.EwsEnabled | Should -BeTrue
            $script:Tenant.mailboxes[2].ewsEnabled | Should -BeFalse
        }
    }

    It 'changes nothing on the second run (idempotent)' {
        Set-Tenant -EwsEnabled $false -AllowedAppIds $script:Other -Policy 'EnforceBlockList' -BlockList @('CRM*')
        $script:Tenant.mailboxes[1].ewsEnabled = $false
        $options = @{ EnableOrganization = $true; EnableMailboxes = $true; UserAgents = @('CRM/9.1') }
        $first = Invoke-Exchange -Extra $options
        $first.changed | Should -BeTrue
        $script:Tenant.calls = @()
        $second = Invoke-Exchange -Extra $options
        $second.changed | Should -BeFalse
        @($second.steps | Where-Object { $_.status -ne 'unchanged' }).Count | Should -Be 0
        @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
        @(Get-FakeExchangeCall 'Set-CASMailbox').Count | Should -Be 0
    }

    It '-WhatIf gives the plan and changes nothing' {
        Set-Tenant -EwsEnabled $false -AllowedAppIds $script:Other
        $script:Tenant.mailboxes[1].ewsEnabled = $false
        $before = ConvertTo-Json -InputObject @($script:Tenant.ewsEnabled, $script:Tenant.allowedAppIds, $script:Tenant.mailboxes) -Depth 10
        $state = Invoke-Exchange -Plan -Extra @{ EnableOrganization = $true; EnableMailboxes = $true }
        Get-Statuses $state | Should -Be @('exchange-module=unchanged', 'sign-in=unchanged', 'read-organization=unchanged', 'ews-enabled=would-change', 'allowed-app-ids=would-change', 'user-agent-policy=unchanged', 'mailboxes=would-change')
        (Get-Step $state 'allowed-app-ids').after | Should -Be @($script:Other, $script:Dynamics)
        ConvertTo-Json -InputObject @($script:Tenant.ewsEnabled, $script:Tenant.allowedAppIds, $script:Tenant.mailboxes) -Depth 10 | Should -Be $before
        @(Get-FakeExchangeCall 'Disconnect-ExchangeOnline').Count | Should -Be 1
    }

    It 'signs in app-only with the access token and the organization, loading only the cmdlets it uses; the token is nowhere in the result' {
        Set-Tenant -AllowedAppIds $script:Other
        $state = Invoke-Exchange -Extra @{ ExchangeEnvironmentName = 'O365USGovGCCHigh' }
        $connect = @(Get-FakeExchangeCall 'Connect-ExchangeOnline')[0].args
        $connect.AccessToken | Should -Be '<token>'
        $connect.Organization | Should -Be 'contoso.onmicrosoft.com'
        $connect.ShowBanner | Should -BeFalse
        $connect.ExchangeEnvironmentName | Should -Be 'O365USGovGCCHigh'
        $connect.CommandName | Should -Be @('Get-OrganizationConfig', 'Set-OrganizationConfig', 'Get-CASMailbox', 'Set-CASMailbox')
        ConvertTo-Json -InputObject $state -Depth 20 | Should -Not -Match ([regex]::Escape($script:Token))
    }

    It 'refuses a token for another resource (a Graph token) and one without Exchange.ManageAsApp, at sign-in' {
        $script:Tenant.acceptedToken = $null
        $script:Token = New-TestToken -Audience 'https://graph.microsoft.com'
        try {
            { Invoke-Exchange } | Should -Throw -ExpectedMessage "*step 'sign-in' failed*not for Exchange Online*"
            $script:Token = New-TestToken -Roles @()
            { Invoke-Exchange } | Should -Throw -ExpectedMessage '*no Exchange.ManageAsApp role*'
        } finally { $script:Token = New-TestToken }
    }

    It 'fails at sign-in with Exchange''s error when the token is refused' {
        $script:Tenant.acceptedToken = 'another-token'
        { Invoke-Exchange } | Should -Throw -ExpectedMessage "*step 'sign-in' failed*UnAuthorized*"
        @(Get-FakeExchangeCall 'Get-OrganizationConfig').Count | Should -Be 0
    }

    Context 'the module' {
        It 'says how to install ExchangeOnlineManagement when it is missing' {
            Remove-Module FakeExchangeOnline -Force
            try {
                Mock -ModuleName D365ExoSync Get-Module { @() } -ParameterFilter { $ListAvailable }
                { Invoke-Exchange } | Should -Throw -ExpectedMessage "*step 'exchange-module' failed*ExchangeOnlineManagement PowerShell module is not installed*Install-Module -Name ExchangeOnlineManagement -MinimumVersion 3.1.0*"
            } finally {
                Import-Module $script:FakeExchange -Force -Global
            }
        }

        It 'refuses a module older than 3.1.0 (no -AccessToken)' {
            Mock -ModuleName D365ExoSync Get-D365ExchangeModule { [pscustomobject]@{ name = 'ExchangeOnlineManagement'; version = '2.0.5' } }
            { Invoke-Exchange } | Should -Throw -ExpectedMessage '*ExchangeOnlineManagement 2.0.5 is too old*3.1.0*'
            @(Get-FakeExchangeCall 'Connect-ExchangeOnline').Count | Should -Be 0
        }

        It 'reports the module it used' {
            Set-Tenant -AllowedAppIds $script:Dynamics
            $state = Invoke-Exchange
            (Get-Step $state 'exchange-module').after.version | Should -Be '3.9.0'
        }
    }
}

Describe 'configure-exchange steps (one advanced function each)' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'StepTestHelpers.ps1')
        Mock -ModuleName D365ExoSync Write-D365Log { }
    }

    BeforeEach {
        Reset-FakeExchange
        $script:Tenant = Get-FakeExchange
        $script:Tenant.acceptedToken = $script:Token
    }

    It 'emits the steps of Steps.json that it runs, in its order and with its titles (read-mailboxes names only a failed read)' {
        $catalogue = @(Get-CatalogueStep 'configure-exchange' | Where-Object { $_.id -ne 'read-mailboxes' })
        $state = Invoke-Exchange -Plan
        @($state.steps | ForEach-Object { $_.id }) | Should -Be @($catalogue | ForEach-Object { $_.id })
        @($state.steps | ForEach-Object { $_.title }) | Should -Be @($catalogue | ForEach-Object { $_.title })
    }

    It '-WhatIf prints a "What if:" line for every change and changes nothing' {
        Set-Tenant -EwsEnabled $false -AllowedAppIds $script:Other -Policy 'EnforceAllowList' -AllowList @('Outlook/*')
        $script:Tenant.mailboxes[1].ewsEnabled = $false
        $before = ConvertTo-Json -InputObject @($script:Tenant.ewsEnabled, $script:Tenant.allowedAppIds, $script:Tenant.allowList, $script:Tenant.mailboxes) -Depth 10
        $run = Invoke-WithWhatIfCapture { Invoke-Exchange -Plan -Extra @{ EnableOrganization = $true; EnableMailboxes = $true; UserAgents = @('CRM/*') } }
        $run.WhatIf | Should -Contain 'What if: Performing the operation "Set-OrganizationConfig -EwsEnabled $true" on target "Exchange Online organization".'
        $run.WhatIf | Should -Contain ('What if: Performing the operation "add to EwsAllowedAppIDs: {0}" on target "Exchange Online organization".' -f $script:Dynamics)
        $run.WhatIf | Should -Contain 'What if: Performing the operation "add to EwsAllowList: CRM/*" on target "Exchange Online organization".'
        @($run.WhatIf | Where-Object { $_ -like '*Set-CASMailbox -EwsEnabled $true*' }).Count | Should -Be 1
        @($run.Result.steps | Where-Object { $_.status -eq 'changed' }).Count | Should -Be 0
        ConvertTo-Json -InputObject @($script:Tenant.ewsEnabled, $script:Tenant.allowedAppIds, $script:Tenant.allowList, $script:Tenant.mailboxes) -Depth 10 | Should -Be $before
        @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
        @(Get-FakeExchangeCall 'Set-CASMailbox').Count | Should -Be 0
    }

    It 'records changes declined at the -Confirm prompt as skipped, not changed, and makes none' {
        Set-Tenant -EwsEnabled $false -AllowedAppIds $script:Other
        Mock -ModuleName D365ExoSync Resolve-D365Change { 'declined' }
        $state = Invoke-Exchange -Extra @{ EnableOrganization = $true }
        $state.changed | Should -BeFalse
        $state.evidence.Contains('effectiveAfter') | Should -BeFalse
        foreach ($id in @('ews-enabled', 'allowed-app-ids')) {
            (Get-Step $state $id).status | Should -Be 'skipped'
            (Get-Step $state $id).message | Should -Match 'declined'
        }
        @(Get-FakeExchangeCall 'Set-OrganizationConfig').Count | Should -Be 0
    }

    It 'fails step <step> with error id <errorId>' -ForEach @(
        @{ step = 'exchange-module'; errorId = 'ExchangeAppIdInvalid'; category = 'InvalidArgument'; extra = @{ AppIds = @('Dynamics CRM') } }
        @{ step = 'exchange-module'; errorId = 'ExchangeModuleTooOld'; category = 'NotInstalled'; arrange = { Mock -ModuleName D365ExoSync Get-D365ExchangeModule { [pscustomobject]@{ name = 'ExchangeOnlineManagement'; version = '2.0.5' } } } }
        @{ step = 'sign-in'; errorId = 'ExchangeSignInFailed'; arrange = { $script:Tenant.acceptedToken = 'another-token' } }
        @{ step = 'ews-enabled'; errorId = 'ExchangeEwsEnableNotAllowed'; category = 'PermissionDenied'; arrange = { Set-Tenant -EwsEnabled $null -AllowedAppIds $script:Other } }
        @{ step = 'user-agent-policy'; errorId = 'ExchangeUserAgentPolicyUnknown'; category = 'InvalidData'; arrange = { Set-Tenant -Policy 'EnforceSomethingElse' }; extra = @{ UserAgents = @('CRM/*') } }
    ) {
        if ($arrange) { & $arrange }
        $arguments = @{}
        if ($extra) { $arguments = $extra }
        Assert-StepFailure -Run { Invoke-Exchange -Extra $arguments } -Step $step -ErrorId $errorId -Category $category
    }
}

Describe 'configure-exchange cmdlet signatures (from the Exchange Online cmdlet help pages)' {
    BeforeAll {
        # The same table the Windows PowerShell 5.1 check reads: command -> { page, parameters { name: [aliases] } }.
        $table = (Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot 'compat/signatures/ExchangeOnlineManagement.json') | ConvertFrom-Json).commands
        $byName = [ordered]@{}
        foreach ($entry in $table.PSObject.Properties) { $byName[$entry.Name] = @($entry.Value.parameters.PSObject.Properties.Name) }
        $script:Signatures = [pscustomobject]$byName
        $script:Common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    }

    It 'the fake has only documented parameters' {
        foreach ($property in $script:Signatures.PSObject.Properties) {
            $command = Get-Command -Module FakeExchangeOnline -Name $property.Name
            foreach ($name in $command.Parameters.Keys) {
                if ($script:Common -contains $name) { continue }
                "$($property.Name) -$name" | Should -BeIn @($property.Value | ForEach-Object { "$($property.Name) -$_" })
            }
        }
    }

    It 'the module calls the Exchange Online cmdlets only with documented parameters' {
        $files = @('Public/Set-D365ExoSyncExchangeConfiguration.ps1', 'Private/Exchange.ps1', 'Private/ExchangeSteps.ps1') | ForEach-Object { Join-Path $script:RepoRoot "powershell/D365ExoSync/$_" }
        $used = 0
        foreach ($file in $files) {
            $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref]$null, [ref]$null)
            foreach ($call in $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                $name = $call.GetCommandName()
                if (-not $name -or -not $script:Signatures.PSObject.Properties[$name]) { continue }
                $documented = @($script:Signatures.$name) + @('ErrorAction', 'WarningAction')
                foreach ($parameter in @($call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] })) {
                    "$name -$($parameter.ParameterName)" | Should -BeIn @($documented | ForEach-Object { "$name -$_" })
                    $used++
                }
            }
        }
        $used | Should -BeGreaterThan 8
    }
}
