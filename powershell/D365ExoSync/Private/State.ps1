# The state object every phase function returns, its steps, and the one way a step fails.
#
# A step is: id, title, status, changed, before, after, evidence, message.
#   status: 'changed'      the step changed something (apply)
#           'would-change' the step would change something (plan, -WhatIf); nothing was touched
#           'unchanged'    already as wanted
#           'skipped'      not applicable here (message says why)
#           'failed'       the step failed (message holds the underlying error); the phase stops there
# The phase is 'changed' when at least one step changed something.

$script:D365LastState = $null

function New-D365PhaseState {
    param(
        [Parameter(Mandatory = $true)] [string] $Phase,
        [bool] $Plan
    )
    $mode = 'apply'
    if ($Plan) { $mode = 'plan' }
    $state = [pscustomobject][ordered]@{
        phase    = $Phase
        mode     = $mode
        server   = Get-D365ServerName
        ok       = $true
        changed  = $false
        steps    = New-Object System.Collections.ArrayList
        evidence = [ordered]@{}
        warnings = New-Object System.Collections.ArrayList
    }
    $script:D365LastState = $state
    return $state
}

function Get-D365ExoSyncLastState {
    <#
    .SYNOPSIS
    The state object of the last phase function run in this session, also when it failed half-way
    (the entry script writes it into the result file next to the error).
    #>
    [CmdletBinding()]
    param()
    return $script:D365LastState
}

function Add-D365Step {
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Id,
        [Parameter(Mandatory = $true)] [string] $Title,
        [Parameter(Mandatory = $true)] [ValidateSet('changed', 'would-change', 'unchanged', 'skipped', 'failed')] [string] $Status,
        $Before = $null,
        $After = $null,
        $Evidence = $null,
        [string] $Message = $null
    )
    $step = [pscustomobject][ordered]@{
        id       = $Id
        title    = $Title
        status   = $Status
        changed  = ($Status -eq 'changed')
        before   = $Before
        after    = $After
        evidence = $Evidence
        message  = $null
    }
    if ($Message) { $step.message = $Message }
    [void]$State.steps.Add($step)
    if ($Status -eq 'changed') { $State.changed = $true }
    $line = '[{0}] {1}: {2}' -f $Id, $Title, $Status
    if ($Message) { $line = $line + ' - ' + $Message }
    Write-D365Log $line
    return $step
}

# Records a step whose outcome depends on whether the wanted value differs and on plan/apply.
# $Apply is run only in apply mode and only when the value differs; it must do the change.
function Set-D365StepOutcome {
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Id,
        [Parameter(Mandatory = $true)] [string] $Title,
        [Parameter(Mandatory = $true)] [bool] $Differs,
        [Parameter(Mandatory = $true)] [bool] $Plan,
        $Before = $null,
        $After = $null,
        $Evidence = $null,
        [string] $Message = $null
    )
    $status = 'unchanged'
    if ($Differs) {
        if ($Plan) { $status = 'would-change' } else { $status = 'changed' }
    }
    return Add-D365Step -State $State -Id $Id -Title $Title -Status $status -Before $Before -After $After -Evidence $Evidence -Message $Message
}

function Add-D365Warning {
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] [string] $Message)
    [void]$State.warnings.Add($Message)
    Write-D365Log ('WARNING: ' + $Message)
}

function Write-D365Log {
    param([string] $Message)
    # Host output: the TypeScript side streams it line by line (masked) into the pipeline log.
    Write-Host $Message
}

# Ends the phase: records the failed step and throws an error that names step, server and the underlying message.
function Stop-D365Phase {
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Step,
        [Parameter(Mandatory = $true)] $ErrorRecord
    )
    $exception = $ErrorRecord
    if ($ErrorRecord -is [System.Management.Automation.ErrorRecord]) { $exception = $ErrorRecord.Exception }
    if ($exception.Data.Contains('D365Step')) { throw $exception }
    $message = $exception.Message
    $State.ok = $false
    [void](Add-D365Step -State $State -Id $Step -Title 'failed' -Status 'failed' -Message $message)
    $text = "{0}: step '{1}' failed on {2}: {3}" -f $State.phase, $Step, $State.server, $message
    $wrapped = New-Object System.InvalidOperationException -ArgumentList @($text, $exception)
    $wrapped.Data['D365Step'] = $Step
    $wrapped.Data['D365Server'] = [string]$State.server
    $wrapped.Data['D365Phase'] = [string]$State.phase
    $wrapped.Data['D365Message'] = [string]$message
    throw $wrapped
}

# Throws a plain error with a message (used inside a step; Stop-D365Phase adds step and server).
function Stop-D365Step {
    param([Parameter(Mandatory = $true)] [string] $Message)
    throw (New-Object System.InvalidOperationException -ArgumentList @($Message))
}

# PSCustomObject (from ConvertFrom-Json in 5.1, which has no -AsHashtable) -> hashtables and arrays, recursively.
function ConvertTo-D365Hashtable {
    param($InputObject)
    if ($null -eq $InputObject) { return $null }
    if ($InputObject -is [System.Collections.IDictionary]) {
        $table = @{}
        foreach ($key in $InputObject.Keys) { $table[[string]$key] = ConvertTo-D365Hashtable $InputObject[$key] }
        return $table
    }
    if ($InputObject -is [System.Management.Automation.PSCustomObject]) {
        $table = @{}
        foreach ($property in $InputObject.PSObject.Properties) { $table[$property.Name] = ConvertTo-D365Hashtable $property.Value }
        return $table
    }
    if (($InputObject -is [System.Collections.IEnumerable]) -and -not ($InputObject -is [string])) {
        $list = New-Object System.Collections.ArrayList
        foreach ($item in $InputObject) { [void]$list.Add((ConvertTo-D365Hashtable $item)) }
        return , $list.ToArray()
    }
    return $InputObject
}

function Get-D365Option {
    param($Table, [string] $Name, $Default)
    if ($null -ne $Table -and $Table.ContainsKey($Name) -and $null -ne $Table[$Name]) { return $Table[$Name] }
    return $Default
}

function ConvertTo-D365IsoDate {
    param($Date)
    if ($null -eq $Date) { return $null }
    return ([datetime]$Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [System.Globalization.CultureInfo]::InvariantCulture)
}

function Test-D365SameList {
    param([string[]] $Left, [string[]] $Right)
    $a = @($Left | Where-Object { $_ } | Sort-Object -Unique)
    $b = @($Right | Where-Object { $_ } | Sort-Object -Unique)
    if ($a.Count -ne $b.Count) { return $false }
    for ($i = 0; $i -lt $a.Count; $i++) { if ($a[$i] -ne $b[$i]) { return $false } }
    return $true
}

# Read, merge, write: cmdlets that take a list replace it, so the wanted items are added to what is there.
function Merge-D365List {
    param([string[]] $Current, [string[]] $Wanted, [switch] $CaseSensitive)
    $merged = New-Object System.Collections.ArrayList
    foreach ($item in @($Current) + @($Wanted)) {
        if (-not $item) { continue }
        $present = $false
        foreach ($existing in $merged) {
            if (($CaseSensitive -and $existing -ceq $item) -or (-not $CaseSensitive -and $existing -eq $item)) { $present = $true; break }
        }
        if (-not $present) { [void]$merged.Add([string]$item) }
    }
    return , ([string[]]$merged.ToArray())
}
