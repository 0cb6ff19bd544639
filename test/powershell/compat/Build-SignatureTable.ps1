<#
.SYNOPSIS
Writes one signature table (test/powershell/compat/signatures/<Module>.json) from Microsoft's cmdlet help pages:
the markdown sources of MicrosoftDocs/PowerShell-Docs (reference/5.1/<module>/) or
MicrosoftDocs/windows-powershell-docs (docset/winserver2016-ps/<module>/), cloned anywhere (-DocsRoot).

.DESCRIPTION
For each page: the parameters (the "### -Name" headings under "## PARAMETERS"), their aliases (the "Aliases:" line
of each parameter's block) and the command's aliases that Windows PowerShell defines (the "- `alias`" list under
"Windows PowerShell includes the following aliases" in NOTES). Common parameters are implied for every cmdlet and are
not listed. Every entry names its page, so a reviewer can check it against the published help.
The compatibility check (WindowsPowerShellCompat.psm1) reads every *.json in the folder: a new module's table is one
more file, made with this script (then `npx prettier --write` it, as `npm run lint` checks JSON formatting) or
written by hand in the same shape.

.EXAMPLE
./Build-SignatureTable.ps1 -DocsRoot ~/src/PowerShell-Docs -Folder reference/5.1/Microsoft.PowerShell.Utility `
  -Module Microsoft.PowerShell.Utility -Product 'Windows PowerShell 5.1' -Repository MicrosoftDocs/PowerShell-Docs
#>
param(
    [Parameter(Mandatory = $true)] [string] $DocsRoot,
    [Parameter(Mandatory = $true)] [string] $Folder,
    [Parameter(Mandatory = $true)] [string] $Module,
    [Parameter(Mandatory = $true)] [string] $Product,
    [Parameter(Mandatory = $true)] [string] $Repository,
    # Only these cmdlets (default: every page of the folder).
    [string[]] $Commands = @(),
    [string] $OutFile = (Join-Path $PSScriptRoot ('signatures/' + $Module + '.json'))
)
$ErrorActionPreference = 'Stop'
$pages = Get-ChildItem -LiteralPath (Join-Path $DocsRoot $Folder) -Filter '*-*.md' | Sort-Object Name
$table = [ordered]@{}
foreach ($page in $pages) {
    $name = [System.IO.Path]::GetFileNameWithoutExtension($page.Name)
    if ($Commands.Count -gt 0 -and -not ($Commands -contains $name)) { continue }
    $lines = [System.IO.File]::ReadAllLines($page.FullName)
    $parameters = [ordered]@{}
    $aliases = New-Object System.Collections.ArrayList
    $section = ''
    $current = $null
    $aliasList = $false
    foreach ($line in $lines) {
        if ($line -match '^## (.+)$') { $section = $Matches[1].Trim(); $current = $null; continue }
        if ($section -eq 'PARAMETERS') {
            if ($line -match '^### -(\S+)') { $current = $Matches[1]; $parameters[$current] = @(); continue }
            if ($line -match '^### ') { $current = $null; continue }
            if ($current -and $line -match '^Aliases:\s*(.*)$') {
                $parameters[$current] = @($Matches[1].Split(',') | ForEach-Object { $_.Trim() } | Where-Object { $_ -and $_ -ne 'None' })
            }
        }
        if ($section -eq 'NOTES' -or $section -eq 'ALIASES') {
            if ($line -match 'Windows PowerShell includes the following aliases') { $aliasList = $true; continue }
            if ($aliasList -and $line -match '^\s*- `([^`]+)`') { [void]$aliases.Add($Matches[1]); continue }
            if ($aliasList -and $line.Trim() -and -not ($line -match '^\s*-')) { $aliasList = $false }
        }
    }
    if ($parameters.Count -eq 0 -and -not ($lines -match '^## PARAMETERS')) { continue }
    $entry = [ordered]@{ page = ($Folder.TrimEnd('/') + '/' + $page.Name); parameters = $parameters }
    if ($aliases.Count -gt 0) { $entry['aliases'] = @($aliases) }
    $table[$name] = $entry
}
$document = [ordered]@{
    module     = $Module
    product    = $Product
    source     = ('{0}, {1}' -f $Repository, $Folder)
    commands   = $table
}
$json = ConvertTo-Json -InputObject $document -Depth 6
[System.IO.File]::WriteAllText($OutFile, $json + "`n", (New-Object System.Text.UTF8Encoding -ArgumentList $false))
Write-Host ('{0}: {1} commands' -f $OutFile, $table.Count)
