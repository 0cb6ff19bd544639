# Runs the Windows PowerShell 5.1 compatibility check (syntax, commands and parameters against the signature tables,
# .NET use against the reference assemblies: test/powershell/compat) over powershell/ and then the Pester suite under test/powershell/,
# in one pwsh process. Prints the gate's result and Pester's counts ("Pester: N passed, N failed, N skipped") and exits
# non-zero when the gate finds anything or a test fails. Called by scripts/run-pester.mjs.
param(
    [Parameter(Mandatory = $true)] [string] $PesterManifest,
    [string[]] $TestPath = @($PSScriptRoot)
)
$ErrorActionPreference = 'Stop'
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

Import-Module (Join-Path $PSScriptRoot 'compat/WindowsPowerShellCompat.psm1') -Force
$gate = Invoke-WindowsPowerShellCompatGate -Path (Join-Path $repoRoot 'powershell')
foreach ($violation in $gate.Violations) {
    Write-Host ('{0}:{1}:{2}: [{3}] {4}  {5}' -f $violation.File, $violation.Line, $violation.Column, $violation.Rule, $violation.Message, $violation.Text)
}
$gateFailed = ($gate.Files -eq 0) -or (@($gate.Violations).Count -gt 0)
Write-Host (Format-WindowsPowerShellCompatSummary $gate)

if ($PSVersionTable.PSVersion.Major -ge 7) { $PSStyle.OutputRendering = 'PlainText' }
Import-Module (Resolve-Path -LiteralPath $PesterManifest).Path -Force
$configuration = New-PesterConfiguration
$configuration.Run.Path = $TestPath
$configuration.Run.ExcludePath = @((Join-Path $PSScriptRoot 'obj/*'), (Join-Path $PSScriptRoot 'bin/*'))
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Normal'
$configuration.TestResult.Enabled = $false
$result = Invoke-Pester -Configuration $configuration
if ($null -eq $result) {
    Write-Host 'Pester: 0 passed, 1 failed, 0 skipped (Pester did not run)'
    exit 1
}

$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
Write-Host ('Pester: {0} passed, {1} failed, {2} skipped' -f $result.PassedCount, $failed, ($result.SkippedCount + $result.NotRunCount))
if ($gateFailed -or $failed -gt 0 -or $result.PassedCount -eq 0) { exit 1 }
exit 0
