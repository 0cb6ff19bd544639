<#
.SYNOPSIS
Entry script the TypeScript side runs, one process per phase per server:
  powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File Invoke-D365ExoSyncPhase.ps1 -ParameterFile <json> -ResultFile <json>
(pwsh with the same arguments elsewhere).

.DESCRIPTION
Parameter file (UTF-8 JSON, written by src/powershell):
  {
    "phase": "install-certificate" | "configure-crm" | "configure-adfs" | "configure-exchange" | "webapi",
    "mode": "plan" | "apply",
    "parameters": { ... the phase function's parameters, by name ... },
    "secretEnv": { "PfxPassword": "D365EXOSYNC_SECRET_1" },   parameter name -> environment variable holding it
                                                                   (configure-exchange: AccessToken)
    "pfxPath": "...",                                              optional one-time PFX file: passed as -PfxBytes
                                                                   (read, deleted at once) or -PfxPath (deleted when
                                                                   the phase returns)
  }
Secrets are read from this process's environment, removed from it at once, and handed to the phase function as
SecureString parameters: they are never in the parameter file, the command line or the result.

Result file (UTF-8 JSON): the phase's state object (phase, mode, server, ok, changed, steps[], evidence, warnings)
and, when it failed, error { phase, step, server, message }. Exit code 0 on success, 1 on failure; on failure the
same error also goes to stderr as one line: D365EXOSYNC-ERROR {json}.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $ParameterFile,
    [Parameter(Mandatory = $true)] [string] $ResultFile
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$utf8 = New-Object System.Text.UTF8Encoding -ArgumentList $false
try { [Console]::OutputEncoding = $utf8 } catch { Write-Verbose 'console output encoding could not be set' }
$OutputEncoding = $utf8

$phases = @{
    'install-certificate' = 'Install-D365ExoSyncCertificate'
    'configure-crm'       = 'Set-D365ExoSyncCrmConfiguration'
    'configure-adfs'      = 'Set-D365ExoSyncAdfsConfiguration'
    'configure-exchange'  = 'Set-D365ExoSyncExchangeConfiguration'
    'webapi'              = 'Invoke-D365ExoSyncWebApi'
}

function Remove-D365SecretVariable {
    param([string] $Name)
    [System.Environment]::SetEnvironmentVariable($Name, $null, 'Process')
    Remove-Item -LiteralPath ('env:' + $Name) -ErrorAction SilentlyContinue
}

function Remove-D365PfxFile {
    param([string] $Path)
    if ($Path -and [System.IO.File]::Exists($Path)) { [System.IO.File]::Delete($Path) }
}

function Write-ResultFile {
    param($Value)
    $json = ConvertTo-Json -InputObject $Value -Depth 32 -Compress
    [System.IO.File]::WriteAllText($ResultFile, $json, $utf8)
}

$phase = 'unknown'
$step = 'start'
$server = [System.Environment]::MachineName
$secretNames = @()
$pfxPath = $null
try {
    $step = 'read-parameters'
    $request = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($ParameterFile, $utf8))
    $phase = [string]$request.phase
    $mode = [string]$request.mode
    if (-not $phases.ContainsKey($phase)) { throw "unknown phase '$phase' (expected one of: $(($phases.Keys | Sort-Object) -join ', '))" }
    if ($mode -ne 'plan' -and $mode -ne 'apply') { throw "unknown mode '$mode' (expected plan or apply)" }

    # Secrets: out of the environment first, before any other code (the module) runs in this process.
    $step = 'read-secrets'
    $secrets = @{}
    if ($request.secretEnv) {
        foreach ($property in $request.secretEnv.PSObject.Properties) {
            $variable = [string]$property.Value
            $secretNames += $variable
            $value = [System.Environment]::GetEnvironmentVariable($variable, 'Process')
            Remove-D365SecretVariable -Name $variable
            if ($null -eq $value) { throw "secret '$($property.Name)' was not passed (environment variable $variable is not set)" }
            $secure = New-Object System.Security.SecureString
            foreach ($character in $value.ToCharArray()) { $secure.AppendChar($character) }
            $secure.MakeReadOnly()
            $secrets[$property.Name] = $secure
            $value = $null
        }
    }


    # Without -Force: a process runs one phase, so the module is loaded here, once. A script that ran this one after
    # loading the same module (with what it needs around it) keeps its copy.
    $step = 'load-module'
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'D365ExoSync/D365ExoSync.psd1')

    $step = 'parameters'
    $module = Get-Module -Name 'D365ExoSync'
    $toHashtable = { param($value) ConvertTo-D365Hashtable $value }
    $arguments = @{}
    if ($request.parameters) {
        foreach ($property in $request.parameters.PSObject.Properties) {
            $value = $property.Value
            if ($value -is [System.Management.Automation.PSCustomObject]) {
                $value = & $module $toHashtable $value
            } elseif (($value -is [System.Array]) -and @($value | Where-Object { $_ -is [System.Management.Automation.PSCustomObject] }).Count -gt 0) {
                $value = @($value | ForEach-Object { & $module $toHashtable $_ })
            }
            $arguments[$property.Name] = $value
        }
    }
    foreach ($name in $secrets.Keys) { $arguments[$name] = $secrets[$name] }
    # The one-time PFX: a phase that takes -PfxBytes gets it in memory and the file is deleted at once; a phase that
    # needs the file (configure-crm hands it to CertificateReconfiguration.ps1) gets -PfxPath, and the file is deleted
    # as soon as the phase returns. Either way no outcome leaves key material on disk.
    if ($request.pfxPath) {
        $pfxPath = [string]$request.pfxPath
        if ((Get-Command -Name $phases[$phase]).Parameters.ContainsKey('PfxBytes')) {
            try { $arguments['PfxBytes'] = [System.IO.File]::ReadAllBytes($pfxPath) } finally { Remove-D365PfxFile -Path $pfxPath }
        } else {
            $arguments['PfxPath'] = $pfxPath
        }
    }
    if ($mode -eq 'plan') { $arguments['WhatIf'] = $true }

    $step = 'run'
    $function = $phases[$phase]
    Write-Host ("d365-exo-sync {0} ({1}) on {2}, PowerShell {3} {4}, 64-bit process: {5}" -f $phase, $mode, $server, $PSVersionTable.PSVersion, $PSVersionTable.PSEdition, [System.Environment]::Is64BitProcess)
    $state = & $function @arguments
    $state | Add-Member -NotePropertyName 'powershell' -NotePropertyValue ([ordered]@{ version = [string]$PSVersionTable.PSVersion; edition = [string]$PSVersionTable.PSEdition; is64BitProcess = [System.Environment]::Is64BitProcess }) -Force
    Write-ResultFile $state
    exit 0
} catch {
    $exception = $_.Exception
    $failure = [ordered]@{ phase = $phase; step = $step; server = $server; message = $exception.Message }
    if ($exception.Data.Contains('D365Step')) {
        $failure.step = [string]$exception.Data['D365Step']
        $failure.server = [string]$exception.Data['D365Server']
        $failure.message = [string]$exception.Data['D365Message']
    }
    $partial = $null
    if (Get-Command -Name 'Get-D365ExoSyncLastState' -ErrorAction SilentlyContinue) { $partial = Get-D365ExoSyncLastState }
    if ($null -eq $partial -or [string]$partial.phase -ne $phase) {
        $partial = [ordered]@{ phase = $phase; server = $server; ok = $false; changed = $false; steps = @() }
    }
    if ($partial -is [System.Collections.IDictionary]) {
        $partial['ok'] = $false
        $partial['error'] = $failure
    } else {
        $partial.ok = $false
        $partial | Add-Member -NotePropertyName 'error' -NotePropertyValue $failure -Force
    }
    try { Write-ResultFile $partial } catch { Write-Verbose 'result file could not be written' }
    [Console]::Error.WriteLine('D365EXOSYNC-ERROR ' + (ConvertTo-Json -InputObject $failure -Compress))
    exit 1
} finally {
    foreach ($variable in $secretNames) { Remove-D365SecretVariable -Name $variable }
    if ($pfxPath) { Remove-D365PfxFile -Path $pfxPath }
}
