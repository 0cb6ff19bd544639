# Shared by the Pester tests: paths, module loading with the fake Windows server, and test certificates.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ModuleManifest = Join-Path $script:RepoRoot 'powershell/D365ExoSync/D365ExoSync.psd1'
$script:FakeModule = Join-Path $PSScriptRoot 'fakes/FakeWindows.psm1'
$script:FakeTools = Join-Path $PSScriptRoot 'fakes/tools'

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
