# The only place that touches Windows-only .NET APIs (certificate store, CAPI key containers, Windows identities).
# Each function is small on purpose: the phase logic around them is tested under pwsh with fakes that replace
# exactly these functions (test/powershell/fakes), and these bodies are checked by review and the compat gate.

function Get-D365ServerName {
    return [System.Environment]::MachineName
}

function Get-D365CurrentIdentityName {
    return [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
}

# 'DOMAIN\user', 'NT AUTHORITY\NETWORK SERVICE', 'IIS AppPool\CRMAppPool' or a SID string -> SID string.
function ConvertTo-D365Sid {
    param([Parameter(Mandatory = $true)] [string] $Account)
    if ($Account -match '^S-1-[0-9-]+$') { return $Account }
    $nt = New-Object System.Security.Principal.NTAccount -ArgumentList $Account
    return $nt.Translate([System.Security.Principal.SecurityIdentifier]).Value
}

function Open-D365MachineStore {
    param([System.Security.Cryptography.X509Certificates.OpenFlags] $Flags)
    $store = New-Object System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @(
        [System.Security.Cryptography.X509Certificates.StoreName]::My,
        [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine)
    $store.Open($Flags)
    return $store
}

# Certificates in LocalMachine\My, optionally by thumbprint or by exact subject distinguished name.
function Get-D365MachineCertificate {
    param([string] $Thumbprint, [string] $Subject)
    $store = Open-D365MachineStore -Flags ([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadOnly)
    try {
        $found = New-Object System.Collections.ArrayList
        foreach ($certificate in $store.Certificates) {
            if ($Thumbprint -and $certificate.Thumbprint -ne $Thumbprint) { continue }
            if ($Subject -and $certificate.Subject -ne $Subject) { continue }
            [void]$found.Add($certificate)
        }
        return $found.ToArray()
    } finally {
        $store.Close()
    }
}

function Add-D365MachineCertificate {
    param([Parameter(Mandatory = $true)] $Certificate)
    $store = Open-D365MachineStore -Flags ([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadWrite)
    try { $store.Add($Certificate) } finally { $store.Close() }
}

function Remove-D365MachineCertificate {
    param([Parameter(Mandatory = $true)] [string] $Thumbprint)
    $store = Open-D365MachineStore -Flags ([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadWrite)
    try {
        foreach ($certificate in @($store.Certificates)) {
            if ($certificate.Thumbprint -eq $Thumbprint) { $store.Remove($certificate) }
        }
    } finally {
        $store.Close()
    }
}

# Loads the PFX in-process (never Import-PfxCertificate, never certutil -p: no command line holds the password).
# -Persist: MachineKeySet|PersistKeySet, the key stays in the machine key store (not exportable: no Exportable flag).
# Without -Persist: MachineKeySet only, the temporary key container goes away when the object is reset; used to
# read the thumbprint before anything is persisted.
# With .NET Framework (Windows PowerShell 5.1) the key lands in the CSP the PFX names (attribute 1.3.6.1.4.1.311.17.1),
# or, when it names none, in a CAPI CSP with AT_KEYEXCHANGE for RSA (windows-facts 1.2, 1.4). It is verified after the import.
function Read-D365PfxCertificate {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [Parameter(Mandatory = $true)] [System.Security.SecureString] $Password,
        [switch] $Persist
    )
    $flags = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::MachineKeySet
    if ($Persist) { $flags = $flags -bor [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::PersistKeySet }
    $bytes = [System.IO.File]::ReadAllBytes($Path)
    return New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList @($bytes, $Password, $flags)
}

function Reset-D365Certificate {
    param($Certificate)
    if ($null -ne $Certificate) { $Certificate.Reset() }
}

# Provider, KeySpec and the key's access rules, read through CAPI.
# .NET Framework's X509Certificate2.PrivateKey returns an RSACryptoServiceProvider for CAPI keys and throws
# "Invalid provider type specified" for CNG keys (windows-facts 1.6). GetRSAPrivateKey() is not used: it up-converts.
function Get-D365PrivateKeyInfo {
    param([Parameter(Mandatory = $true)] $Certificate)
    $info = [ordered]@{
        hasPrivateKey = [bool]$Certificate.HasPrivateKey
        provider      = $null
        providerType  = 0
        keyNumber     = 'None'
        containerName = $null
        uniqueName    = $null
        error         = $null
        accessRules   = @()
    }
    if (-not $Certificate.HasPrivateKey) { return [pscustomobject]$info }
    try {
        $key = $Certificate.PrivateKey
    } catch {
        $info.error = $_.Exception.Message
        return [pscustomobject]$info
    }
    if ($null -eq $key -or $null -eq $key.CspKeyContainerInfo) {
        $info.error = 'the private key is not held by a CryptoAPI provider (CNG key)'
        return [pscustomobject]$info
    }
    $container = $key.CspKeyContainerInfo
    $info.provider = $container.ProviderName
    $info.providerType = [int]$container.ProviderType
    $info.keyNumber = [string]$container.KeyNumber
    $info.containerName = $container.KeyContainerName
    $info.uniqueName = $container.UniqueKeyContainerName
    $rules = New-Object System.Collections.ArrayList
    foreach ($rule in $container.CryptoKeySecurity.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])) {
        [void]$rules.Add([pscustomobject]@{
                sid    = $rule.IdentityReference.Value
                rights = [int64]$rule.CryptoKeyRights
                type   = [string]$rule.AccessControlType
            })
    }
    $info.accessRules = $rules.ToArray()
    return [pscustomobject]$info
}

# Adds an Allow GenericRead rule for the SID to the key container's security descriptor: the CAPI way, no file path
# needed (CspParameters.CryptoKeySecurity; RSACryptoServiceProvider writes it when it opens the existing key).
function Grant-D365PrivateKeyRead {
    param(
        [Parameter(Mandatory = $true)] $Certificate,
        [Parameter(Mandatory = $true)] [string] $Sid
    )
    $container = $Certificate.PrivateKey.CspKeyContainerInfo
    $parameters = New-Object System.Security.Cryptography.CspParameters -ArgumentList @($container.ProviderType, $container.ProviderName, $container.KeyContainerName)
    $parameters.Flags = [System.Security.Cryptography.CspProviderFlags]::UseExistingKey -bor [System.Security.Cryptography.CspProviderFlags]::UseMachineKeyStore
    $parameters.KeyNumber = [int]$container.KeyNumber
    $security = $container.CryptoKeySecurity
    $identity = New-Object System.Security.Principal.SecurityIdentifier -ArgumentList $Sid
    $rule = New-Object System.Security.AccessControl.CryptoKeyAccessRule -ArgumentList @($identity, [System.Security.AccessControl.CryptoKeyRights]::GenericRead, [System.Security.AccessControl.AccessControlType]::Allow)
    $security.AddAccessRule($rule)
    $parameters.CryptoKeySecurity = $security
    $provider = New-Object System.Security.Cryptography.RSACryptoServiceProvider -ArgumentList $parameters
    $provider.PersistKeyInCsp = $true
    $provider.Dispose()
}

# The S2STokenIssuer row of the CRM configuration database carries the public certificate as base64 DER in Data
# (no Thumbprint property): the thumbprint is computed from it (windows-facts 6.2).
function Get-D365ThumbprintFromBase64 {
    param([Parameter(Mandatory = $true)] [string] $Data)
    $bytes = [System.Convert]::FromBase64String($Data)
    $certificate = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList @(, $bytes)
    try { return $certificate.Thumbprint } finally { $certificate.Reset() }
}

function ConvertTo-D365PlainText {
    param([Parameter(Mandatory = $true)] [System.Security.SecureString] $Secure)
    $pointer = [System.Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secure)
    try { return [System.Runtime.InteropServices.Marshal]::PtrToStringBSTR($pointer) } finally { [System.Runtime.InteropServices.Marshal]::ZeroFreeBSTR($pointer) }
}
