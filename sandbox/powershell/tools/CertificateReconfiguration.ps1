# Fake of Microsoft's CertificateReconfiguration.ps1 (Dynamics 365 Server Tools folder), with its documented
# parameters. Like the real one it installs the certificate in the local store, grants the service account access
# and, with -updateCrm, writes the S2STokenIssuer certificate into the CRM configuration database.
# It also echoes its password twice, the way a careless script (or a native program it starts) could:
# once through the host (PowerShell captures that) and once straight to the console (only the TypeScript mask sees it).
param(
    [Parameter(Mandatory = $true)] [string] $certificateFile,
    [Parameter(Mandatory = $true)] [string] $password,
    [Parameter(Mandatory = $true)] [string] $certificateType,
    [Parameter(Mandatory = $true)] [string] $serviceAccount,
    [switch] $updateCrm,
    [string] $storeFindType = 'FindBySubjectDistinguishedName'
)
$ErrorActionPreference = 'Stop'
Add-FakeCall 'CertificateReconfiguration.ps1' @{ certificateFile = $certificateFile; certificateType = $certificateType; serviceAccount = $serviceAccount; updateCrm = [bool]$updateCrm; storeFindType = $storeFindType }
Write-Host "Installing certificate from $certificateFile with password $password"
[Console]::Out.WriteLine("certutil-like output: -p $password")
$state = Get-FakeWindows
if ($state.crm.reconfigurationFails) { throw 'Private key not found. (fake)' }
$certificate = [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12FromFile($certificateFile, $password)
try {
    $existing = @($state.store | Where-Object { $_.thumbprint -eq $certificate.Thumbprint })
    if ($existing.Count -eq 0) {
        Add-FakeStoreCertificate -Thumbprint $certificate.Thumbprint -Subject $certificate.Subject -NotBefore $certificate.NotBefore -NotAfter $certificate.NotAfter
    }
    if ($updateCrm) { Set-FakeCrmS2SCertificate -RawData $certificate.RawData }
} finally {
    $certificate.Dispose()
}
Write-Host 'Certificate reconfiguration completed.'
