# configure-crm's decisions, without I/O: from what was read and what is wanted to what must change. Each returns
# the step's before and after and whether they differ; the step functions (CrmSteps.ps1) read, call these, and change
# only the difference.

# The S2STokenIssuer certificate: exactly the wanted one, and no other.
function Get-D365S2SCertificateChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([AllowEmptyCollection()] [string[]] $Current = @(), [Parameter(Mandatory = $true)] [string] $Wanted)
    $thumbprints = @($Current)
    return [pscustomobject][ordered]@{
        differs = -not ($thumbprints.Count -eq 1 -and $thumbprints[0] -eq $Wanted)
        before  = [ordered]@{ thumbprints = $thumbprints }
        after   = [ordered]@{ thumbprints = @($Wanted) }
    }
}

# Named settings (ServerSettings): the ones whose current value is not the wanted one, with their wanted values.
function Get-D365SettingsChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] [System.Collections.IDictionary] $Current, [Parameter(Mandatory = $true)] [System.Collections.IDictionary] $Wanted)
    $changes = @{}
    foreach ($name in $Wanted.Keys) {
        if ([string]$Current[$name] -ne [string]$Wanted[$name]) { $changes[$name] = $Wanted[$name] }
    }
    return [pscustomobject][ordered]@{ differs = ($changes.Count -gt 0); changes = $changes; before = $Current; after = $Wanted }
}

# One value (the organization's S2STenantId, OAuthClaimsSettings.Enabled), compared as text.
function Get-D365ValueChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param($Current, [Parameter(Mandatory = $true)] $Wanted)
    return [pscustomobject][ordered]@{ differs = ([string]$Current -ne [string]$Wanted); before = $Current; after = $Wanted }
}

# The step whose change sets a value that Get-D365CrmReadBackMismatch names (a ServerSettings value otherwise).
function Get-D365CrmReadBackStep {
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)] [string] $Name)
    switch ($Name) {
        'S2STokenIssuer certificate' { return 's2s-certificate' }
        'S2STenantId' { return 'organization-tenant' }
        'OAuthClaimsSettings.Enabled' { return 'oauth-claims' }
        default { return 'server-settings' }
    }
}

# What the final read-back shows that is not what was asked for (names of the values; empty when all match).
function Get-D365CrmReadBackMismatch {
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory = $true)] [System.Collections.IDictionary] $ReadBack,
        [Parameter(Mandatory = $true)] [string] $Thumbprint,
        [Parameter(Mandatory = $true)] [System.Collections.IDictionary] $ServerSettings,
        [Parameter(Mandatory = $true)] [string] $TenantId,
        [bool] $EnableOAuthClaims = $true
    )
    $mismatch = New-Object System.Collections.ArrayList
    if ((Get-D365S2SCertificateChange -Current @($ReadBack['s2sCertificates']) -Wanted $Thumbprint).differs) { [void]$mismatch.Add('S2STokenIssuer certificate') }
    $settings = (Get-D365SettingsChange -Current $ReadBack['serverSettings'] -Wanted $ServerSettings).changes
    foreach ($name in $ServerSettings.Keys) { if ($settings.ContainsKey($name)) { [void]$mismatch.Add($name) } }
    if ((Get-D365ValueChange -Current $ReadBack['s2sTenantId'] -Wanted $TenantId).differs) { [void]$mismatch.Add('S2STenantId') }
    if ($EnableOAuthClaims -and -not $ReadBack['oauthClaimsEnabled']) { [void]$mismatch.Add('OAuthClaimsSettings.Enabled') }
    return [string[]]$mismatch.ToArray()
}
