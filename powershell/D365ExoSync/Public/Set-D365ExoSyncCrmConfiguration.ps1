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
    [OutputType([pscustomobject])]
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
    $state = New-D365PhaseState -Phase 'configure-crm' -Plan ([bool]$WhatIfPreference)
    $Thumbprint = ($Thumbprint -replace '[:\s]', '').ToUpperInvariant()
    # The default authorization server: the ACS principal and the metadata URL of the tenant's cloud.
    $serverSettings = [ordered]@{ S2SDefaultAuthorizationServerPrincipalId = $PrincipalId; S2SDefaultAuthorizationServerMetadataUrl = $MetadataUrl }
    $stepId = 'snap-in'
    try {
        [void](Test-D365CrmSnapinStep -State $state)
        $stepId = 'deployment-administrator'
        [void](Test-D365DeploymentAdministratorStep -State $state)
        $stepId = 's2s-certificate'
        [void](Set-D365CrmS2SCertificateStep -State $state -Thumbprint $Thumbprint -AsyncServiceAccount $AsyncServiceAccount -ToolsPath $ToolsPath -PfxPath $PfxPath -PfxPassword $PfxPassword)
        $stepId = 'server-settings'
        [void](Set-D365CrmServerSettingsStep -State $state -Wanted $serverSettings)
        $stepId = 'organization-tenant'
        [void](Set-D365CrmOrganizationTenantStep -State $state -Organization $Organization -TenantId $TenantId)
        $stepId = 'oauth-claims'
        [void](Set-D365CrmOAuthClaimsStep -State $state -Enable $EnableOAuthClaims)
        $stepId = 'restart-services'
        [void](Restart-D365ServicesStep -State $state -Restart $Restart -Services $Services -AppPool $AppPool)
        $stepId = 'read-back'
        [void](Test-D365CrmReadBackStep -State $state -Thumbprint $Thumbprint -ServerSettings $serverSettings -TenantId $TenantId -EnableOAuthClaims $EnableOAuthClaims)
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
        Stop-D365Step "CertificateReconfiguration.ps1 failed: $message" -ErrorId 'CrmCertificateScriptFailed'
    } finally {
        $ErrorActionPreference = $previous
        $arguments['password'] = $null
        $plain = $null
    }
    return , $failures.ToArray()
}
