function Set-D365ExoSyncCrmConfiguration {
    <#
    .SYNOPSIS
    Phase configure-crm (the server with the Deployment Tools role, once per deployment): S2S certificate through
    CertificateReconfiguration.ps1, ServerSettings S2S values, the organization's S2STenantId, OAuth claims
    settings; every value read back.

    .PARAMETER Thumbprint
    The new S2S certificate; the S2STokenIssuer row's certificate (thumbprint computed from Data) must equal it.

    .PARAMETER MetadataUrl
    S2SDefaultAuthorizationServerMetadataUrl: follows the cloud of the tenant (the TypeScript side passes it).

    .PARAMETER PfxPath
    PFX given to CertificateReconfiguration.ps1 -certificateFile (only read when the certificate must change).

    .PARAMETER PfxPassword
    Its password: converted to the plain string the script's -password takes only right before the in-process call.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true)] [string] $Organization,
        [Parameter(Mandatory = $true)] [ValidatePattern('^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$')] [string] $TenantId,
        [Parameter(Mandatory = $true)] [ValidatePattern('^[0-9A-Fa-f:\s]{40,59}$')] [string] $Thumbprint,
        [Parameter(Mandatory = $true)] [string] $AsyncServiceAccount,
        [Parameter(Mandatory = $true)] [ValidatePattern('^https://')] [string] $MetadataUrl,
        [string] $PrincipalId = '00000001-0000-0000-c000-000000000000',
        [string] $ToolsPath,
        [string] $PfxPath,
        [System.Security.SecureString] $PfxPassword,
        [bool] $EnableOAuthClaims = $true,
        [ValidateSet('when-changed', 'always', 'never')] [string] $Restart = 'when-changed',
        [string[]] $Services = $script:D365DefaultServices,
        [string] $AppPool = 'CRMAppPool'
    )
    $ErrorActionPreference = 'Stop'
    $plan = [bool]$WhatIfPreference
    $state = New-D365PhaseState -Phase 'configure-crm' -Plan $plan
    $Thumbprint = ($Thumbprint -replace '[:\s]', '').ToUpperInvariant()
    $stepId = 'snap-in'
    try {
        $snapin = Import-D365CrmSnapin
        [void](Add-D365Step -State $state -Id 'snap-in' -Title 'Microsoft.Crm.PowerShell snap-in' -Status 'unchanged' -Evidence $snapin)

        $stepId = 'deployment-administrator'
        $identity = Assert-D365DeploymentAdministrator
        [void](Add-D365Step -State $state -Id 'deployment-administrator' -Title 'caller is a Deployment Administrator' -Status 'unchanged' -Evidence $identity)

        # 1. S2S certificate (CertificateReconfiguration.ps1 -updateCrm, once per deployment).
        $stepId = 's2s-certificate'
        $rows = @(Get-D365CrmS2SCertificates)
        $beforeThumbprints = @($rows | ForEach-Object { $_.thumbprint })
        $current = $beforeThumbprints
        $differs = -not ($current.Count -eq 1 -and $current[0] -eq $Thumbprint)
        $evidence = [ordered]@{}
        if ($differs) {
            $tools = Resolve-D365ToolsPath -ToolsPath $ToolsPath
            $scriptPath = Join-Path -Path $tools -ChildPath 'CertificateReconfiguration.ps1'
            if (-not (Test-Path -LiteralPath $scriptPath)) { Stop-D365Step "CertificateReconfiguration.ps1 was not found in '$tools' (toolsPath)" }
            $evidence['script'] = $scriptPath
            $evidence['passwordUse'] = @(Get-D365ScriptSecretUse -Path $scriptPath -ParameterName 'password')
            foreach ($use in $evidence['passwordUse']) {
                if ($use.native) { Add-D365Warning -State $state -Message ("CertificateReconfiguration.ps1 line {0} passes the PFX password to the native program '{1}': it is on that program's command line while it runs on this server" -f $use.line, $use.command) }
            }
            $stored = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)
            if ($stored.Count -gt 0) {
                $twins = @(Get-D365MachineCertificate -Subject $stored[0].Subject | Where-Object { $_.Thumbprint -ne $Thumbprint })
                if ($twins.Count -gt 0) {
                    Stop-D365Step ("LocalMachine\My holds other certificates with the subject '{0}' ({1}); CertificateReconfiguration.ps1 finds the certificate by subject and fails with ""Private key not found"": run install-certificate (removeSameSubject) first" -f $stored[0].Subject, (@($twins | ForEach-Object { $_.Thumbprint }) -join ', '))
                }
            }
            if (-not $plan -and $PSCmdlet.ShouldProcess('CRM configuration database', "S2STokenIssuer certificate $Thumbprint (CertificateReconfiguration.ps1 -updateCrm)")) {
                if (-not $PfxPath -or -not (Test-Path -LiteralPath $PfxPath)) { Stop-D365Step 'the S2S certificate must change but no PFX file was given (pfx)' }
                if ($null -eq $PfxPassword) { Stop-D365Step 'the S2S certificate must change but the PFX password was not passed in the environment' }
                $failures = Invoke-D365CertificateReconfiguration -Path $scriptPath -PfxPath $PfxPath -PfxPassword $PfxPassword -ServiceAccount $AsyncServiceAccount
                $readBack = @(Get-D365CrmS2SCertificates | ForEach-Object { $_.thumbprint })
                if (-not ($readBack.Count -eq 1 -and $readBack[0] -eq $Thumbprint)) {
                    $detail = ''
                    if ($failures.Count -gt 0) { $detail = ' Errors written by the script: ' + ($failures -join ' | ') }
                    Stop-D365Step ("after CertificateReconfiguration.ps1 the S2STokenIssuer certificate(s) are [{0}], expected exactly {1}.{2}" -f ($readBack -join ', '), $Thumbprint, $detail)
                }
                $installed = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)
                if ($installed.Count -eq 0) { Stop-D365Step "certificate $Thumbprint is not in LocalMachine\My after CertificateReconfiguration.ps1" }
                $problem = Get-D365KeyProblem -KeyInfo (Get-D365PrivateKeyInfo -Certificate $installed[0]) -Thumbprint $Thumbprint
                if ($problem) { Stop-D365Step ('after CertificateReconfiguration.ps1 ' + $problem) }
                $current = $readBack
            }
        }
        [void](Set-D365StepOutcome -State $state -Id 's2s-certificate' -Title 'S2STokenIssuer certificate' -Differs $differs -Plan $plan -Before ([ordered]@{ thumbprints = $beforeThumbprints }) -After ([ordered]@{ thumbprints = @($Thumbprint) }) -Evidence $evidence)
        if ($differs -and $plan) { $current = @() }

        # 2. ServerSettings: the default authorization server (ACS principal and the metadata URL of the cloud).
        $stepId = 'server-settings'
        $wanted = [ordered]@{ S2SDefaultAuthorizationServerPrincipalId = $PrincipalId; S2SDefaultAuthorizationServerMetadataUrl = $MetadataUrl }
        $before = [ordered]@{}
        $changes = @{}
        foreach ($name in $wanted.Keys) {
            $before[$name] = Get-D365CrmAdvancedValue -EntityName 'ServerSettings' -Setting $name
            if ([string]$before[$name] -ne $wanted[$name]) { $changes[$name] = $wanted[$name] }
        }
        if ($changes.Count -gt 0 -and -not $plan -and $PSCmdlet.ShouldProcess('ServerSettings', 'set ' + (($changes.Keys | Sort-Object) -join ', '))) {
            Set-D365CrmServerSettings -Values $changes
            foreach ($name in $wanted.Keys) {
                $value = Get-D365CrmAdvancedValue -EntityName 'ServerSettings' -Setting $name
                if ([string]$value -ne $wanted[$name]) { Stop-D365Step ("ServerSettings {0} reads back '{1}', expected '{2}'" -f $name, $value, $wanted[$name]) }
            }
        }
        [void](Set-D365StepOutcome -State $state -Id 'server-settings' -Title 'ServerSettings S2S authorization server' -Differs ($changes.Count -gt 0) -Plan $plan -Before $before -After $wanted)

        # 3. The organization's Exchange Online tenant id.
        $stepId = 'organization-tenant'
        $org = Get-CrmOrganization -Name $Organization
        if ($null -eq $org) { Stop-D365Step "organization '$Organization' was not found (Get-CrmOrganization)" }
        $state.evidence['organizationId'] = [string]$org.Id
        $tenantBefore = Get-D365CrmAdvancedValue -EntityName 'Organization' -Setting 'S2STenantId' -Id $org.Id
        $tenantDiffers = [string]$tenantBefore -ne $TenantId
        if ($tenantDiffers -and -not $plan -and $PSCmdlet.ShouldProcess("organization $Organization", "S2STenantId = $TenantId")) {
            Set-CrmAdvancedSetting -ID $org.Id -configurationEntityName 'Organization' -setting 'S2STenantId' -value $TenantId
            $tenantAfter = Get-D365CrmAdvancedValue -EntityName 'Organization' -Setting 'S2STenantId' -Id $org.Id
            if ([string]$tenantAfter -ne $TenantId) { Stop-D365Step ("S2STenantId of '{0}' reads back '{1}', expected '{2}'" -f $Organization, $tenantAfter, $TenantId) }
        }
        [void](Set-D365StepOutcome -State $state -Id 'organization-tenant' -Title "S2STenantId of organization '$Organization'" -Differs $tenantDiffers -Plan $plan -Before $tenantBefore -After $TenantId)

        # 4. OAuth claims settings.
        $stepId = 'oauth-claims'
        if (-not $EnableOAuthClaims) {
            [void](Add-D365Step -State $state -Id 'oauth-claims' -Title 'OAuthClaimsSettings.Enabled' -Status 'skipped' -Message 'disabled (enableOAuthClaims: false)')
        } else {
            $claims = Get-CrmSetting -SettingType 'OAuthClaimsSettings'
            $enabledBefore = [bool]$claims.Enabled
            if (-not $enabledBefore -and -not $plan -and $PSCmdlet.ShouldProcess('OAuthClaimsSettings', 'Enabled = true')) {
                $claims.Enabled = $true
                Set-CrmSetting -Setting $claims
                $check = Get-CrmSetting -SettingType 'OAuthClaimsSettings'
                if (-not [bool]$check.Enabled) { Stop-D365Step 'OAuthClaimsSettings.Enabled reads back false after Set-CrmSetting' }
            }
            [void](Set-D365StepOutcome -State $state -Id 'oauth-claims' -Title 'OAuthClaimsSettings.Enabled' -Differs (-not $enabledBefore) -Plan $plan -Before $enabledBefore -After $true)
        }

        # 5. Services on this server.
        $stepId = 'restart-services'
        Invoke-D365RestartStep -State $state -Restart $Restart -Services $Services -AppPool $AppPool -Plan $plan

        # 6. Everything read back once more, as the run record's evidence.
        $stepId = 'read-back'
        $state.evidence['s2sCertificates'] = @(Get-D365CrmS2SCertificates | ForEach-Object { $_.thumbprint })
        $state.evidence['serverSettings'] = [ordered]@{
            S2SDefaultAuthorizationServerPrincipalId = Get-D365CrmAdvancedValue -EntityName 'ServerSettings' -Setting 'S2SDefaultAuthorizationServerPrincipalId'
            S2SDefaultAuthorizationServerMetadataUrl = Get-D365CrmAdvancedValue -EntityName 'ServerSettings' -Setting 'S2SDefaultAuthorizationServerMetadataUrl'
        }
        $state.evidence['s2sTenantId'] = Get-D365CrmAdvancedValue -EntityName 'Organization' -Setting 'S2STenantId' -Id $org.Id
        $state.evidence['oauthClaimsEnabled'] = [bool](Get-CrmSetting -SettingType 'OAuthClaimsSettings').Enabled
        if (-not $plan) {
            $mismatch = New-Object System.Collections.ArrayList
            if (-not (@($state.evidence['s2sCertificates']).Count -eq 1 -and @($state.evidence['s2sCertificates'])[0] -eq $Thumbprint)) { [void]$mismatch.Add('S2STokenIssuer certificate') }
            foreach ($name in $wanted.Keys) { if ([string]$state.evidence['serverSettings'][$name] -ne $wanted[$name]) { [void]$mismatch.Add($name) } }
            if ([string]$state.evidence['s2sTenantId'] -ne $TenantId) { [void]$mismatch.Add('S2STenantId') }
            if ($EnableOAuthClaims -and -not $state.evidence['oauthClaimsEnabled']) { [void]$mismatch.Add('OAuthClaimsSettings.Enabled') }
            if ($mismatch.Count -gt 0) { Stop-D365Step ('read back differs from the wanted values: ' + ($mismatch -join ', ')) }
        }
        [void](Add-D365Step -State $state -Id 'read-back' -Title 'read back every value' -Status 'unchanged' -Evidence $state.evidence)
    } catch {
        Stop-D365Phase -State $state -Step $stepId -ErrorRecord $_
    }
    return $state
}

# Runs CertificateReconfiguration.ps1 in this process with splatting: the password goes from a SecureString to the
# script's -password string parameter here, never through a command line, an Invoke-Expression string or a child
# process of ours. Every output stream of the script is captured and the password masked before it reaches the host
# (so a transcript only sees the masked text). Returns the error messages the script wrote (masked).
function Invoke-D365CertificateReconfiguration {
    param([string] $Path, [string] $PfxPath, [System.Security.SecureString] $PfxPassword, [string] $ServiceAccount)
    $failures = New-Object System.Collections.ArrayList
    $plain = ConvertTo-D365PlainText -Secure $PfxPassword
    $arguments = @{
        certificateFile = $PfxPath
        password        = $plain
        certificateType = 'S2STokenIssuer'
        updateCrm       = $true
        serviceAccount  = $ServiceAccount
        storeFindType   = 'FindBySubjectDistinguishedName'
    }
    $previous = $ErrorActionPreference
    try {
        # The script decides for itself which of its errors are fatal; the read-back afterwards decides success.
        $ErrorActionPreference = 'Continue'
        & $Path @arguments *>&1 | ForEach-Object {
            $record = $_
            $text = $record
            if (-not ($record -is [string])) { $text = ($record | Out-String).TrimEnd() }
            $text = Hide-D365Secret -Text ([string]$text) -Secret $plain
            if ($record -is [System.Management.Automation.ErrorRecord]) { [void]$failures.Add($text) }
            foreach ($line in ($text -split "`r?`n")) { Write-D365Log ('  CertificateReconfiguration: ' + $line) }
        }
    } catch {
        $message = Hide-D365Secret -Text $_.Exception.Message -Secret $plain
        throw (New-Object System.InvalidOperationException -ArgumentList @("CertificateReconfiguration.ps1 failed: $message"))
    } finally {
        $ErrorActionPreference = $previous
        $arguments['password'] = $null
        $plain = $null
    }
    return , $failures.ToArray()
}
