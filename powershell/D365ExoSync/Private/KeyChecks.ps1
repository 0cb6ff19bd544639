# Decisions over the key information that Get-D365PrivateKeyInfo reads (pure logic, no Windows API).

# CryptoKeyRights / file-system rights bits that give read access to a key (windows-facts 2.4):
# GENERIC_READ (0x80000000), GENERIC_ALL (0x10000000), or FileSystemRights.Read (0x20089) in full.
$script:D365GenericRead = [int64]2147483648
$script:D365GenericAll = [int64]268435456
$script:D365FileRead = [int64]131209

function Test-D365RightsGrantRead {
    param([int64] $Rights)
    if ($Rights -lt 0) { $Rights = $Rights + [int64]4294967296 }
    if (($Rights -band $script:D365GenericRead) -ne 0) { return $true }
    if (($Rights -band $script:D365GenericAll) -ne 0) { return $true }
    if (($Rights -band $script:D365FileRead) -eq $script:D365FileRead) { return $true }
    return $false
}

# 'allowed' | 'missing' | 'denied' for one SID over the key's access rules.
function Get-D365KeyReadAccess {
    param([Parameter(Mandatory = $true)] $KeyInfo, [Parameter(Mandatory = $true)] [string] $Sid)
    $allowed = $false
    foreach ($rule in @($KeyInfo.accessRules)) {
        if ($null -eq $rule -or $rule.sid -ne $Sid) { continue }
        if (-not (Test-D365RightsGrantRead -Rights $rule.rights)) { continue }
        if ($rule.type -eq 'Deny') { return 'denied' }
        $allowed = $true
    }
    if ($allowed) { return 'allowed' }
    return 'missing'
}

# HRESULTs .NET Framework's X509Certificate2.PrivateKey throws with (CryptographicException.HResult; winerror.h).
$script:D365KeyErrors = @{
    ([int]-2146893802) = 'keyset-missing'   # 0x80090016 NTE_BAD_KEYSET "Keyset does not exist"
    ([int]-2147024891) = 'access-denied'    # 0x80070005 E_ACCESSDENIED
    ([int]-2146893804) = 'cng'              # 0x80090014 NTE_BAD_PROV_TYPE "Invalid provider type specified"
}

function ConvertTo-D365KeyErrorKind {
    param([int] $HResult, [bool] $Unauthorized)
    if ($Unauthorized) { return 'access-denied' }
    if ($script:D365KeyErrors.ContainsKey($HResult)) { return $script:D365KeyErrors[$HResult] }
    return 'unreadable'
}

# Null when the key is usable for S2S (legacy CSP and KeySpec 1 = AT_KEYEXCHANGE), else the reason, quoting the
# errors admins see when it is not (field-problems 5 and 6).
function Get-D365KeyProblem {
    param([Parameter(Mandatory = $true)] $KeyInfo, [Parameter(Mandatory = $true)] [string] $Thumbprint)
    if (-not $KeyInfo.hasPrivateKey) {
        return "certificate $Thumbprint has no private key in LocalMachine\My: import the PFX that holds the key."
    }
    if ($KeyInfo.errorKind -eq 'keyset-missing') {
        return ("the private key of certificate {0} is missing: the certificate in LocalMachine\My points to a key file that is gone (""Keyset does not exist""; {1}). Import the PFX again (this phase does it when the PFX is given)." -f $Thumbprint, $KeyInfo.error)
    }
    if ($KeyInfo.errorKind -eq 'access-denied') {
        return ("the private key of certificate {0} cannot be opened by this account (access denied; {1}). Run the runner or agent service as a member of the local Administrators group, elevated." -f $Thumbprint, $KeyInfo.error)
    }
    if ($KeyInfo.errorKind -eq 'unreadable') {
        return ("the private key of certificate {0} cannot be read: {1}" -f $Thumbprint, $KeyInfo.error)
    }
    $fix = 'Re-export the PFX naming the legacy CSP "Microsoft Enhanced RSA and AES Cryptographic Provider" (attribute 1.3.6.1.4.1.311.17.1) with key usage key-exchange, remove the certificate and import again.'
    if ($KeyInfo.providerType -eq 0 -or $KeyInfo.errorKind -eq 'cng') {
        $detail = ''
        if ($KeyInfo.error) { $detail = " (" + $KeyInfo.error + ")" }
        return ("the private key of certificate {0} is held by a CNG key storage provider (ProviderType 0){1}. Dynamics 365 needs a legacy CryptoAPI key with KeySpec 1; with this key CRM fails with ""Invalid provider type specified"". {2}" -f $Thumbprint, $detail, $fix)
    }
    if ($KeyInfo.keyNumber -ne 'Exchange') {
        return ("the private key of certificate {0} has KeySpec {1} in provider ""{2}""; Dynamics 365 and AD FS need KeySpec 1 (AT_KEYEXCHANGE), otherwise they fail with ""The private key does not support the exchange KeySpec."" {3}" -f $Thumbprint, $KeyInfo.keyNumber, $KeyInfo.provider, $fix)
    }
    return $null
}

function ConvertTo-D365KeyEvidence {
    param($KeyInfo)
    if ($null -eq $KeyInfo) { return $null }
    return [ordered]@{
        hasPrivateKey = $KeyInfo.hasPrivateKey
        provider      = $KeyInfo.provider
        providerType  = $KeyInfo.providerType
        keySpec       = $KeyInfo.keyNumber
        container     = $KeyInfo.uniqueName
        error         = $KeyInfo.errorKind
    }
}

function ConvertTo-D365CertificateEvidence {
    param($Certificate)
    if ($null -eq $Certificate) { return $null }
    return [ordered]@{
        thumbprint = $Certificate.Thumbprint
        subject    = $Certificate.Subject
        notBefore  = ConvertTo-D365IsoDate $Certificate.NotBefore
        notAfter   = ConvertTo-D365IsoDate $Certificate.NotAfter
    }
}
