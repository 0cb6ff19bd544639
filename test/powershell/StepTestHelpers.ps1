# Shared by the tests of the phases' step functions: the step catalogue, the "What if:" lines a run prints, and the
# failed step of the last run.

# The steps of a phase as Steps.json lists them.
function Get-CatalogueStep {
    param([Parameter(Mandatory = $true)] [string] $Phase)
    $path = Join-Path $PSScriptRoot '../../powershell/D365ExoSync/Steps.json'
    return @(([System.IO.File]::ReadAllText($path) | ConvertFrom-Json).$Phase.steps)
}

# Runs the script block under a transcript and returns its result and the "What if:" lines ShouldProcess printed.
function Invoke-WithWhatIfCapture {
    param([Parameter(Mandatory = $true)] [scriptblock] $Script)
    $transcript = Join-Path $TestDrive ([guid]::NewGuid().ToString('N') + '.txt')
    Start-Transcript -LiteralPath $transcript -UseMinimalHeader | Out-Null
    try { $result = & $Script } finally { Stop-Transcript | Out-Null }
    return [pscustomobject]@{ Result = $result; WhatIf = @(Get-Content -LiteralPath $transcript | Where-Object { $_ -like 'What if:*' }) }
}

# The failed step of the last phase run (the module keeps its state object when the run throws).
function Get-LastFailedStep {
    return @((Get-D365ExoSyncLastState).steps | Where-Object { $_.status -eq 'failed' })
}

# Runs a phase that must fail and checks where and how: the error names the step and its error id, and the state
# object holds that one failed step with its error id and category.
function Assert-StepFailure {
    param(
        [Parameter(Mandatory = $true)] [scriptblock] $Run,
        [Parameter(Mandatory = $true)] [string] $Step,
        [Parameter(Mandatory = $true)] [string] $ErrorId,
        [string] $Category
    )
    $failure = $Run | Should -Throw -PassThru
    $failure.Exception.Data['D365Step'] | Should -Be $Step
    $failure.Exception.Data['D365ErrorId'] | Should -BeLike "$ErrorId,*"
    $failed = Get-LastFailedStep
    $failed.Count | Should -Be 1
    $failed[0].id | Should -Be $Step
    $failed[0].errorId | Should -BeLike "$ErrorId,*"
    if ($Category) { $failed[0].category | Should -Be $Category }
}
