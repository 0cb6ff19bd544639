# The state object every phase function returns, its steps, and the one way a step fails.
#
# A step is: id, title, status, changed, before, after, evidence, message.
#   status: 'changed'      the step changed something (apply)
#           'would-change' the step would change something (plan, -WhatIf); nothing was touched
#           'unchanged'    already as wanted
#           'skipped'      not applicable here, or its change declined at the -Confirm prompt (message says why)
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

# The title of a step from the catalogue (Steps.json), or $null for a step it does not list.
function Get-D365StepTitle {
    param([Parameter(Mandatory = $true)] [string] $Phase, [Parameter(Mandatory = $true)] [string] $Id)
    $entry = $script:D365StepCatalogue.PSObject.Properties[$Phase]
    if ($null -eq $entry) { return $null }
    foreach ($step in @($entry.Value.steps)) { if ($step.id -eq $Id) { return [string]$step.title } }
    return $null
}

function Add-D365Step {
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Id,
        # Only for a step the catalogue does not list; a catalogued step always has its catalogue title.
        [string] $Title,
        [Parameter(Mandatory = $true)] [ValidateSet('changed', 'would-change', 'unchanged', 'skipped', 'failed')] [string] $Status,
        $Before = $null,
        $After = $null,
        $Evidence = $null,
        [string] $Message = $null
    )
    $catalogued = Get-D365StepTitle -Phase $State.phase -Id $Id
    if ($catalogued) { $Title = $catalogued } elseif (-not $Title) { $Title = $Id }
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

# Whether a step that found a difference makes the change now. Asks ShouldProcess with the step function's own
# $PSCmdlet: 'change' when it agrees (apply), 'would-change' under -WhatIf (ShouldProcess has printed its "What if:"
# line), 'declined' when -Confirm was answered no (nothing is changed and the step is not recorded as changed).
function Resolve-D365Change {
    param(
        # The step function's $PSCmdlet (untyped: the tests pass an object whose ShouldProcess answers no).
        [Parameter(Mandatory = $true)] $Cmdlet,
        [Parameter(Mandatory = $true)] [string] $Target,
        [Parameter(Mandatory = $true)] [string] $Action
    )
    if ($Cmdlet.ShouldProcess($Target, $Action)) { return 'change' }
    if ($WhatIfPreference) { return 'would-change' }
    return 'declined'
}

# Records a step from its decision: 'unchanged', 'change' (done: changed), 'would-change', or 'declined' (skipped,
# with the reason).
function Add-D365StepDecision {
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Id,
        [Parameter(Mandatory = $true)] [ValidateSet('unchanged', 'change', 'would-change', 'declined')] [string] $Decision,
        $Before = $null,
        $After = $null,
        $Evidence = $null,
        [string] $Message = $null
    )
    $status = @{ 'unchanged' = 'unchanged'; 'change' = 'changed'; 'would-change' = 'would-change'; 'declined' = 'skipped' }[$Decision]
    if ($Decision -eq 'declined') { $Message = 'declined at the confirmation prompt: nothing was changed' }
    $step = Add-D365Step -State $State -Id $Id -Status $status -Before $Before -After $After -Evidence $Evidence -Message $Message
    if ($Decision -eq 'declined') { $step | Add-Member -NotePropertyName 'declined' -NotePropertyValue $true }
    return $step
}

# The ids of the steps whose change was declined at the confirmation prompt (a read-back expects no change there).
function Get-D365DeclinedStep {
    param([Parameter(Mandatory = $true)] $State)
    return @($State.steps | Where-Object { $_.PSObject.Properties['declined'] } | ForEach-Object { $_.id })
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
    $failed = Add-D365Step -State $State -Id $Step -Title 'failed' -Status 'failed' -Message $message
    if ($ErrorRecord -is [System.Management.Automation.ErrorRecord]) {
        # The ErrorRecord a step function threw: its id and category, for a caller of the module that reads them.
        $failed | Add-Member -NotePropertyName 'errorId' -NotePropertyValue ([string]$ErrorRecord.FullyQualifiedErrorId)
        $failed | Add-Member -NotePropertyName 'category' -NotePropertyValue ([string]$ErrorRecord.CategoryInfo.Category)
    }
    $text = "{0}: step '{1}' failed on {2}: {3}" -f $State.phase, $Step, $State.server, $message
    $wrapped = New-Object System.InvalidOperationException -ArgumentList @($text, $exception)
    $wrapped.Data['D365Step'] = $Step
    $wrapped.Data['D365Server'] = [string]$State.server
    $wrapped.Data['D365Phase'] = [string]$State.phase
    $wrapped.Data['D365Message'] = [string]$message
    if ($failed.PSObject.Properties['errorId']) { $wrapped.Data['D365ErrorId'] = $failed.errorId }
    throw $wrapped
}

# Throws the error of a step: its message, and the error id and category the step function's ErrorRecord gets
# (ConvertTo-D365StepError). Helpers below a step call it; Stop-D365Phase adds step and server.
function Stop-D365Step {
    param(
        [Parameter(Mandatory = $true)] [string] $Message,
        [string] $ErrorId,
        [System.Management.Automation.ErrorCategory] $Category = [System.Management.Automation.ErrorCategory]::InvalidOperation
    )
    $exception = New-Object System.InvalidOperationException -ArgumentList @($Message)
    if ($ErrorId) { $exception.Data['D365ErrorId'] = $ErrorId }
    $exception.Data['D365Category'] = [string]$Category
    throw $exception
}

# An ErrorRecord for a step that fails on its own finding (no underlying error): message, id and category.
function New-D365StepError {
    param(
        [Parameter(Mandatory = $true)] [string] $Message,
        [Parameter(Mandatory = $true)] [string] $ErrorId,
        [System.Management.Automation.ErrorCategory] $Category = [System.Management.Automation.ErrorCategory]::InvalidOperation,
        $TargetObject = $null
    )
    $exception = New-Object System.InvalidOperationException -ArgumentList @($Message)
    return New-Object System.Management.Automation.ErrorRecord -ArgumentList @($exception, $ErrorId, $Category, $TargetObject)
}

# The ErrorRecord a step function ends with ($PSCmdlet.ThrowTerminatingError): the id and category Stop-D365Step
# named, or else the step's own id, with the category of the underlying error (InvalidOperation when it has none).
function ConvertTo-D365StepError {
    param(
        [Parameter(Mandatory = $true)] [System.Management.Automation.ErrorRecord] $ErrorRecord,
        [Parameter(Mandatory = $true)] [string] $ErrorId,
        $TargetObject = $null
    )
    $exception = $ErrorRecord.Exception
    $category = $ErrorRecord.CategoryInfo.Category
    if ($exception.Data.Contains('D365Category')) { $category = [System.Management.Automation.ErrorCategory]([string]$exception.Data['D365Category']) }
    if ($category -eq [System.Management.Automation.ErrorCategory]::NotSpecified) { $category = [System.Management.Automation.ErrorCategory]::InvalidOperation }
    if ($exception.Data.Contains('D365ErrorId')) { $ErrorId = [string]$exception.Data['D365ErrorId'] }
    return New-Object System.Management.Automation.ErrorRecord -ArgumentList @($exception, $ErrorId, $category, $TargetObject)
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
