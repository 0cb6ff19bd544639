function Set-D365ExoSyncAdfsConfiguration {
    <#
    .SYNOPSIS
    Phase configure-adfs (the primary AD FS server): forms authentication, the App for Outlook OAuth client,
    the application permission (AD FS 2016+), optionally the AD FS SSL / service-communications certificate and a
    refresh of the CRM relying party trusts.

    .PARAMETER OrganizationUrl
    The organization's URL; the App for Outlook redirect URI is its scheme://host[:port] + /crmmailapp/code_auth.aspx
    (no organization path; the port only when it is not the scheme's default).

    .PARAMETER OrganizationId
    The CRM organization id: the App for Outlook client id.

    .PARAMETER ServerRoleIdentifier
    Identifier of the CRM IFD relying party for Grant-AdfsApplicationPermission (e.g. https://auth.contoso.com:444/,
    with the trailing slash). When not given it is looked up among the relying party trusts: the one identifier
    whose host starts with "auth." under the organization's domain.

    .PARAMETER FormsAuthentication
    @{ intranet = $true; extranet = $false }: the zones where FormsAuthentication must be a primary provider
    (the lists are read, merged and written back; nothing is removed).

    .PARAMETER Certificate
    Optional @{ thumbprint = '...'; ssl = $true; serviceCommunications = $true }: the certificate must already be in
    LocalMachine\My of this server (install-certificate); service communications needs KeySpec 1.

    .PARAMETER RelyingPartyTrusts
    Names of the CRM relying party trusts to refresh from their federation metadata (Update-AdfsRelyingPartyTrust).

    .PARAMETER ExpectedEncryptionThumbprint
    When given, a trust is refreshed only while its encryption certificate differs from it, and must show it after.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] [ValidatePattern('^https://')] [string] $OrganizationUrl,
        [string] $OrganizationId,
        [bool] $OutlookApp = $true,
        [string] $OutlookClientName = 'Dynamics 365 App for Outlook',
        [bool] $GrantApplicationPermission = $true,
        [string] $ServerRoleIdentifier,
        [hashtable] $FormsAuthentication = @{ intranet = $true; extranet = $false },
        [hashtable] $Certificate,
        [string[]] $RelyingPartyTrusts = @(),
        [string] $ExpectedEncryptionThumbprint,
        [ValidateSet('when-changed', 'always', 'never')] [string] $Restart = 'when-changed'
    )
    $ErrorActionPreference = 'Stop'
    $state = New-D365PhaseState -Phase 'configure-adfs' -Plan ([bool]$WhatIfPreference)
    $OrganizationUrl = $OrganizationUrl.TrimEnd('/')
    $stepId = 'adfs-module'
    try {
        [void](Test-D365AdfsModuleStep -State $state)
        $stepId = 'forms-authentication'
        [void](Set-D365FormsAuthenticationStep -State $state -Zones $FormsAuthentication)
        $stepId = 'outlook-client'
        [void](Set-D365OutlookClientStep -State $state -Enabled $OutlookApp -OrganizationId $OrganizationId -Name $OutlookClientName -RedirectUri (Get-D365OutlookRedirectUri -OrganizationUrl $OrganizationUrl))
        $stepId = 'application-permission'
        [void](Grant-D365ApplicationPermissionStep -State $state -Enabled ($OutlookApp -and $GrantApplicationPermission) -OrganizationId $OrganizationId -ServerRoleIdentifier $ServerRoleIdentifier -OrganizationUrl $OrganizationUrl)
        $stepId = 'adfs-certificate'
        [void](Set-D365AdfsCertificateStep -State $state -Certificate $Certificate)
        $stepId = 'relying-party-trusts'
        [void](Update-D365RelyingPartyTrustStep -State $state -Names $RelyingPartyTrusts -ExpectedEncryptionThumbprint $ExpectedEncryptionThumbprint)
        # The AD FS service (Microsoft's procedure restarts it after the application permission).
        $stepId = 'restart-services'
        [void](Restart-D365ServicesStep -State $state -Restart $Restart -Services @('adfssrv'))
    } catch {
        Stop-D365Phase -State $state -Step $stepId -ErrorRecord $_
    }
    return $state
}

# The App for Outlook redirect URI. AD FS compares it exactly, and the mail app builds it from the server's
# scheme://host[:port] and /crmmailapp/code_auth.aspx: no organization path, no default port.
function Get-D365OutlookRedirectUri {
    param([Parameter(Mandatory = $true)] [string] $OrganizationUrl)
    $uri = [System.Uri]$OrganizationUrl
    $authority = $uri.Scheme + '://' + $uri.Host
    if (-not $uri.IsDefaultPort) { $authority = $authority + ':' + $uri.Port }
    return $authority + '/crmmailapp/code_auth.aspx'
}

# The AD FS client with this id, or null. Get-AdfsClient -ClientId for an unknown id is not documented (it may
# throw): all clients are listed and filtered.
function Get-D365AdfsClient {
    param([Parameter(Mandatory = $true)] [string] $ClientId)
    return @(Get-AdfsClient | Where-Object { [string]$_.ClientId -eq $ClientId }) | Select-Object -First 1
}

# The IFD relying party identifier the App for Outlook client needs permission on: given, or the single trust
# identifier https://auth.<organization's domain>[:port]/ found among the relying party trusts.
function Resolve-D365ServerRoleIdentifier {
    param([string] $ServerRoleIdentifier, [string] $OrganizationUrl)
    if ($ServerRoleIdentifier) {
        if (-not $ServerRoleIdentifier.EndsWith('/')) { Stop-D365Step "serverRoleIdentifier '$ServerRoleIdentifier' must end with a slash (Microsoft: you must include the trailing forward slash)" -ErrorId 'AdfsServerRoleIdentifierInvalid' -Category InvalidArgument }
        return $ServerRoleIdentifier
    }
    $hostName = ([System.Uri]$OrganizationUrl).Host
    $labels = $hostName.Split('.')
    $candidates = New-Object System.Collections.ArrayList
    foreach ($trust in @(Get-AdfsRelyingPartyTrust)) {
        foreach ($identifier in @($trust.Identifier)) {
            $uri = $null
            if (-not [System.Uri]::TryCreate([string]$identifier, [System.UriKind]::Absolute, [ref]$uri)) { continue }
            if (-not $uri.Host.StartsWith('auth.', [System.StringComparison]::OrdinalIgnoreCase)) { continue }
            $domain = $uri.Host.Substring(5)
            for ($i = 0; $i -lt $labels.Count - 1; $i++) {
                if (($labels[$i..($labels.Count - 1)] -join '.') -eq $domain) {
                    if (-not ($candidates -contains [string]$identifier)) { [void]$candidates.Add([string]$identifier) }
                    break
                }
            }
        }
    }
    if ($candidates.Count -ne 1) {
        Stop-D365Step ("serverRoleIdentifier is not set and {0} relying party identifiers look like the CRM IFD auth endpoint ({1}); set serverRoleIdentifier (e.g. https://auth.contoso.com:444/)" -f $candidates.Count, ($candidates -join ', ')) -ErrorId 'AdfsServerRoleIdentifierNotFound' -Category ObjectNotFound
    }
    $found = [string]$candidates[0]
    if (-not $found.EndsWith('/')) { $found = $found + '/' }
    return $found
}
