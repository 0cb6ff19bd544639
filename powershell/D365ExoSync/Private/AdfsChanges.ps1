# configure-adfs's decisions, without I/O: from what was read (the global authentication policy, the client, the
# permissions, the certificates, the trusts) and what is wanted to what must change. The step functions
# (AdfsSteps.ps1) read, call these, and change only the difference.

# Forms authentication: for each zone where it is wanted and missing, the provider list with it added (the cmdlet
# replaces a list: nothing already there is removed).
function Get-D365FormsAuthenticationChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $Policy, [Parameter(Mandatory = $true)] [hashtable] $Zones)
    $properties = [ordered]@{ intranet = 'PrimaryIntranetAuthenticationProvider'; extranet = 'PrimaryExtranetAuthenticationProvider' }
    $before = [ordered]@{}
    $after = [ordered]@{}
    $update = @{}
    foreach ($zone in $properties.Keys) {
        $property = $properties[$zone]
        $current = [string[]]@($Policy.$property)
        $before[$zone] = $current
        $after[$zone] = $current
        if ([bool](Get-D365Option $Zones $zone $false) -and -not ($current -contains 'FormsAuthentication')) {
            $merged = Merge-D365List -Current $current -Wanted @('FormsAuthentication')
            $update[$property] = $merged
            $after[$zone] = $merged
        }
    }
    return [pscustomobject][ordered]@{ differs = ($update.Count -gt 0); update = $update; before = $before; after = $after }
}

# The App for Outlook client: to add (none yet), or to update (name, a missing redirect URI: merged, case-sensitive
# as AD FS compares them; disabled: enabled).
function Get-D365OutlookClientChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param($Client, [Parameter(Mandatory = $true)] [string] $ClientId, [Parameter(Mandatory = $true)] [string] $Name, [Parameter(Mandatory = $true)] [string] $RedirectUri)
    $after = [ordered]@{ clientId = $ClientId; name = $Name; redirectUri = @($RedirectUri); enabled = $true }
    if ($null -eq $Client) {
        return [pscustomobject][ordered]@{ differs = $true; add = $true; update = $false; enable = $false; before = $null; after = $after }
    }
    $uris = [string[]]@($Client.RedirectUri)
    $before = [ordered]@{ clientId = [string]$Client.ClientId; name = [string]$Client.Name; redirectUri = $uris; enabled = [bool]$Client.Enabled }
    $after.redirectUri = Merge-D365List -Current $uris -Wanted @($RedirectUri) -CaseSensitive
    $update = ([string]$Client.Name -ne $Name) -or ($after.redirectUri.Count -ne $uris.Count)
    $enable = -not [bool]$Client.Enabled
    return [pscustomobject][ordered]@{ differs = ($update -or $enable); add = $false; update = $update; enable = $enable; before = $before; after = $after }
}

# The application permission: the client needs one on the CRM relying party (server role identifier).
function Get-D365ApplicationPermissionChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([AllowEmptyCollection()] [string[]] $Current = @(), [Parameter(Mandatory = $true)] [string] $Resource)
    $servers = @($Current)
    return [pscustomobject][ordered]@{ differs = -not ($servers -contains $Resource); before = $servers; after = (Merge-D365List -Current $servers -Wanted @($Resource)) }
}

# The AD FS certificates: service communications (exactly the wanted one), the SSL bindings (all on it) and Read on
# the key for NT SERVICE\adfssrv. A $null list is a certificate kind that is not managed.
function Get-D365AdfsCertificateChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] [string] $Thumbprint,
        [AllowEmptyCollection()] [string[]] $ServiceCommunications,
        [AllowEmptyCollection()] [string[]] $Ssl,
        [Parameter(Mandatory = $true)] [string] $KeyAccess
    )
    $before = [ordered]@{}
    $after = [ordered]@{}
    $changes = New-Object System.Collections.ArrayList
    if ($null -ne $ServiceCommunications) {
        $current = @($ServiceCommunications)
        $before['serviceCommunications'] = $current
        $after['serviceCommunications'] = @($Thumbprint)
        if (-not ($current.Count -eq 1 -and $current[0] -eq $Thumbprint)) { [void]$changes.Add('serviceCommunications') }
    }
    if ($null -ne $Ssl) {
        $current = @($Ssl)
        $before['ssl'] = $current
        $after['ssl'] = @($current | ForEach-Object { $Thumbprint })
        if ($current.Count -eq 0 -or @($current | Where-Object { $_ -ne $Thumbprint }).Count -gt 0) {
            [void]$changes.Add('ssl')
            if ($current.Count -eq 0) { $after['ssl'] = @($Thumbprint) }
        }
    }
    $before['adfssrvKeyRead'] = $KeyAccess
    $after['adfssrvKeyRead'] = 'allowed'
    if ($KeyAccess -ne 'allowed') { [void]$changes.Add('adfssrvKeyRead') }
    return [pscustomobject][ordered]@{ differs = ($changes.Count -gt 0); changes = [string[]]$changes.ToArray(); before = $before; after = $after }
}

# The relying party trusts to refresh: those whose encryption certificate is not the expected one, or, without an
# expected one, all of them when an earlier step changed something (their metadata may have changed with it).
function Get-D365RelyingPartyTrustChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] [System.Collections.IDictionary] $Current, [string] $ExpectedEncryptionThumbprint, [bool] $Pending)
    $after = [ordered]@{}
    $refresh = New-Object System.Collections.ArrayList
    foreach ($name in $Current.Keys) {
        $after[$name] = $Current[$name]
        if ($ExpectedEncryptionThumbprint) {
            $expected = $ExpectedEncryptionThumbprint.ToUpperInvariant()
            if ($Current[$name] -ne $expected) { [void]$refresh.Add($name); $after[$name] = $expected }
        } elseif ($Pending) {
            [void]$refresh.Add($name)
        }
    }
    return [pscustomobject][ordered]@{ differs = ($refresh.Count -gt 0); refresh = [string[]]$refresh.ToArray(); before = $Current; after = $after }
}
