# Shared by the Pester tests: paths, module loading with the fake Windows server, and test certificates.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ModuleManifest = Join-Path $script:RepoRoot 'powershell/D365ExoSync/D365ExoSync.psd1'
# The fakes are the sandbox package's (sandbox/powershell): the same the demo and the TypeScript tests load.
$script:SandboxPowerShell = Join-Path $script:RepoRoot 'sandbox/powershell'
$script:FakeModule = Join-Path $script:SandboxPowerShell 'FakeWindows.psm1'
$script:FakeExchange = Join-Path $script:SandboxPowerShell 'FakeExchangeOnline.psd1'
$script:FakeTools = Join-Path $script:SandboxPowerShell 'tools'

# Loads the module and the fake Windows server once per test file (BeforeAll); Reset-FakeWindows in BeforeEach
# gives every test a fresh fake server.
function Import-D365WithFakes {
    Remove-Module D365ExoSync, FakeWindows -ErrorAction SilentlyContinue
    Import-Module $script:ModuleManifest -Force
    Import-Module $script:FakeModule -Force -Global
    Reset-FakeWindows
}

# A self-signed RSA certificate with its key in a PFX file (made with .NET: runs on any OS).
function New-TestPfx {
    param([string] $Subject = 'CN=crm.contoso.com', [string] $Password = 'Pfx-Pa55!', [string] $Directory = $TestDrive, [int] $Days = 200)
    $rsa = [System.Security.Cryptography.RSA]::Create(2048)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new($Subject, $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $certificate = $request.CreateSelfSigned([datetimeoffset]::UtcNow.AddDays(-1), [datetimeoffset]::UtcNow.AddDays($Days))
        try {
            $path = Join-Path $Directory ([guid]::NewGuid().ToString('N') + '.pfx')
            [System.IO.File]::WriteAllBytes($path, $certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $Password))
            return [pscustomobject]@{ Path = $path; Password = $Password; Thumbprint = $certificate.Thumbprint; Subject = $certificate.Subject; RawData = $certificate.RawData; NotBefore = $certificate.NotBefore; NotAfter = $certificate.NotAfter }
        } finally { $certificate.Dispose() }
    } finally { $rsa.Dispose() }
}

function ConvertTo-TestSecure {
    param([string] $Text)
    return (ConvertTo-SecureString -String $Text -AsPlainText -Force)
}

# A PFX as a CA issues it: the leaf with its key, the intermediate that signed it and the root (made with .NET).
function New-TestChainPfx {
    param([string] $Password = 'Chain-Pa55!', [string] $Directory = $TestDrive)
    $X509 = 'System.Security.Cryptography.X509Certificates'
    $sha = [System.Security.Cryptography.HashAlgorithmName]::SHA256
    $pad = [System.Security.Cryptography.RSASignaturePadding]::Pkcs1
    $now = [datetimeoffset]::UtcNow
    $keys = @([System.Security.Cryptography.RSA]::Create(2048), [System.Security.Cryptography.RSA]::Create(2048), [System.Security.Cryptography.RSA]::Create(2048))
    try {
        $caExtension = { param($request) $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true)) }
        $rootRequest = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Contoso Test Root', $keys[0], $sha, $pad)
        & $caExtension $rootRequest
        $root = $rootRequest.CreateSelfSigned($now.AddDays(-2), $now.AddDays(400))
        $intermediateRequest = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Contoso Test Issuing CA', $keys[1], $sha, $pad)
        & $caExtension $intermediateRequest
        $intermediate = $intermediateRequest.Create($root, $now.AddDays(-1), $now.AddDays(300), [byte[]](1, 2, 3, 4))
        $intermediateWithKey = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::CopyWithPrivateKey($intermediate, $keys[1])
        $leafRequest = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=crm.contoso.com, O=Contoso Chain', $keys[2], $sha, $pad)
        $leafPublic = $leafRequest.Create($intermediateWithKey, $now.AddDays(-1), $now.AddDays(200), [byte[]](5, 6, 7, 8))
        $leaf = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::CopyWithPrivateKey($leafPublic, $keys[2])
        $collection = New-Object "$X509.X509Certificate2Collection"
        [void]$collection.Add($leaf)
        [void]$collection.Add($intermediate)
        [void]$collection.Add($root)
        $path = Join-Path $Directory ([guid]::NewGuid().ToString('N') + '.pfx')
        [System.IO.File]::WriteAllBytes($path, $collection.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $Password))
        return [pscustomobject]@{ Path = $path; Password = $Password; Thumbprint = $leaf.Thumbprint; Subject = $leaf.Subject; IntermediateThumbprint = $intermediate.Thumbprint; RootThumbprint = $root.Thumbprint }
    } finally {
        foreach ($key in $keys) { $key.Dispose() }
    }
}
