# The only place that touches Windows-only .NET APIs (certificate store, CAPI key containers, Windows identities).
# Each function is small on purpose: the phase logic around them is tested under pwsh with fakes that replace
# exactly these functions (sandbox/powershell/FakeWindows.psm1), and these bodies are checked by review and the compat gate.

function Get-D365ServerName {
    return [System.Environment]::MachineName
}

function Get-D365CurrentIdentityName {
    return [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
}

# Elevated (a member of BUILTIN\Administrators with the admin token): reading and changing the key files of
# LocalMachine and the certificate stores needs it.
function Test-D365Elevated {
    $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object System.Security.Principal.WindowsPrincipal -ArgumentList $identity
    return $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
}

# An account name the security subsystem can look up ('DOMAIN\user', 'DOMAIN\gmsa$', 'user@domain',
# 'NT AUTHORITY\NETWORK SERVICE', 'IIS AppPool\CRMAppPool') -> SID string. NTAccount.Translate throws
# IdentityNotMappedException for names LookupAccountName does not know: Resolve-D365AccountSid maps those first.
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
# or, when it names none, in a CAPI CSP with AT_KEYEXCHANGE for RSA. It is verified after the import.
# -Bytes: the PFX already read into memory (the entry script deletes the file as soon as it has read it).
function Read-D365PfxCertificate {
    param(
        [string] $Path,
        [byte[]] $Bytes,
        [Parameter(Mandatory = $true)] [System.Security.SecureString] $Password,
        [switch] $Persist
    )
    $flags = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::MachineKeySet
    if ($Persist) { $flags = $flags -bor [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::PersistKeySet }
    if ($null -eq $Bytes) { $Bytes = [System.IO.File]::ReadAllBytes($Path) }
    return New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList @($Bytes, $Password, $flags)
}

# The PFX's other certificates that are not self-signed (the intermediates) into LocalMachine\CA when missing, as
# certutil -importpfx does: X509Certificate2 keeps only the leaf, and IIS and AD FS present the chain they find in
# the machine stores. Roots are never added (trusting a root is the admin's decision). Returns one entry per
# intermediate: thumbprint, subject, added.
# On .NET Framework X509Certificate2Collection.Import takes the password as a string: it lives for this one call.
function Add-D365PfxIntermediateCertificates {
    param(
        [Parameter(Mandatory = $true)] [byte[]] $Bytes,
        [Parameter(Mandatory = $true)] [System.Security.SecureString] $Password,
        [Parameter(Mandatory = $true)] [string] $LeafThumbprint,
        [bool] $Plan
    )
    $collection = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2Collection
    $collection.Import($Bytes, (ConvertTo-D365PlainText -Secure $Password), [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::MachineKeySet)
    $store = New-Object System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @(
        [System.Security.Cryptography.X509Certificates.StoreName]::CertificateAuthority,
        [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine)
    $flags = [System.Security.Cryptography.X509Certificates.OpenFlags]::ReadWrite
    if ($Plan) { $flags = [System.Security.Cryptography.X509Certificates.OpenFlags]::ReadOnly }
    $store.Open($flags)
    $report = New-Object System.Collections.ArrayList
    try {
        foreach ($certificate in $collection) {
            if ($certificate.Thumbprint -eq $LeafThumbprint -or $certificate.Subject -eq $certificate.Issuer) { continue }
            $present = $store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $certificate.Thumbprint, $false).Count -gt 0
            if (-not $present -and -not $Plan) { $store.Add($certificate) }
            [void]$report.Add([ordered]@{ thumbprint = $certificate.Thumbprint; subject = $certificate.Subject; added = (-not $present) })
        }
    } finally {
        $store.Close()
        # The leaf's temporary key container goes with the object.
        foreach ($certificate in $collection) { $certificate.Reset() }
    }
    return $report.ToArray()
}

function Reset-D365Certificate {
    param($Certificate)
    if ($null -ne $Certificate) { $Certificate.Reset() }
}

# Where a machine key lives: CryptoAPI keys in ProgramData\Microsoft\Crypto\RSA\MachineKeys, CNG keys in
# ProgramData\Microsoft\Crypto\Keys, both named by the key's unique container name.
function Get-D365MachineKeyPath {
    param([Parameter(Mandatory = $true)] [string] $UniqueName, [switch] $Cng)
    $data = [System.Environment]::GetFolderPath([System.Environment+SpecialFolder]::CommonApplicationData)
    if ($Cng) { return [System.IO.Path]::Combine($data, 'Microsoft', 'Crypto', 'Keys', $UniqueName) }
    return [System.IO.Path]::Combine($data, 'Microsoft', 'Crypto', 'RSA', 'MachineKeys', $UniqueName)
}

# Provider, KeySpec, key file and the key file's access rules.
# .NET Framework's X509Certificate2.PrivateKey returns an RSACryptoServiceProvider for CAPI keys and throws
# "Invalid provider type specified" (NTE_BAD_PROV_TYPE) for CNG keys; "Keyset does not exist" (NTE_BAD_KEYSET) when
# the key file is gone; access denied when the runner may not open it. Each is named by its HRESULT (errorKind).
# The access rules come from the key file (File.GetAccessControl, Access section only): CspKeyContainerInfo's
# CryptoKeySecurity also reads the SACL and needs SeSecurityPrivilege.
function Get-D365PrivateKeyInfo {
    param([Parameter(Mandatory = $true)] $Certificate)
    $info = [ordered]@{
        hasPrivateKey = [bool]$Certificate.HasPrivateKey
        provider      = $null
        providerType  = 0
        keyNumber     = 'None'
        containerName = $null
        uniqueName    = $null
        keyFile       = $null
        error         = $null
        errorKind     = $null
        accessRules   = @()
    }
    if (-not $Certificate.HasPrivateKey) { return [pscustomobject]$info }
    $key = $null
    try {
        $key = $Certificate.PrivateKey
    } catch {
        $exception = $_.Exception
        while ($null -ne $exception.InnerException -and -not ($exception -is [System.Security.Cryptography.CryptographicException]) -and -not ($exception -is [System.UnauthorizedAccessException])) { $exception = $exception.InnerException }
        $info.error = $exception.Message
        $info.errorKind = ConvertTo-D365KeyErrorKind -HResult $exception.HResult -Unauthorized ($exception -is [System.UnauthorizedAccessException])
        if ($info.errorKind -eq 'cng') {
            # The CNG key's file, so a bad import can be cleaned up (GetRSAPrivateKey opens CNG keys on 4.6+).
            try {
                $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate)
                if ($rsa -is [System.Security.Cryptography.RSACng]) {
                    $cng = [System.Security.Cryptography.RSACng]$rsa
                    $info.provider = $cng.Key.Provider.Provider
                    $info.uniqueName = $cng.Key.UniqueName
                    $info.keyFile = Get-D365MachineKeyPath -UniqueName $cng.Key.UniqueName -Cng
                }
            } catch {
                Write-Verbose ('CNG key not readable: ' + $_.Exception.Message)
            }
        }
        return [pscustomobject]$info
    }
    if ($null -eq $key -or -not ($key -is [System.Security.Cryptography.ICspAsymmetricAlgorithm])) {
        $info.error = 'the private key is not held by a CryptoAPI provider (CNG key)'
        $info.errorKind = 'cng'
        return [pscustomobject]$info
    }
    $container = $key.CspKeyContainerInfo
    $info.provider = $container.ProviderName
    $info.providerType = [int]$container.ProviderType
    $info.keyNumber = [string]$container.KeyNumber
    $info.containerName = $container.KeyContainerName
    $info.uniqueName = $container.UniqueKeyContainerName
    $info.keyFile = Get-D365MachineKeyPath -UniqueName $container.UniqueKeyContainerName
    $rules = New-Object System.Collections.ArrayList
    if ([System.IO.File]::Exists($info.keyFile)) {
        $security = [System.IO.File]::GetAccessControl($info.keyFile, [System.Security.AccessControl.AccessControlSections]::Access)
        foreach ($rule in $security.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])) {
            [void]$rules.Add([pscustomobject]@{
                    sid    = $rule.IdentityReference.Value
                    rights = [int64]$rule.FileSystemRights
                    type   = [string]$rule.AccessControlType
                })
        }
    }
    $info.accessRules = $rules.ToArray()
    return [pscustomobject]$info
}

# Adds an Allow Read rule for the SID to the key file's DACL (only the Access section is read and written).
function Grant-D365PrivateKeyRead {
    param(
        [Parameter(Mandatory = $true)] $Certificate,
        [Parameter(Mandatory = $true)] [string] $Sid
    )
    $keyFile = (Get-D365PrivateKeyInfo -Certificate $Certificate).keyFile
    if (-not $keyFile -or -not [System.IO.File]::Exists($keyFile)) { throw "the key file of certificate $($Certificate.Thumbprint) was not found" }
    $security = [System.IO.File]::GetAccessControl($keyFile, [System.Security.AccessControl.AccessControlSections]::Access)
    $identity = New-Object System.Security.Principal.SecurityIdentifier -ArgumentList $Sid
    $rule = New-Object System.Security.AccessControl.FileSystemAccessRule -ArgumentList @($identity, [System.Security.AccessControl.FileSystemRights]::Read, [System.Security.AccessControl.AccessControlType]::Allow)
    $security.AddAccessRule($rule)
    [System.IO.File]::SetAccessControl($keyFile, $security)
}

# Deletes a key file of a certificate the toolkit removed or replaced: X509Store.Remove leaves the key behind.
function Remove-D365KeyFile {
    param([Parameter(Mandatory = $true)] [string] $Path)
    if ([System.IO.File]::Exists($Path)) { [System.IO.File]::Delete($Path) }
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
