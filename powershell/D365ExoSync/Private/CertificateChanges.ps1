# install-certificate's decisions, without I/O: from what the store, the key and IIS show to what must change. The
# step functions (CertificateSteps.ps1) read, call these, and change only the difference.

# The certificate and its key: imported when it is missing or its key has a problem (no key, CNG, KeySpec 2, ...).
function Get-D365CertificateInstallChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([bool] $Present, $KeyEvidence, [string] $Problem)
    $before = [ordered]@{ present = $Present; key = $KeyEvidence; problem = $null }
    if ($Problem) { $before.problem = $Problem }
    # What a good import leaves (apply reads the real key back).
    $planned = [ordered]@{ present = $true; key = [ordered]@{ hasPrivateKey = $true; providerType = 'legacy CSP (non-zero)'; keySpec = 'Exchange' }; problem = $null }
    return [pscustomobject][ordered]@{ differs = [bool]$Problem; replace = ($Present -and [bool]$Problem); before = $before; after = $planned }
}

# Read on the key: the accounts whose access is not 'allowed' (a 'denied' one cannot be fixed by a grant: named).
function Get-D365KeyAccessChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] [System.Collections.IDictionary] $Access)
    $missing = New-Object System.Collections.ArrayList
    $denied = $null
    $after = [ordered]@{}
    foreach ($account in $Access.Keys) {
        $after[$account] = 'allowed'
        if ($Access[$account] -eq 'denied' -and $null -eq $denied) { $denied = $account }
        if ($Access[$account] -ne 'allowed') { [void]$missing.Add($account) }
    }
    return [pscustomobject][ordered]@{ differs = ($missing.Count -gt 0); missing = [string[]]$missing.ToArray(); denied = $denied; before = $Access; after = $after }
}

# The HTTPS bindings of the site: each must show the certificate.
function Get-D365BindingChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([AllowEmptyCollection()] [string[]] $Current = @(), [Parameter(Mandatory = $true)] [string] $Thumbprint)
    $hashes = @($Current)
    return [pscustomobject][ordered]@{
        differs = @($hashes | Where-Object { $_ -ne $Thumbprint }).Count -gt 0
        before  = $hashes
        after   = @($hashes | ForEach-Object { $Thumbprint })
    }
}

# Older certificates with the same subject: every one but the new certificate goes, with the key files no
# remaining certificate uses.
function Get-D365OlderCertificatesChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [AllowEmptyCollection()] [object[]] $SameSubject = @(),
        [Parameter(Mandatory = $true)] [string] $Thumbprint,
        [AllowEmptyCollection()] [string[]] $KeyFiles = @(),
        [string] $KeptKeyFile
    )
    $older = @($SameSubject | Where-Object { $_.Thumbprint -ne $Thumbprint })
    $files = @($KeyFiles | Where-Object { $_ -and $_ -ne $KeptKeyFile } | Select-Object -Unique)
    return [pscustomobject][ordered]@{
        differs     = ($older.Count -gt 0)
        older       = $older
        thumbprints = @($older | ForEach-Object { $_.Thumbprint })
        keyFiles    = $files
    }
}

# The https binding that still uses a certificate about to be removed (removing it would break that site), or $null.
# In a plan, a binding this run rebinds (step iis-binding) does not count: it still shows the old certificate.
function Get-D365BlockingBinding {
    [CmdletBinding()]
    [OutputType([object])]
    param([AllowEmptyCollection()] [object[]] $Bindings = @(), [AllowEmptyCollection()] [string[]] $Removed = @(), [AllowEmptyCollection()] [string[]] $Rebound = @(), [bool] $Plan)
    foreach ($binding in @($Bindings)) {
        if ($Plan -and (@($Rebound) -contains [string]$binding.bindingInformation)) { continue }
        if (@($Removed) -contains [string]$binding.certificateHash) { return $binding }
    }
    return $null
}
