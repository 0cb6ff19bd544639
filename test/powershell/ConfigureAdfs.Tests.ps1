BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-D365WithFakes
    $script:OrgId = '7d5e2c11-8f3a-4b6e-9c0d-1a2b3c4d5e6f'
    $script:Url = 'https://contoso.contoso.com'
    $script:Redirect = 'https://contoso.contoso.com/crmmailapp/code_auth.aspx'
    $script:Cert = 'C0FFEE00C0FFEE00C0FFEE00C0FFEE00C0FFEE00'
    function Invoke-Adfs {
        param([hashtable] $Extra = @{}, [switch] $Plan)
        $arguments = @{ OrganizationUrl = $script:Url + '/'; OrganizationId = $script:OrgId }
        foreach ($key in $Extra.Keys) { $arguments[$key] = $Extra[$key] }
        if ($Plan) { $arguments['WhatIf'] = $true }
        return Set-D365ExoSyncAdfsConfiguration @arguments
    }
    function Get-Step { param($State, [string] $Id) @($State.steps | Where-Object { $_.id -eq $Id })[0] }
}

Describe 'configure-adfs' {
    BeforeAll {
        Mock -ModuleName D365ExoSync Write-D365Log { }
    }

    BeforeEach {
        Reset-FakeWindows
    }

    It 'adds forms authentication to the intranet list (keeping Windows authentication), registers the App for Outlook client and grants the permission' {
        $state = Invoke-Adfs
        $state.ok | Should -BeTrue
        @($state.steps | ForEach-Object { "$($_.id)=$($_.status)" }) | Should -Be @('adfs-module=unchanged', 'forms-authentication=changed', 'outlook-client=changed', 'application-permission=changed', 'adfs-certificate=skipped', 'relying-party-trusts=skipped', 'restart-services=changed')
        $policy = @(Get-FakeCall 'Set-AdfsGlobalAuthenticationPolicy')[0].args
        $policy.PrimaryIntranetAuthenticationProvider | Should -Be @('WindowsAuthentication', 'FormsAuthentication')
        $policy.Keys | Should -Not -Contain 'PrimaryExtranetAuthenticationProvider'
        $client = @(Get-FakeCall 'Add-AdfsClient')[0].args
        $client.ClientId | Should -Be $script:OrgId
        $client.RedirectUri | Should -Be @($script:Redirect)
        $client.Name | Should -Be 'Dynamics 365 App for Outlook'
        $grant = @(Get-FakeCall 'Grant-AdfsApplicationPermission')[0].args
        $grant.ClientRoleIdentifier | Should -Be $script:OrgId
        $grant.ServerRoleIdentifier | Should -Be 'https://auth.contoso.com:444/'
        @(Get-FakeCall 'Restart-Service')[0].args.Name | Should -Be @('adfssrv')
    }

    It 'changes nothing on the second run (idempotent)' {
        $null = Invoke-Adfs
        (Get-FakeWindows).calls = @()
        $state = Invoke-Adfs
        $state.changed | Should -BeFalse
        foreach ($name in 'Set-AdfsGlobalAuthenticationPolicy', 'Add-AdfsClient', 'Set-AdfsClient', 'Grant-AdfsApplicationPermission', 'Restart-Service') { @(Get-FakeCall $name).Count | Should -Be 0 }
    }

    It '-WhatIf gives the plan and changes nothing' {
        $before = ConvertTo-Json -InputObject (Get-FakeWindows).adfs -Depth 10
        $state = Invoke-Adfs -Plan
        (Get-Step $state 'outlook-client').status | Should -Be 'would-change'
        (Get-Step $state 'outlook-client').after.redirectUri | Should -Be @($script:Redirect)
        (Get-Step $state 'forms-authentication').after.intranet | Should -Be @('WindowsAuthentication', 'FormsAuthentication')
        (Get-Step $state 'restart-services').status | Should -Be 'would-change'
        ConvertTo-Json -InputObject (Get-FakeWindows).adfs -Depth 10 | Should -Be $before
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
    }

    It 'updates an existing client with other values instead of failing: merges the redirect URIs, renames, enables' {
        (Get-FakeWindows).adfs.clients = @(@{ clientId = $script:OrgId; name = 'Outlook app'; redirectUri = @('https://old.contoso.com/crmmailapp/code_auth.aspx'); enabled = $false; clientType = 'Public' })
        $state = Invoke-Adfs
        (Get-Step $state 'outlook-client').status | Should -Be 'changed'
        @(Get-FakeCall 'Add-AdfsClient').Count | Should -Be 0
        $set = @(Get-FakeCall 'Set-AdfsClient')[0].args
        $set.TargetClientId | Should -Be $script:OrgId
        $set.RedirectUri | Should -Be @('https://old.contoso.com/crmmailapp/code_auth.aspx', $script:Redirect)
        $set.Name | Should -Be 'Dynamics 365 App for Outlook'
        @(Get-FakeCall 'Enable-AdfsClient').Count | Should -Be 1
    }

    It 'builds the redirect URI from the URL scheme and host only: no organization path, no default port, a port kept' {
        $state = Invoke-Adfs -Extra @{ OrganizationUrl = 'https://crm.contoso.com:443/contoso/main.aspx' }
        @(Get-FakeCall 'Add-AdfsClient')[0].args.RedirectUri | Should -Be @('https://crm.contoso.com/crmmailapp/code_auth.aspx')
        (Get-Step $state 'outlook-client').after.redirectUri | Should -Be @('https://crm.contoso.com/crmmailapp/code_auth.aspx')
        Reset-FakeWindows
        $null = Invoke-Adfs -Extra @{ OrganizationUrl = 'https://crm.contoso.com:8443/contoso' }
        @(Get-FakeCall 'Add-AdfsClient')[0].args.RedirectUri | Should -Be @('https://crm.contoso.com:8443/crmmailapp/code_auth.aspx')
    }

    It 'lists the AD FS clients and filters them (Get-AdfsClient -ClientId for an unknown id is undocumented), and updates with -Force' {
        $null = Invoke-Adfs
        @(Get-FakeCall 'Get-AdfsClient' | Where-Object { $_.args.Keys -contains 'ClientId' }).Count | Should -Be 0
        (Get-FakeWindows).adfs.clients[0].name = 'Outlook app'
        (Get-FakeWindows).calls = @()
        $null = Invoke-Adfs
        @(Get-FakeCall 'Set-AdfsClient')[0].args.Force | Should -BeTrue
    }

    It 'starts adfssrv when a failed run left it stopped, although nothing else changed' {
        $null = Invoke-Adfs
        @((Get-FakeWindows).services | Where-Object { $_.name -eq 'adfssrv' })[0].status = 'Stopped'
        (Get-FakeWindows).calls = @()
        $state = Invoke-Adfs
        (Get-Step $state 'restart-services').status | Should -Be 'changed'
        @(Get-FakeCall 'Start-Service' | ForEach-Object { $_.args.Name }) | Should -Be @('adfssrv')
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
        (Get-Step (Invoke-Adfs) 'restart-services').status | Should -Be 'skipped'
    }

    It 'needs the organization id for the App for Outlook client' {
        { Invoke-Adfs -Extra @{ OrganizationId = '' } } | Should -Throw -ExpectedMessage '*organizationId*required*'
    }

    It 'skips the application permission on AD FS before 2016 (no Grant-AdfsApplicationPermission)' {
        Mock -ModuleName D365ExoSync Get-Command { $null } -ParameterFilter { $Name -eq 'Grant-AdfsApplicationPermission' }
        $state = Invoke-Adfs
        (Get-Step $state 'application-permission').status | Should -Be 'skipped'
        @(Get-FakeCall 'Grant-AdfsApplicationPermission').Count | Should -Be 0
    }

    It 'refuses a server role identifier without the trailing slash, and an ambiguous lookup' {
        { Invoke-Adfs -Extra @{ ServerRoleIdentifier = 'https://auth.contoso.com:444' } } | Should -Throw -ExpectedMessage '*must end with a slash*'
        (Get-FakeWindows).adfs.trusts += @{ name = 'Second'; identifier = @('https://auth.contoso.com/'); encryption = ''; metadataEncryption = '' }
        { Invoke-Adfs } | Should -Throw -ExpectedMessage '*2 relying party identifiers*'
    }

    It 'fails on a server without the ADFS module' {
        Mock -ModuleName D365ExoSync Test-D365Command { $false } -ParameterFilter { $Name -eq 'Get-AdfsClient' }
        { Invoke-Adfs } | Should -Throw -ExpectedMessage '*must run on the primary AD FS server*'
    }

    It 'sets the SSL and service-communications certificate (KeySpec 1, adfssrv read) and refreshes the relying party trust' {
        Add-FakeStoreCertificate -Thumbprint $script:Cert -Subject 'CN=adfs.contoso.com'
        $fake = Get-FakeWindows
        $fake.adfs.trusts[0].metadataEncryption = $script:Cert
        $state = Invoke-Adfs -Extra @{ Certificate = @{ thumbprint = $script:Cert }; RelyingPartyTrusts = @('CRM IFD Relying Party'); ExpectedEncryptionThumbprint = $script:Cert }
        (Get-Step $state 'adfs-certificate').status | Should -Be 'changed'
        @(Get-FakeCall 'Set-AdfsCertificate')[0].args.CertificateType | Should -Be 'Service-Communications'
        @(Get-FakeCall 'Set-AdfsCertificate')[0].args.Thumbprint | Should -Be $script:Cert
        @(Get-FakeCall 'Set-AdfsSslCertificate')[0].args.Thumbprint | Should -Be $script:Cert
        @(Get-FakeCall 'Grant-D365PrivateKeyRead')[0].args.Sid | Should -Be 'S-1-5-80-2962817144-200689703-2266453665-3849882635-1986547430'
        @(Get-FakeCall 'Update-AdfsRelyingPartyTrust')[0].args.TargetName | Should -Be 'CRM IFD Relying Party'
        (Get-Step $state 'relying-party-trusts').after['CRM IFD Relying Party'] | Should -Be $script:Cert

        (Get-FakeWindows).calls = @()
        $again = Invoke-Adfs -Extra @{ Certificate = @{ thumbprint = $script:Cert }; RelyingPartyTrusts = @('CRM IFD Relying Party'); ExpectedEncryptionThumbprint = $script:Cert }
        $again.changed | Should -BeFalse
        @(Get-FakeCall 'Update-AdfsRelyingPartyTrust').Count | Should -Be 0
    }

    It 'refuses a service-communications certificate whose key is CNG' {
        Add-FakeStoreCertificate -Thumbprint $script:Cert -Subject 'CN=adfs.contoso.com' -Provider 'Microsoft Software Key Storage Provider' -ProviderType 0 -KeyNumber 'None'
        { Invoke-Adfs -Extra @{ Certificate = @{ thumbprint = $script:Cert } } } | Should -Throw -ExpectedMessage '*service communications certificate*Invalid provider type specified*'
        @(Get-FakeCall 'Set-AdfsCertificate').Count | Should -Be 0
    }

    It 'accepts a CNG key for the SSL certificate only' {
        Add-FakeStoreCertificate -Thumbprint $script:Cert -Subject 'CN=adfs.contoso.com' -Provider 'Microsoft Software Key Storage Provider' -ProviderType 0 -KeyNumber 'None' -Rules @()
        (Get-FakeWindows).accounts['NT SERVICE\adfssrv'] = 'S-1-5-80-0'
        Mock -ModuleName D365ExoSync Get-D365KeyReadAccess { 'allowed' }
        $state = Invoke-Adfs -Extra @{ Certificate = @{ thumbprint = $script:Cert; serviceCommunications = $false } }
        (Get-Step $state 'adfs-certificate').status | Should -Be 'changed'
        @(Get-FakeCall 'Set-AdfsSslCertificate').Count | Should -Be 1
        @(Get-FakeCall 'Set-AdfsCertificate').Count | Should -Be 0
    }

    It 'fails when the relying party trust keeps the old encryption certificate after the refresh' {
        (Get-FakeWindows).adfs.trusts[0].encryption = 'AAAA'
        { Invoke-Adfs -Extra @{ RelyingPartyTrusts = @('CRM IFD Relying Party'); ExpectedEncryptionThumbprint = $script:Cert } } | Should -Throw -ExpectedMessage '*still shows encryption certificate AAAA*'
    }

    It 'fails when the certificate is not installed on the AD FS server' {
        { Invoke-Adfs -Extra @{ Certificate = @{ thumbprint = $script:Cert } } } | Should -Throw -ExpectedMessage '*not in LocalMachine\My on this AD FS server*'
    }
}

Describe 'configure-adfs steps (one advanced function each)' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'StepTestHelpers.ps1')
        Mock -ModuleName D365ExoSync Write-D365Log { }
    }

    BeforeEach {
        Reset-FakeWindows
    }

    It 'emits the steps of Steps.json, in its order and with its titles' {
        $catalogue = Get-CatalogueStep 'configure-adfs'
        $state = Invoke-Adfs -Plan
        @($state.steps | ForEach-Object { $_.id }) | Should -Be @($catalogue | ForEach-Object { $_.id })
        @($state.steps | ForEach-Object { $_.title }) | Should -Be @($catalogue | ForEach-Object { $_.title })
    }

    It '-WhatIf prints a "What if:" line for every change and changes nothing' {
        $before = ConvertTo-Json -InputObject (Get-FakeWindows).adfs -Depth 10
        $run = Invoke-WithWhatIfCapture { Invoke-Adfs -Plan }
        $run.WhatIf | Should -Contain 'What if: Performing the operation "add FormsAuthentication" on target "AD FS global authentication policy".'
        $run.WhatIf | Should -Contain ('What if: Performing the operation "register the App for Outlook client" on target "AD FS client {0}".' -f $script:OrgId)
        $run.WhatIf | Should -Contain 'What if: Performing the operation "restart" on target "service adfssrv".'
        @($run.Result.steps | Where-Object { $_.status -eq 'changed' }).Count | Should -Be 0
        ConvertTo-Json -InputObject (Get-FakeWindows).adfs -Depth 10 | Should -Be $before
        @(Get-FakeCall 'Add-AdfsClient').Count | Should -Be 0
    }

    It 'records changes declined at the -Confirm prompt as skipped, not changed, and makes none' {
        Mock -ModuleName D365ExoSync Resolve-D365Change { 'declined' }
        $state = Invoke-Adfs
        $state.changed | Should -BeFalse
        foreach ($id in @('forms-authentication', 'outlook-client', 'application-permission')) {
            (Get-Step $state $id).status | Should -Be 'skipped'
            (Get-Step $state $id).message | Should -Match 'declined'
        }
        @(Get-FakeCall 'Set-AdfsGlobalAuthenticationPolicy').Count | Should -Be 0
        @(Get-FakeCall 'Add-AdfsClient').Count | Should -Be 0
        @(Get-FakeCall 'Grant-AdfsApplicationPermission').Count | Should -Be 0
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
    }

    It 'fails step <step> with error id <errorId> and category <category>' -ForEach @(
        @{ step = 'adfs-module'; errorId = 'AdfsModuleUnavailable'; category = 'ObjectNotFound'; arrange = { Mock -ModuleName D365ExoSync Test-D365Command { $false } -ParameterFilter { $Name -eq 'Get-AdfsClient' } } }
        @{ step = 'outlook-client'; errorId = 'AdfsOrganizationIdMissing'; category = 'InvalidArgument'; extra = @{ OrganizationId = '' } }
        @{ step = 'application-permission'; errorId = 'AdfsServerRoleIdentifierInvalid'; category = 'InvalidArgument'; extra = @{ ServerRoleIdentifier = 'https://auth.contoso.com:444' } }
        @{ step = 'application-permission'; errorId = 'AdfsServerRoleIdentifierNotFound'; category = 'ObjectNotFound'; arrange = { (Get-FakeWindows).adfs.trusts += @{ name = 'Second'; identifier = @('https://auth.contoso.com/'); encryption = ''; metadataEncryption = '' } } }
        @{ step = 'adfs-certificate'; errorId = 'AdfsCertificateNotInStore'; category = 'ObjectNotFound'; extra = @{ Certificate = @{ thumbprint = 'C0FFEE00C0FFEE00C0FFEE00C0FFEE00C0FFEE00' } } }
        @{ step = 'relying-party-trusts'; errorId = 'AdfsRelyingPartyTrustNotFound'; category = 'ObjectNotFound'; extra = @{ RelyingPartyTrusts = @('No Such Trust') } }
        @{ step = 'relying-party-trusts'; errorId = 'AdfsRelyingPartyTrustReadBack'; category = 'InvalidOperation'; arrange = { (Get-FakeWindows).adfs.trusts[0].encryption = 'AAAA' }; extra = @{ RelyingPartyTrusts = @('CRM IFD Relying Party'); ExpectedEncryptionThumbprint = 'C0FFEE00C0FFEE00C0FFEE00C0FFEE00C0FFEE00' } }
    ) {
        if ($arrange) { & $arrange }
        $arguments = @{}
        if ($extra) { $arguments = $extra }
        Assert-StepFailure -Run { Invoke-Adfs -Extra $arguments } -Step $step -ErrorId $errorId -Category $category
    }
}
