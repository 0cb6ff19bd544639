# Runs the Windows PowerShell 5.1 compatibility gate over a folder (default: the module in powershell/) and exits 1
# on any violation, listing each with file, line and rule.
param([string] $Path = (Join-Path $PSScriptRoot '../../../powershell'))
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'WindowsPowerShellCompat.psm1') -Force
$result = Invoke-WindowsPowerShellCompatGate -Path $Path
foreach ($violation in $result.Violations) {
    Write-Host ('{0}:{1}:{2}: [{3}] {4}  {5}' -f $violation.File, $violation.Line, $violation.Column, $violation.Rule, $violation.Message, $violation.Text)
}
if ($result.Files -eq 0) {
    Write-Host "Windows PowerShell 5.1 gate: no .ps1/.psm1/.psd1 files under $Path"
    exit 1
}
Write-Host (Format-WindowsPowerShellCompatSummary $result)
if (@($result.Violations).Count -gt 0) { exit 1 }
exit 0
