BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-D365WithFakes
    $script:New = New-TestPfx -Subject 'CN=crm.contoso.com, O=Contoso'
    $script:Old = New-TestPfx -Subject 'CN=crm.contoso.com, O=Contoso' -Days 20
    $script:Readers = @('CONTOSO\svc-crm-async', 'CONTOSO\svc-crm-web')
    function Invoke-Install {
        param([hashtable] $Extra = @{}, [switch] $Plan)
        $arguments = @{ Thumbprint = $script:New.Thumbprint; PfxPath = $script:New.Path; PfxPassword = (ConvertTo-TestSecure $script:New.Password); KeyReaders = $script:Readers }
        foreach ($key in $Extra.Keys) { $arguments[$key] = $Extra[$key] }
        if ($Plan) { $arguments['WhatIf'] = $true }
        return Install-D365ExoSyncCertificate @arguments
    }
    function Get-Step { param($State, [string] $Id) @($State.steps | Where-Object { $_.id -eq $Id })[0] }
}

Describe 'install-certificate' {
    BeforeAll {
        Mock -ModuleName D365ExoSync Write-D365Log { }
    }

    BeforeEach {
        Reset-FakeWindows
        $fake = Get-FakeWindows
        Add-FakeStoreCertificate -Thumbprint $script:Old.Thumbprint -Subject $script:Old.Subject -Rules @(@{ sid = 'S-1-5-18'; rights = 268435456; type = 'Allow' }, @{ sid = 'S-1-5-21-1004336348-1177238915-682003330-1101'; rights = 2147483648; type = 'Allow' })
    }

    It 'imports the PFX in-process (probe, then persisted), grants Read, rebinds IIS, removes the older certificate and restarts the services' {
        (Get-FakeWindows).webBindings[0].certificateHash = $script:Old.Thumbprint
        $state = Invoke-Install -Extra @{ IisBinding = @{ site = 'Microsoft Dynamics CRM'; port = 443 } }
        $state.ok | Should -BeTrue
        $state.changed | Should -BeTrue
        @($state.steps | ForEach-Object { "$($_.id)=$($_.status)" }) | Should -Be @('certificate=changed', 'chain=unchanged', 'key-access=changed', 'iis-binding=changed', 'remove-older=changed', 'restart-services=changed')

        $reads = @(Get-FakeCall 'Read-D365PfxCertificate')
        $reads.Count | Should -Be 2
        $reads[0].args.Persist | Should -BeFalse
        $reads[1].args.Persist | Should -BeTrue
        @(Get-FakeCall 'Add-D365MachineCertificate').Count | Should -Be 1

        $fake = Get-FakeWindows
        $entry = @($fake.store | Where-Object { $_.thumbprint -eq $script:New.Thumbprint })[0]
        @($entry.rules | ForEach-Object { $_.sid }) | Should -Contain 'S-1-5-21-1004336348-1177238915-682003330-1101'
        @($entry.rules | ForEach-Object { $_.sid }) | Should -Contain 'S-1-5-21-1004336348-1177238915-682003330-1102'
        @($fake.store | Where-Object { $_.thumbprint -eq $script:Old.Thumbprint }).Count | Should -Be 0
        $state.evidence.removedThumbprints | Should -Be @($script:Old.Thumbprint)
        $fake.webBindings[0].certificateHash | Should -Be $script:New.Thumbprint
        @(Get-FakeCall 'WebBinding.RemoveSslCertificate').Count | Should -Be 1
        @(Get-FakeCall 'WebBinding.AddSslCertificate')[0].args.storeName | Should -Be 'My'

        $restarted = @(Get-FakeCall 'Restart-Service' | ForEach-Object { $_.args.Name })
        $restarted | Should -Be @('MSCRMAsyncService', 'MSCRMAsyncService$maintenance')
        @(Get-FakeCall 'Restart-Service')[0].args.Force | Should -BeTrue
        @(Get-FakeCall 'Restart-WebAppPool')[0].args.Name | Should -Be @('CRMAppPool')
        (Get-Step $state 'restart-services').evidence | Where-Object { $_.name -eq 'MSCRMSandboxService' } | ForEach-Object { $_.action } | Should -Be 'not-installed'
    }

    It 'changes nothing on the second run (idempotent)' {
        $null = Invoke-Install -Extra @{ IisBinding = @{ site = 'Microsoft Dynamics CRM' } }
        $before = @((Get-FakeWindows).calls).Count
        $state = Invoke-Install -Extra @{ IisBinding = @{ site = 'Microsoft Dynamics CRM' } }
        $state.changed | Should -BeFalse
        @($state.steps | Where-Object { $_.status -eq 'changed' }).Count | Should -Be 0
        (Get-Step $state 'restart-services').status | Should -Be 'skipped'
        $calls = @((Get-FakeWindows).calls)[$before..(@((Get-FakeWindows).calls).Count - 1)] | ForEach-Object { $_.name }
        $calls | Should -Not -Contain 'Read-D365PfxCertificate'
        $calls | Should -Not -Contain 'Grant-D365PrivateKeyRead'
        $calls | Should -Not -Contain 'Restart-Service'
        $calls | Should -Not -Contain 'WebBinding.AddSslCertificate'
    }

    It '-WhatIf gives the plan with before/after and changes nothing' {
        (Get-FakeWindows).webBindings[0].certificateHash = $script:Old.Thumbprint
        $snapshot = ConvertTo-Json -InputObject (Get-FakeWindows).store -Depth 10
        $state = Invoke-Install -Plan -Extra @{ Subject = $script:New.Subject; IisBinding = @{ site = 'Microsoft Dynamics CRM' } }
        $state.mode | Should -Be 'plan'
        $state.changed | Should -BeFalse
        @($state.steps | ForEach-Object { "$($_.id)=$($_.status)" }) | Should -Be @('certificate=would-change', 'chain=unchanged', 'key-access=would-change', 'iis-binding=would-change', 'remove-older=would-change', 'restart-services=would-change')
        (Get-Step $state 'certificate').before.present | Should -BeFalse
        (Get-Step $state 'certificate').after.key.keySpec | Should -Be 'Exchange'
        (Get-Step $state 'iis-binding').before | Should -Be @($script:Old.Thumbprint)
        (Get-Step $state 'remove-older').before[0].thumbprint | Should -Be $script:Old.Thumbprint
        ConvertTo-Json -InputObject (Get-FakeWindows).store -Depth 10 | Should -Be $snapshot
        @(Get-FakeCall 'Read-D365PfxCertificate').Count | Should -Be 0
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
        @(Get-FakeCall 'Restart-WebAppPool').Count | Should -Be 0
        (Get-FakeWindows).webBindings[0].certificateHash | Should -Be $script:Old.Thumbprint
    }

    It 'fails clearly when the PFX key lands in a CNG provider, quoting the field error, and removes the certificate and its key file again' {
        (Get-FakeWindows).pfxKey = @{ provider = 'Microsoft Software Key Storage Provider'; providerType = 0; keyNumber = 'None' }
        $failure = { Invoke-Install } | Should -Throw -PassThru
        $failure.Exception.Data['D365Step'] | Should -Be 'certificate'
        $failure.Exception.Message | Should -Match 'Invalid provider type specified'
        $failure.Exception.Message | Should -Match 'ProviderType 0'
        $failure.Exception.Message | Should -Match ([regex]::Escape([System.Environment]::MachineName))
        $failure.Exception.Message | Should -Match 'it was not there before'
        @((Get-FakeWindows).store | Where-Object { $_.thumbprint -eq $script:New.Thumbprint }).Count | Should -Be 0
        # The bad import's key file is gone too: only the older certificate's key is left.
        @((Get-FakeWindows).machineKeys) | Should -Be @(@((Get-FakeWindows).store)[0].keyFile)
        @(Get-FakeCall 'Remove-D365KeyFile')[0].args.Path | Should -BeLike 'C:\ProgramData\Microsoft\Crypto\Keys\*'
        @((Get-FakeWindows).store | Where-Object { $_.thumbprint -eq $script:Old.Thumbprint }).Count | Should -Be 1
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
        $last = Get-D365ExoSyncLastState
        $last.ok | Should -BeFalse
        (Get-Step $last 'certificate').status | Should -Be 'failed'
    }

    It 'fails clearly on a KeySpec 2 (AT_SIGNATURE) key, quoting the exchange KeySpec error' {
        (Get-FakeWindows).pfxKey = @{ provider = 'Microsoft Enhanced RSA and AES Cryptographic Provider'; providerType = 24; keyNumber = 'Signature' }
        { Invoke-Install } | Should -Throw -ExpectedMessage '*The private key does not support the exchange KeySpec.*'
    }

    It 're-imports over the installed copy when it has a CNG key: never a moment without the certificate, and the replaced key file deleted' {
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject -Provider 'Microsoft Software Key Storage Provider' -ProviderType 0 -KeyNumber 'None'
        $badKey = (Get-FakeWindows).store[-1].keyFile
        $state = Invoke-Install
        $step = Get-Step $state 'certificate'
        $step.status | Should -Be 'changed'
        $step.before.problem | Should -Match 'CNG'
        $step.after.key.providerType | Should -Be 24
        # In place: the certificate with this thumbprint is never removed from LocalMachine\My.
        @(Get-FakeCall 'Remove-D365MachineCertificate' | Where-Object { $_.args.Thumbprint -eq $script:New.Thumbprint }).Count | Should -Be 0
        @(Get-FakeCall 'Remove-D365KeyFile' | ForEach-Object { $_.args.Path }) | Should -Contain $badKey
        $entry = @((Get-FakeWindows).store | Where-Object { $_.thumbprint -eq $script:New.Thumbprint })[0]
        (Get-FakeWindows).machineKeys | Should -Contain $entry.keyFile
        (Get-FakeWindows).machineKeys | Should -Not -Contain $badKey
    }

    It 'falls back to remove-then-add when the store keeps the old key link, and deletes the old key file' {
        (Get-FakeWindows).addKeepsKeyLink = $true
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject -Provider 'Microsoft Software Key Storage Provider' -ProviderType 0 -KeyNumber 'None'
        $badKey = (Get-FakeWindows).store[-1].keyFile
        $state = Invoke-Install
        (Get-Step $state 'certificate').status | Should -Be 'changed'
        (Get-Step $state 'certificate').after.key.providerType | Should -Be 24
        @(Get-FakeCall 'Remove-D365MachineCertificate' | Where-Object { $_.args.Thumbprint -eq $script:New.Thumbprint }).Count | Should -Be 1
        (Get-FakeWindows).machineKeys | Should -Not -Contain $badKey
    }

    It 'puts the previous copy back when the new import is bad too, and fails' {
        # The installed copy lost its key file ("Keyset does not exist"); the PFX's key lands in CNG.
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject
        $previous = (Get-FakeWindows).store[-1]
        (Get-FakeWindows).machineKeys = @((Get-FakeWindows).machineKeys | Where-Object { $_ -ne $previous.keyFile })
        (Get-FakeWindows).pfxKey = @{ provider = 'Microsoft Software Key Storage Provider'; providerType = 0; keyNumber = 'None' }
        $plan = Invoke-Install -Plan
        (Get-Step $plan 'certificate').before.problem | Should -Match 'Keyset does not exist'
        (Get-Step $plan 'certificate').message | Should -Match 'replaced in place'
        { Invoke-Install } | Should -Throw -ExpectedMessage '*held by a CNG key storage provider*The previous copy was put back.*'
        $entry = @((Get-FakeWindows).store | Where-Object { $_.thumbprint -eq $script:New.Thumbprint })
        $entry.Count | Should -Be 1
        $entry[0].uniqueName | Should -Be $previous.uniqueName
        @(Get-FakeCall 'Remove-D365MachineCertificate').Count | Should -Be 0
        @(Get-FakeCall 'Add-D365MachineCertificate' | ForEach-Object { $_.args.Restore }) | Should -Be @($false, $true)
        @((Get-FakeWindows).machineKeys | Where-Object { $_ -like '*\Crypto\Keys\*' }).Count | Should -Be 0
    }

    It 'deletes the key files of the older certificates it removes, and only those' {
        $olderKey = (Get-FakeWindows).store[0].keyFile
        Add-FakeStoreCertificate -Thumbprint ('CD' * 20) -Subject 'CN=other.contoso.com'
        $otherKey = (Get-FakeWindows).store[-1].keyFile
        $state = Invoke-Install
        (Get-Step $state 'remove-older').evidence.keyFiles | Should -Be @($olderKey)
        @(Get-FakeCall 'Remove-D365KeyFile' | ForEach-Object { $_.args.Path }) | Should -Be @($olderKey)
        $newKey = @((Get-FakeWindows).store | Where-Object { $_.thumbprint -eq $script:New.Thumbprint })[0].keyFile
        @((Get-FakeWindows).machineKeys | Sort-Object) | Should -Be @(@($newKey, $otherKey) | Sort-Object)
    }

    It 'puts the PFX intermediates into LocalMachine\CA, never its root, once' {
        $chain = New-TestChainPfx
        $arguments = @{ Thumbprint = $chain.Thumbprint; PfxBytes = [System.IO.File]::ReadAllBytes($chain.Path); PfxPassword = (ConvertTo-TestSecure $chain.Password); KeyReaders = $script:Readers; RemoveSameSubject = $false }
        $plan = Install-D365ExoSyncCertificate @arguments -WhatIf
        (Get-Step $plan 'chain').status | Should -Be 'would-change'
        @((Get-FakeWindows).caStore).Count | Should -Be 0
        $state = Install-D365ExoSyncCertificate @arguments
        (Get-Step $state 'chain').status | Should -Be 'changed'
        @((Get-FakeWindows).caStore | ForEach-Object { $_.thumbprint }) | Should -Be @($chain.IntermediateThumbprint)
        $again = Install-D365ExoSyncCertificate @arguments
        (Get-Step $again 'chain').status | Should -Be 'unchanged'
        @(Get-FakeCall 'Read-D365PfxCertificate' | Where-Object { -not $_.args.FromBytes }).Count | Should -Be 0
    }

    It 'stops before anything when the process is not elevated, saying what to do' {
        (Get-FakeWindows).elevated = $false
        { Invoke-Install -Plan } | Should -Throw -ExpectedMessage '*without administrator rights*local Administrators group*'
        @(Get-FakeCall 'Get-D365MachineCertificate').Count | Should -Be 0
    }

    It 'names a missing key file and an access-denied key apart from CNG' {
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject -KeyError 'access-denied'
        (Get-Step (Invoke-Install -Plan) 'certificate').before.problem | Should -Match 'cannot be opened by this account \(access denied'
        (Get-FakeWindows).machineKeys = @()
        $problem = (Get-Step (Invoke-Install -Plan) 'certificate').before.problem
        $problem | Should -Match 'is missing'
        $problem | Should -Not -Match 'CNG'
    }

    It 'repairs a lost ACL when the certificate is already there and counts an existing GENERIC_READ grant as present' {
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject -Rules @(@{ sid = 'S-1-5-18'; rights = 268435456; type = 'Allow' }, @{ sid = 'S-1-5-21-1004336348-1177238915-682003330-1102'; rights = -2146435072; type = 'Allow' })
        $state = Invoke-Install
        (Get-Step $state 'certificate').status | Should -Be 'unchanged'
        $access = Get-Step $state 'key-access'
        $access.status | Should -Be 'changed'
        $access.before['CONTOSO\svc-crm-web'] | Should -Be 'allowed'
        $access.before['CONTOSO\svc-crm-async'] | Should -Be 'missing'
        @(Get-FakeCall 'Grant-D365PrivateKeyRead' | ForEach-Object { $_.args.Sid }) | Should -Be @('S-1-5-21-1004336348-1177238915-682003330-1101')
        @(Get-FakeCall 'Read-D365PfxCertificate').Count | Should -Be 0
    }

    It 'also grants the account a D365 service runs as, when it is not in keyReaders' {
        (Get-FakeWindows).services[0].startName = 'NT AUTHORITY\NETWORK SERVICE'
        $state = Invoke-Install -Extra @{ KeyReaders = @('CONTOSO\svc-crm-web') }
        (Get-Step $state 'key-access').after.Keys | Should -Contain 'NT AUTHORITY\NETWORK SERVICE'
        @(Get-FakeCall 'Grant-D365PrivateKeyRead' | ForEach-Object { $_.args.Sid }) | Should -Contain 'S-1-5-20'
        @(Get-FakeCall 'Get-CimInstance')[0].args.Filter | Should -Be "Name='MSCRMAsyncService'"
        @(Get-FakeCall 'Get-CimInstance' | ForEach-Object { $_.args.Filter }) | Should -Contain "Name='MSCRMAsyncService`$maintenance'"
    }

    It 'maps the service accounts Windows cannot look up by name to their well-known SIDs, and .\ to this computer' {
        # As on Windows, NTAccount.Translate does not know these names:
        { & (Get-Module D365ExoSync) { ConvertTo-D365Sid -Account 'NT AUTHORITY\NetworkService' } } | Should -Throw -ExceptionType ([System.Security.Principal.IdentityNotMappedException])
        { & (Get-Module D365ExoSync) { ConvertTo-D365Sid -Account 'LocalSystem' } } | Should -Throw -ExceptionType ([System.Security.Principal.IdentityNotMappedException])
        { & (Get-Module D365ExoSync) { ConvertTo-D365Sid -Account '.\crmlocal' } } | Should -Throw -ExceptionType ([System.Security.Principal.IdentityNotMappedException])
        (Get-FakeWindows).accounts[[System.Environment]::MachineName + '\crmlocal'] = 'S-1-5-21-3623811015-3361044348-30300820-1013'
        (Get-FakeWindows).services[0].startName = 'NT AUTHORITY\NetworkService'
        (Get-FakeWindows).services[1].startName = 'LocalSystem'
        (Get-FakeWindows).services += @{ name = 'MSCRMSandboxService'; status = 'Running'; startType = 'Automatic'; startName = 'NT AUTHORITY\LocalService' }
        $state = Invoke-Install -Extra @{ KeyReaders = @('.\crmlocal', 'CONTOSO\gmsa-crm$') }
        $state.evidence.accounts['NT AUTHORITY\NetworkService'] | Should -Be 'S-1-5-20'
        $state.evidence.accounts['LocalSystem'] | Should -Be 'S-1-5-18'
        $state.evidence.accounts['NT AUTHORITY\LocalService'] | Should -Be 'S-1-5-19'
        $state.evidence.accounts['.\crmlocal'] | Should -Be 'S-1-5-21-3623811015-3361044348-30300820-1013'
        $state.evidence.accounts['CONTOSO\gmsa-crm$'] | Should -Be 'S-1-5-21-1004336348-1177238915-682003330-1201'
        @(Get-FakeCall 'ConvertTo-D365Sid' | ForEach-Object { $_.args.Account }) | Should -Contain ([System.Environment]::MachineName + '\crmlocal')
        $grants = @(Get-FakeCall 'Grant-D365PrivateKeyRead' | ForEach-Object { $_.args.Sid })
        $grants | Should -Contain 'S-1-5-20'
        $grants | Should -Contain 'S-1-5-19'
        $grants | Should -Not -Contain 'S-1-5-18'   # SYSTEM already has full control on machine keys
    }

    It 'names the account it cannot resolve, in plan, before anything changes' {
        { Invoke-Install -Plan -Extra @{ KeyReaders = @('CONTOSO\nobody') } } | Should -Throw -ExpectedMessage "*'CONTOSO\nobody' cannot be resolved*Nothing was changed*"
        { Invoke-Install -Extra @{ KeyReaders = @('CONTOSO\nobody') } } | Should -Throw -ExpectedMessage "*'CONTOSO\nobody' cannot be resolved*"
        @(Get-FakeCall 'Read-D365PfxCertificate').Count | Should -Be 0
        @(Get-FakeCall 'Add-D365MachineCertificate').Count | Should -Be 0
        @((Get-FakeWindows).store).Count | Should -Be 1
    }

    It 'refuses a Deny rule on the key instead of adding a useless Allow' {
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject -Rules @(@{ sid = 'S-1-5-21-1004336348-1177238915-682003330-1101'; rights = 2147483648; type = 'Deny' })
        { Invoke-Install } | Should -Throw -ExpectedMessage "*Deny rule for 'CONTOSO\svc-crm-async'*"
    }

    It 'fails when the PFX holds another certificate than the expected thumbprint, before anything is persisted' {
        { Invoke-Install -Extra @{ Thumbprint = ('AB' * 20) } } | Should -Throw -ExpectedMessage '*the PFX holds certificate*'
        @(Get-FakeCall 'Read-D365PfxCertificate' | Where-Object { $_.args.Persist }).Count | Should -Be 0
    }

    It 'fails when an import is due but no password was passed' {
        { Install-D365ExoSyncCertificate -Thumbprint $script:New.Thumbprint -PfxPath $script:New.Path } | Should -Throw -ExpectedMessage '*password was not passed*'
    }

    It 'refuses to remove an older certificate that another https binding still uses' {
        (Get-FakeWindows).webBindings += @{ site = 'Other'; protocol = 'https'; port = 8443; hostHeader = ''; certificateHash = $script:Old.Thumbprint; certificateStoreName = 'My' }
        { Invoke-Install -Extra @{ IisBinding = @{ site = 'Microsoft Dynamics CRM' } } } | Should -Throw -ExpectedMessage '*still bound*'
        @((Get-FakeWindows).store | Where-Object { $_.thumbprint -eq $script:Old.Thumbprint }).Count | Should -Be 1
    }

    It 'keeps older certificates when removeSameSubject is off, and never restarts with restart=never' {
        $state = Invoke-Install -Extra @{ RemoveSameSubject = $false; Restart = 'never' }
        (Get-Step $state 'remove-older').status | Should -Be 'skipped'
        (Get-Step $state 'restart-services').status | Should -Be 'skipped'
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
        @((Get-FakeWindows).store).Count | Should -Be 2
    }

    It 'starts an Automatic service a failed run left stopped, on a rerun where nothing else changed' {
        $null = Invoke-Install
        (Get-FakeWindows).services[0].status = 'Stopped'
        (Get-FakeWindows).calls = @()
        $plan = Invoke-Install -Plan
        (Get-Step $plan 'restart-services').status | Should -Be 'would-change'
        @((Get-Step $plan 'restart-services').evidence | Where-Object { $_.name -eq 'MSCRMAsyncService' })[0].action | Should -Be 'would-start'
        $state = Invoke-Install
        $step = Get-Step $state 'restart-services'
        $step.status | Should -Be 'changed'
        @($step.evidence | Where-Object { $_.name -eq 'MSCRMAsyncService' })[0].action | Should -Be 'started'
        @(Get-FakeCall 'Start-Service' | ForEach-Object { $_.args.Name }) | Should -Be @('MSCRMAsyncService')
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
        (Get-FakeWindows).services[0].status | Should -Be 'Running'
        (Get-Step (Invoke-Install) 'restart-services').status | Should -Be 'skipped'
    }

    It 'fails when a stopped Automatic service does not start' {
        $null = Invoke-Install
        (Get-FakeWindows).services[0].status = 'Stopped'
        (Get-FakeWindows).services[0].failStart = $true
        { Invoke-Install } | Should -Throw -ExpectedMessage '*MSCRMAsyncService*'
    }

    It 'restarts with restart=always although nothing changed, and leaves a stopped Manual service stopped' {
        $null = Invoke-Install
        (Get-FakeWindows).calls = @()
        (Get-FakeWindows).services[1].status = 'Stopped'
        (Get-FakeWindows).services[1].startType = 'Manual'
        $state = Invoke-Install -Extra @{ Restart = 'always' }
        $step = Get-Step $state 'restart-services'
        $step.status | Should -Be 'changed'
        @($step.evidence | Where-Object { $_.name -eq 'MSCRMAsyncService$maintenance' })[0].action | Should -Be 'left-stopped'
        @(Get-FakeCall 'Restart-Service' | ForEach-Object { $_.args.Name }) | Should -Not -Contain 'MSCRMAsyncService$maintenance'
    }

    It 'fails when a service does not come back after the restart' {
        (Get-FakeWindows).services[0].failRestart = $true
        { Invoke-Install } | Should -Throw -ExpectedMessage '*MSCRMAsyncService did not come back*'
        (Get-D365ExoSyncLastState).ok | Should -BeFalse
    }

    It 'fails when the site has no https binding' {
        { Invoke-Install -Extra @{ IisBinding = @{ site = 'Microsoft Dynamics CRM'; port = 444 } } } | Should -Throw -ExpectedMessage "*has no https binding on port 444*"
    }
}

Describe 'install-certificate steps (one advanced function each)' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'StepTestHelpers.ps1')
        Mock -ModuleName D365ExoSync Write-D365Log { }
    }

    BeforeEach {
        Reset-FakeWindows
        Add-FakeStoreCertificate -Thumbprint $script:Old.Thumbprint -Subject $script:Old.Subject -Rules @(@{ sid = 'S-1-5-18'; rights = 268435456; type = 'Allow' })
    }

    It 'emits the steps of Steps.json, in its order and with its titles' {
        $catalogue = Get-CatalogueStep 'install-certificate'
        $state = Invoke-Install -Plan
        @($state.steps | ForEach-Object { $_.id }) | Should -Be @($catalogue | ForEach-Object { $_.id })
        @($state.steps | ForEach-Object { $_.title }) | Should -Be @($catalogue | ForEach-Object { $_.title })
    }

    It '-WhatIf prints a "What if:" line for every change and changes nothing' {
        (Get-FakeWindows).webBindings[0].certificateHash = $script:Old.Thumbprint
        $before = ConvertTo-Json -InputObject @((Get-FakeWindows).store, (Get-FakeWindows).webBindings, (Get-FakeWindows).machineKeys) -Depth 10
        # The subject, as the TypeScript side passes it in a plan (the new certificate is not in the store yet).
        $run = Invoke-WithWhatIfCapture { Invoke-Install -Plan -Extra @{ IisBinding = @{ site = 'Microsoft Dynamics CRM' }; Subject = $script:New.Subject } }
        $run.WhatIf | Should -Contain ('What if: Performing the operation "import certificate {0}" on target "LocalMachine\My".' -f $script:New.Thumbprint)
        $run.WhatIf | Should -Contain ('What if: Performing the operation "bind certificate {0}" on target "IIS site Microsoft Dynamics CRM".' -f $script:New.Thumbprint)
        $run.WhatIf | Should -Contain ('What if: Performing the operation "remove {0}" on target "LocalMachine\My".' -f $script:Old.Thumbprint)
        @($run.WhatIf | Where-Object { $_ -like '*grant Read to CONTOSO\svc-crm-async, CONTOSO\svc-crm-web*' }).Count | Should -Be 1
        @($run.Result.steps | Where-Object { $_.status -eq 'changed' }).Count | Should -Be 0
        ConvertTo-Json -InputObject @((Get-FakeWindows).store, (Get-FakeWindows).webBindings, (Get-FakeWindows).machineKeys) -Depth 10 | Should -Be $before
        @(Get-FakeCall 'Read-D365PfxCertificate' | Where-Object { $_.args.Persist }).Count | Should -Be 0
    }

    It 'records changes declined at the -Confirm prompt as skipped, not changed, and makes none' {
        Mock -ModuleName D365ExoSync Resolve-D365Change { 'declined' }
        $state = Invoke-Install -Extra @{ Subject = $script:New.Subject }
        $state.changed | Should -BeFalse
        foreach ($id in @('certificate', 'key-access', 'remove-older')) {
            (Get-Step $state $id).status | Should -Be 'skipped'
            (Get-Step $state $id).message | Should -Match 'declined'
        }
        @((Get-FakeWindows).store | Where-Object { $_.thumbprint -eq $script:New.Thumbprint }).Count | Should -Be 0
        @((Get-FakeWindows).store | Where-Object { $_.thumbprint -eq $script:Old.Thumbprint }).Count | Should -Be 1
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
    }

    It 'fails step <step> with error id <errorId> and category <category>' -ForEach @(
        @{ step = 'elevation'; errorId = 'NotElevated'; category = 'PermissionDenied'; arrange = { (Get-FakeWindows).elevated = $false } }
        @{ step = 'key-access'; errorId = 'KeyReaderNotResolvable'; category = 'ObjectNotFound'; extra = @{ KeyReaders = @('CONTOSO\nobody') } }
        @{ step = 'certificate'; errorId = 'CertificatePfxMismatch'; category = 'InvalidData'; extra = @{ Thumbprint = ('AB' * 20) } }
        @{ step = 'certificate'; errorId = 'CertificatePfxPasswordMissing'; category = 'InvalidArgument'; extra = @{ PfxPassword = $null } }
        @{ step = 'certificate'; errorId = 'CertificateKeyProblem'; category = 'InvalidData'; arrange = { (Get-FakeWindows).pfxKey = @{ provider = 'Microsoft Software Key Storage Provider'; providerType = 0; keyNumber = 'None' } } }
        @{ step = 'key-access'; errorId = 'KeyAccessDenied'; category = 'PermissionDenied'; arrange = { Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject -Rules @(@{ sid = 'S-1-5-21-1004336348-1177238915-682003330-1101'; rights = 2147483648; type = 'Deny' }) } }
        @{ step = 'iis-binding'; errorId = 'IisBindingNotFound'; category = 'ObjectNotFound'; extra = @{ IisBinding = @{ site = 'Microsoft Dynamics CRM'; port = 444 } } }
        @{ step = 'remove-older'; errorId = 'OlderCertificateStillBound'; category = 'ResourceBusy'; arrange = { (Get-FakeWindows).webBindings += @{ site = 'Other'; protocol = 'https'; port = 8443; hostHeader = ''; certificateHash = $script:Old.Thumbprint; certificateStoreName = 'My' } }; extra = @{ IisBinding = @{ site = 'Microsoft Dynamics CRM' } } }
        @{ step = 'restart-services'; errorId = 'ServiceNotRunning'; category = 'ResourceUnavailable'; arrange = { (Get-FakeWindows).services[0].failRestart = $true } }
    ) {
        if ($arrange) { & $arrange }
        $arguments = @{}
        if ($extra) { $arguments = $extra }
        Assert-StepFailure -Run { Invoke-Install -Extra $arguments } -Step $step -ErrorId $errorId -Category $category
    }
}
