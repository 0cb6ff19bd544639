<#
.SYNOPSIS
The sandbox's entry script: the toolkit's module on a fake Windows server and a fake Exchange Online tenant.

.DESCRIPTION
The toolkit runs its module through Invoke-D365ExoSyncPhase.ps1 of its module path, with the same two parameters
(see powershell/Invoke-D365ExoSyncPhase.ps1). This folder is such a module path. This script:
  1. imports the toolkit's module D365ExoSync;
  2. imports the fakes after it: FakeWindows.psm1 replaces the Windows cmdlets and, inside the module, its
     Windows-only platform functions (which is why the module must be loaded first), and FakeExchangeOnline.psd1
     stands in for ExchangeOnlineManagement;
  3. runs the toolkit's own entry script, which finds the module already loaded and keeps it;
  4. adds a warning to the result, so every record says the run came from the sandbox.
The toolkit's module folder and the fakes are the ones next to this script in the repository (sandbox/powershell,
../../powershell), or the ones sandbox.json names when this script was copied into a layout of its own
(makeFakeServerLayout in sandbox/src/fake-servers.ts). Unlike the toolkit's script, this one loads code (the fakes)
before the secrets leave the environment: the fakes are ours and read only FAKE_WINDOWS_STATE_FILE and
FAKE_EXCHANGE_STATE_FILE. PowerShell 7 only (the fakes use it).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $ParameterFile,
    [Parameter(Mandatory = $true)] [string] $ResultFile
)
$ErrorActionPreference = 'Stop'
$utf8 = New-Object System.Text.UTF8Encoding -ArgumentList $false
$warning = "the sandbox's fake Windows server and Exchange Online tenant were loaded: this run did not touch a real server"

$module = Join-Path -Path $PSScriptRoot -ChildPath '../../powershell'
$fakes = @((Join-Path -Path $PSScriptRoot -ChildPath 'FakeWindows.psm1'), (Join-Path -Path $PSScriptRoot -ChildPath 'FakeExchangeOnline.psd1'))
$settings = Join-Path -Path $PSScriptRoot -ChildPath 'sandbox.json'
if (Test-Path -LiteralPath $settings) {
    $named = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($settings, $utf8))
    $module = [string]$named.module
    $fakes = @($named.fakes | ForEach-Object { [string]$_ })
}

try {
    Import-Module -Name (Join-Path -Path $module -ChildPath 'D365ExoSync/D365ExoSync.psd1') -Global
    foreach ($fake in $fakes) { Import-Module -Name $fake -Global }
} catch {
    # As the toolkit's script reports a failure: the result file and the D365EXOSYNC-ERROR line the invoker reads.
    $failure = [ordered]@{ phase = 'unknown'; step = 'load-sandbox'; server = [System.Environment]::MachineName; message = "the sandbox could not load the module and its fakes: $($_.Exception.Message)" }
    $result = [ordered]@{ phase = 'unknown'; server = $failure.server; ok = $false; changed = $false; steps = @(); error = $failure }
    [System.IO.File]::WriteAllText($ResultFile, (ConvertTo-Json -InputObject $result -Depth 8 -Compress), $utf8)
    [Console]::Error.WriteLine('D365EXOSYNC-ERROR ' + (ConvertTo-Json -InputObject $failure -Compress))
    exit 1
}

& (Join-Path -Path $module -ChildPath 'Invoke-D365ExoSyncPhase.ps1') -ParameterFile $ParameterFile -ResultFile $ResultFile
$code = $LASTEXITCODE

if ([System.IO.File]::Exists($ResultFile)) {
    # -DateKind String: dates in the result stay the strings the module wrote.
    $result = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($ResultFile, $utf8)) -DateKind String
    if ($null -ne $result) {
        $warnings = @(@($result.warnings) | Where-Object { $null -ne $_ }) + $warning
        $result | Add-Member -NotePropertyName 'warnings' -NotePropertyValue $warnings -Force
        [System.IO.File]::WriteAllText($ResultFile, (ConvertTo-Json -InputObject $result -Depth 32 -Compress), $utf8)
    }
}
exit $code
