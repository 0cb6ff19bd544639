# d365-exo-sync Windows module. Loads every file under Private/ and Public/ (one concern per file).
# Windows PowerShell 5.1 compatible: checked by test/powershell/Compat.Tests.ps1 (the compatibility gate).
Set-StrictMode -Version 1.0
$ErrorActionPreference = 'Stop'

# The step ids and titles of every phase, defined once: the TypeScript side imports the same file.
$script:D365StepCatalogue = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText((Join-Path -Path $PSScriptRoot -ChildPath 'Steps.json')))

foreach ($folder in @('Private', 'Public')) {
    $dir = Join-Path -Path $PSScriptRoot -ChildPath $folder
    foreach ($file in (Get-ChildItem -Path $dir -Filter '*.ps1' | Sort-Object -Property Name)) {
        . $file.FullName
    }
}
