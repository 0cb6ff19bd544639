BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-D365WithFakes
    $script:New = New-TestPfx -Subject 'CN=s2s.contoso.com'
    $script:Old = New-TestPfx -Subject 'CN=s2s.contoso.com' -Days 10
    $script:Tenant = '11111111-2222-3333-4444-555555555555'
    $script:MetadataUrl = 'https://accounts.accesscontrol.windows.net/metadata/json/1'
    $script:OrgId = '7d5e2c11-8f3a-4b6e-9c0d-1a2b3c4d5e6f'
    function Invoke-Crm {
        param([hashtable] $Extra = @{}, [switch] $Plan)
        $arguments = @{
            Organization = 'contoso'; TenantId = $script:Tenant; Thumbprint = $script:New.Thumbprint; AsyncServiceAccount = 'CONTOSO\svc-crm-async'
            MetadataUrl = $script:MetadataUrl; ToolsPath = $script:FakeTools; PfxPath = $script:New.Path; PfxPassword = (ConvertTo-TestSecure $script:New.Password)
        }
        foreach ($key in $Extra.Keys) { $arguments[$key] = $Extra[$key] }
        if ($Plan) { $arguments['WhatIf'] = $true }
        # The fake CertificateReconfiguration.ps1 also writes its password straight to the console (only the
        # TypeScript mask sees that; its tests check it): keep it out of this suite's log, fixture or not.
        $console = [Console]::Out
        [Console]::SetOut([System.IO.StringWriter]::new())
        try { return Set-D365ExoSyncCrmConfiguration @arguments }
        finally { [Console]::SetOut($console) }
    }
    function Get-Step { param($State, [string] $Id) @($State.steps | Where-Object { $_.id -eq $Id })[0] }
}

Describe 'configure-crm' {
    BeforeAll {
        $script:HostLines = New-Object System.Collections.ArrayList
        Mock -ModuleName D365ExoSync Write-D365Log { [void]$script:HostLines.Add($Message) }
    }

    BeforeEach {
        Reset-FakeWindows
        Set-FakeCrmS2SCertificate -RawData $script:Old.RawData
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject
        $script:HostLines.Clear()
    }

    It 'loads the snap-in, checks the deployment administrator, runs CertificateReconfiguration.ps1 with the documented parameters and sets every value' {
        $state = Invoke-Crm
        $state.ok | Should -BeTrue
        @($state.steps | ForEach-Object { "$($_.id)=$($_.status)" }) | Should -Be @('snap-in=unchanged', 'deployment-administrator=unchanged', 's2s-certificate=changed', 'server-settings=changed', 'organization-tenant=changed', 'oauth-claims=changed', 'restart-services=changed', 'read-back=unchanged')

        @(Get-FakeCall 'Add-PSSnapin')[0].args.Name | Should -Be @('Microsoft.Crm.PowerShell')
        $script = @(Get-FakeCall 'CertificateReconfiguration.ps1')
        $script.Count | Should -Be 1
        $script[0].args.certificateType | Should -Be 'S2STokenIssuer'
        $script[0].args.updateCrm | Should -BeTrue
        $script[0].args.serviceAccount | Should -Be 'CONTOSO\svc-crm-async'
        $script[0].args.storeFindType | Should -Be 'FindBySubjectDistinguishedName'
        $script[0].args.certificateFile | Should -Be $script:New.Path

        $settings = @(Get-FakeCall 'Set-CrmAdvancedSetting')
        $settings[0].args['Entity.LogicalName'] | Should -Be 'ServerSettings'
        $settings[0].args['S2SDefaultAuthorizationServerPrincipalId'] | Should -Be '00000001-0000-0000-c000-000000000000'
        $settings[0].args['S2SDefaultAuthorizationServerMetadataUrl'] | Should -Be $script:MetadataUrl
        $settings[1].args.configurationEntityName | Should -Be 'Organization'
        $settings[1].args.setting | Should -Be 'S2STenantId'
        $settings[1].args.value | Should -Be $script:Tenant
        $settings[1].args.ID | Should -Be $script:OrgId
        @(Get-FakeCall 'Set-CrmSetting')[0].args.Enabled | Should -BeTrue

        $state.evidence.s2sCertificates | Should -Be @($script:New.Thumbprint)
        $state.evidence.s2sTenantId | Should -Be $script:Tenant
        $state.evidence.organizationId | Should -Be $script:OrgId
        $state.evidence.oauthClaimsEnabled | Should -BeTrue
        (Get-Step $state 's2s-certificate').before.thumbprints | Should -Be @($script:Old.Thumbprint)
    }

    It 'keeps the PFX password out of the host output (the script echoes it) and reports how the script uses it' {
        $state = Invoke-Crm
        ($script:HostLines -join "`n") | Should -Not -Match ([regex]::Escape($script:New.Password))
        ($script:HostLines -join "`n") | Should -Match 'with password \*\*\*'
        $uses = @((Get-Step $state 's2s-certificate').evidence.passwordUse)
        $uses.Count | Should -BeGreaterThan 0
        @($uses | ForEach-Object { $_.command }) | Should -Contain 'Write-Host'
        @(Get-FakeCall 'CertificateReconfiguration.ps1' | ForEach-Object { $_.args.Keys }) | Should -Not -Contain 'password'
    }

    It 'warns when CertificateReconfiguration.ps1 hands the password to a native program' {
        $tools = Join-Path $TestDrive 'tools-native'
        New-Item -ItemType Directory -Path $tools -Force | Out-Null
        Set-Content -Path (Join-Path $tools 'CertificateReconfiguration.ps1') -Value @(
            'param([string] $certificateFile, [string] $password, [string] $certificateType, [string] $serviceAccount, [switch] $updateCrm, [string] $storeFindType)',
            'certutil.exe -f -p $password -importpfx $certificateFile'
        )
        $state = Invoke-Crm -Plan -Extra @{ ToolsPath = $tools }
        @($state.warnings) -join ' ' | Should -Match "native program 'certutil.exe'"
        @((Get-Step $state 's2s-certificate').evidence.passwordUse)[0].native | Should -BeTrue
    }

    It 'changes nothing on the second run (idempotent)' {
        $null = Invoke-Crm
        (Get-FakeWindows).calls = @()
        $state = Invoke-Crm
        $state.changed | Should -BeFalse
        @(Get-FakeCall 'CertificateReconfiguration.ps1').Count | Should -Be 0
        @(Get-FakeCall 'Set-CrmAdvancedSetting').Count | Should -Be 0
        @(Get-FakeCall 'Set-CrmSetting').Count | Should -Be 0
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
    }

    It '-WhatIf gives the plan with before/after and changes nothing' {
        $before = ConvertTo-Json -InputObject (Get-FakeWindows).crm -Depth 10
        $state = Invoke-Crm -Plan
        @($state.steps | ForEach-Object { "$($_.id)=$($_.status)" }) | Should -Be @('snap-in=unchanged', 'deployment-administrator=unchanged', 's2s-certificate=would-change', 'server-settings=would-change', 'organization-tenant=would-change', 'oauth-claims=would-change', 'restart-services=would-change', 'read-back=unchanged')
        (Get-Step $state 'organization-tenant').before | Should -BeNullOrEmpty
        (Get-Step $state 'organization-tenant').after | Should -Be $script:Tenant
        (Get-Step $state 'server-settings').after.S2SDefaultAuthorizationServerMetadataUrl | Should -Be $script:MetadataUrl
        @(Get-FakeCall 'CertificateReconfiguration.ps1').Count | Should -Be 0
        @(Get-FakeCall 'Set-CrmAdvancedSetting').Count | Should -Be 0
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
        $after = ConvertTo-Json -InputObject (Get-FakeWindows).crm -Depth 10
        # Loading the snap-in is the only difference a plan makes.
        $after.Replace('"snapinLoaded": true', '"snapinLoaded": false') | Should -Be $before
    }

    It 'names the account when it is not a Deployment Administrator, before touching anything' {
        (Get-FakeWindows).identity = 'CONTOSO\pipeline-agent'
        $failure = { Invoke-Crm } | Should -Throw -PassThru
        $failure.Exception.Data['D365Step'] | Should -Be 'deployment-administrator'
        $failure.Exception.Message | Should -Match ([regex]::Escape("'CONTOSO\pipeline-agent'"))
        $failure.Exception.Message | Should -Match 'New-CrmDeploymentAdministrator'
        @(Get-FakeCall 'Get-CrmCertificate').Count | Should -Be 0
    }

    It 'names the account when it cannot even list the Deployment Administrators' {
        (Get-FakeWindows).crm.denyAdministratorList = $true
        { Invoke-Crm } | Should -Throw -ExpectedMessage "*'CONTOSO\deploy-admin' cannot read the Deployment Administrators (Access is denied. (fake))*"
    }

    It 'fails clearly when the snap-in is missing' {
        (Get-FakeWindows).crm.snapinRegistered = $false
        $failure = { Invoke-Crm } | Should -Throw -PassThru
        $failure.Exception.Data['D365Step'] | Should -Be 'snap-in'
        $failure.Exception.Message | Should -Match 'not registered on this server'
    }

    It 'says PowerShell 7 cannot load the snap-in when Add-PSSnapin does not exist' {
        Mock -ModuleName D365ExoSync Get-Command { $null } -ParameterFilter { $Name -eq 'Add-PSSnapin' }
        { Invoke-Crm } | Should -Throw -ExpectedMessage '*loads only in Windows PowerShell 5.1*'
        @(Get-FakeCall 'Add-PSSnapin').Count | Should -Be 0
    }

    It 'fails when CertificateReconfiguration.ps1 is not in the tools path' {
        { Invoke-Crm -Extra @{ ToolsPath = $TestDrive } } | Should -Throw -ExpectedMessage '*CertificateReconfiguration.ps1 was not found*'
    }

    It 'fails with the script error (masked) when the S2STokenIssuer certificate does not read back as the new one' {
        (Get-FakeWindows).crm.reconfigurationFails = $true
        $failure = { Invoke-Crm } | Should -Throw -PassThru
        $failure.Exception.Data['D365Step'] | Should -Be 's2s-certificate'
        $failure.Exception.Message | Should -Match 'Private key not found'
        $failure.Exception.Message | Should -Not -Match ([regex]::Escape($script:New.Password))
        @(Get-FakeCall 'Set-CrmAdvancedSetting').Count | Should -Be 0
    }

    It 'fails before CertificateReconfiguration.ps1 when two certificates share the subject ("Private key not found")' {
        Add-FakeStoreCertificate -Thumbprint $script:Old.Thumbprint -Subject $script:Old.Subject
        { Invoke-Crm } | Should -Throw -ExpectedMessage '*Private key not found*run install-certificate*'
        @(Get-FakeCall 'CertificateReconfiguration.ps1').Count | Should -Be 0
    }

    It 'fails when the script left the key in a CNG provider' {
        (Get-FakeWindows).store = @()
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject -Provider 'Microsoft Software Key Storage Provider' -ProviderType 0 -KeyNumber 'None'
        { Invoke-Crm } | Should -Throw -ExpectedMessage '*after CertificateReconfiguration.ps1*Invalid provider type specified*'
    }

    It 'fails when the organization does not exist' {
        { Invoke-Crm -Extra @{ Organization = 'fabrikam' } } | Should -Throw -ExpectedMessage "*organization 'fabrikam' was not found*"
    }

    It 'leaves OAuth claims alone when disabled and sets only the settings that differ' {
        (Get-FakeWindows).crm.serverSettings['S2SDefaultAuthorizationServerPrincipalId'] = '00000001-0000-0000-c000-000000000000'
        $state = Invoke-Crm -Extra @{ EnableOAuthClaims = $false }
        (Get-Step $state 'oauth-claims').status | Should -Be 'skipped'
        $entity = @(Get-FakeCall 'Set-CrmAdvancedSetting')[0].args
        $entity.Keys | Should -Not -Contain 'S2SDefaultAuthorizationServerPrincipalId'
        $entity['S2SDefaultAuthorizationServerMetadataUrl'] | Should -Be $script:MetadataUrl
    }
}

Describe 'configure-crm steps (one advanced function each)' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'StepTestHelpers.ps1')
        Mock -ModuleName D365ExoSync Write-D365Log { }
    }

    BeforeEach {
        Reset-FakeWindows
        Set-FakeCrmS2SCertificate -RawData $script:Old.RawData
        Add-FakeStoreCertificate -Thumbprint $script:New.Thumbprint -Subject $script:New.Subject
    }

    It 'emits the steps of Steps.json, in its order and with its titles' {
        $catalogue = Get-CatalogueStep 'configure-crm'
        $state = Invoke-Crm -Plan
        @($state.steps | ForEach-Object { $_.id }) | Should -Be @($catalogue | ForEach-Object { $_.id })
        @($state.steps | ForEach-Object { $_.title }) | Should -Be @($catalogue | ForEach-Object { $_.title })
    }

    It '-WhatIf prints a "What if:" line for every change and changes nothing' {
        $run = Invoke-WithWhatIfCapture { Invoke-Crm -Plan }
        $state = $run.Result
        $lines = $run.WhatIf
        $lines | Should -Contain ('What if: Performing the operation "S2STokenIssuer certificate {0} (CertificateReconfiguration.ps1 -updateCrm)" on target "CRM configuration database".' -f $script:New.Thumbprint)
        $lines | Should -Contain ('What if: Performing the operation "S2STenantId = {0}" on target "organization contoso".' -f $script:Tenant)
        $lines | Should -Contain 'What if: Performing the operation "Enabled = true" on target "OAuthClaimsSettings".'
        $lines | Should -Contain 'What if: Performing the operation "restart" on target "service MSCRMAsyncService".'
        @($state.steps | Where-Object { $_.status -eq 'changed' }).Count | Should -Be 0
        @(Get-FakeCall 'CertificateReconfiguration.ps1').Count | Should -Be 0
        @(Get-FakeCall 'Set-CrmAdvancedSetting').Count | Should -Be 0
        @(Get-FakeCall 'Set-CrmSetting').Count | Should -Be 0
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
    }

    It 'records a change declined at the -Confirm prompt as skipped, not changed, and makes none' {
        Mock -ModuleName D365ExoSync Resolve-D365Change { 'declined' }
        $state = Invoke-Crm
        $state.changed | Should -BeFalse
        foreach ($id in @('s2s-certificate', 'server-settings', 'organization-tenant', 'oauth-claims')) {
            (Get-Step $state $id).status | Should -Be 'skipped'
            (Get-Step $state $id).message | Should -Match 'declined'
        }
        # Nothing changed, so the services are only checked (started when stopped), not restarted; the read-back
        # names what is not as wanted instead of failing.
        (Get-Step $state 'restart-services').status | Should -Not -Be 'changed'
        (Get-Step $state 'read-back').message | Should -Match 'declined'
        @(Get-FakeCall 'CertificateReconfiguration.ps1').Count | Should -Be 0
        @(Get-FakeCall 'Set-CrmAdvancedSetting').Count | Should -Be 0
        @(Get-FakeCall 'Set-CrmSetting').Count | Should -Be 0
        @(Get-FakeCall 'Restart-Service').Count | Should -Be 0
    }

    It 'a declined change excuses only its own value: another one that is not as wanted still fails the read-back' {
        Mock -ModuleName D365ExoSync Resolve-D365Change { if ($Action -eq 'Enabled = true') { 'declined' } else { 'change' } }
        # The organization's S2STenantId is right when its step reads it, and something else by the final read-back
        # (undone in between): the declined OAuthClaimsSettings change must not excuse that.
        $script:tenantReads = 0
        Mock -ModuleName D365ExoSync Get-D365CrmAdvancedValue {
            $script:tenantReads++
            if ($script:tenantReads -le 1) { $script:Tenant } else { '00000000-0000-0000-0000-000000000000' }
        } -ParameterFilter { $Setting -eq 'S2STenantId' }
        Assert-StepFailure -Run { Invoke-Crm } -Step 'read-back' -ErrorId 'CrmReadBackMismatch' -Category 'InvalidOperation'
        ((Get-LastFailedStep)[0] | ConvertTo-Json -Depth 5) | Should -Match 'S2STenantId'
    }

    It 'a declined ShouldProcess outside -WhatIf is "declined"; under -WhatIf it is "would-change"' {
        InModuleScope D365ExoSync {
            $no = [pscustomobject]@{}
            $no | Add-Member -MemberType ScriptMethod -Name ShouldProcess -Value { param($target, $action) $false }
            $yes = [pscustomobject]@{}
            $yes | Add-Member -MemberType ScriptMethod -Name ShouldProcess -Value { param($target, $action) $true }
            $WhatIfPreference = $false
            Resolve-D365Change -Cmdlet $no -Target 't' -Action 'a' | Should -Be 'declined'
            Resolve-D365Change -Cmdlet $yes -Target 't' -Action 'a' | Should -Be 'change'
            $WhatIfPreference = $true
            Resolve-D365Change -Cmdlet $no -Target 't' -Action 'a' | Should -Be 'would-change'
        }
    }

    It 'fails step <step> with error id <errorId> and category <category>' -ForEach @(
        @{ step = 'snap-in'; errorId = 'CrmSnapinUnavailable'; category = 'InvalidOperation'; arrange = { (Get-FakeWindows).crm.snapinRegistered = $false } }
        @{ step = 'deployment-administrator'; errorId = 'CrmNotDeploymentAdministrator'; category = 'InvalidOperation'; arrange = { (Get-FakeWindows).identity = 'CONTOSO\pipeline-agent' } }
        @{ step = 's2s-certificate'; errorId = 'CrmCertificateScriptNotFound'; category = 'ObjectNotFound'; extra = @{ ToolsPath = '.' } }
        @{ step = 's2s-certificate'; errorId = 'CrmCertificateSubjectNotUnique'; category = 'ResourceExists'; arrange = { Add-FakeStoreCertificate -Thumbprint $script:Old.Thumbprint -Subject $script:Old.Subject } }
        @{ step = 's2s-certificate'; errorId = 'CrmCertificateScriptFailed'; category = 'InvalidOperation'; arrange = { (Get-FakeWindows).crm.reconfigurationFails = $true } }
        @{ step = 's2s-certificate'; errorId = 'CrmPfxMissing'; category = 'InvalidArgument'; extra = @{ PfxPath = $null } }
        @{ step = 'organization-tenant'; errorId = 'CrmOrganizationNotFound'; category = 'ObjectNotFound'; extra = @{ Organization = 'fabrikam' } }
    ) {
        if ($arrange) { & $arrange }
        $extraArguments = @{}
        if ($extra) { $extraArguments = $extra.Clone() }
        if ($extraArguments.ContainsKey('ToolsPath')) { $extraArguments['ToolsPath'] = $TestDrive }
        Assert-StepFailure -Run { Invoke-Crm -Extra $extraArguments } -Step $step -ErrorId $errorId -Category $category
    }
}
