# Windows services, the CRM app pool and the modules that provide their cmdlets.

# The D365 services restarted after a certificate or S2S change (windows-facts 3). Single quotes: '$maintenance'
# must not expand.
$script:D365DefaultServices = @('MSCRMAsyncService', 'MSCRMAsyncService$maintenance', 'MSCRMSandboxService')

# Makes sure a command from a Windows feature module is there (imports the module when it is installed).
function Test-D365Command {
    param([Parameter(Mandatory = $true)] [string] $Name, [string] $Module)
    if (Get-Command -Name $Name -ErrorAction SilentlyContinue) { return $true }
    if ($Module -and (Get-Module -ListAvailable -Name $Module)) {
        Import-Module -Name $Module -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null
    }
    return [bool](Get-Command -Name $Name -ErrorAction SilentlyContinue)
}

# Restarts the services of $Names that exist on this server and are running; a stopped service is left stopped
# (an admin stopped or disabled it) and reported. Returns one evidence entry per name.
function Restart-D365Services {
    param(
        [Parameter(Mandatory = $true)] [string[]] $Names,
        [bool] $Plan
    )
    $report = New-Object System.Collections.ArrayList
    foreach ($name in $Names) {
        $service = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -eq $service) {
            [void]$report.Add([ordered]@{ name = $name; action = 'not-installed' })
            continue
        }
        if ([string]$service.Status -ne 'Running') {
            [void]$report.Add([ordered]@{ name = $name; action = 'left-stopped'; status = [string]$service.Status })
            continue
        }
        if ($Plan) {
            [void]$report.Add([ordered]@{ name = $name; action = 'would-restart' })
            continue
        }
        Restart-Service -Name $name -Force -WarningAction SilentlyContinue
        $after = Get-Service -Name $name
        if ([string]$after.Status -ne 'Running') {
            Stop-D365Step ("service {0} did not come back after the restart (status {1})" -f $name, $after.Status)
        }
        [void]$report.Add([ordered]@{ name = $name; action = 'restarted' })
    }
    return $report.ToArray()
}

function Restart-D365AppPool {
    param([Parameter(Mandatory = $true)] [string] $Name, [bool] $Plan)
    if (-not (Test-D365Command -Name 'Restart-WebAppPool' -Module 'WebAdministration')) {
        return [ordered]@{ name = $Name; action = 'no-iis' }
    }
    $state = Get-WebAppPoolState -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $state) { return [ordered]@{ name = $Name; action = 'not-installed' } }
    if ([string]$state.Value -ne 'Started') { return [ordered]@{ name = $Name; action = 'left-stopped'; status = [string]$state.Value } }
    if ($Plan) { return [ordered]@{ name = $Name; action = 'would-recycle' } }
    Restart-WebAppPool -Name $Name
    return [ordered]@{ name = $Name; action = 'recycled' }
}

# Step restart-services of install-certificate and configure-crm: services and app pool according to -Restart
# (when-changed: only when an earlier step changed or would change something).
function Invoke-D365RestartStep {
    param($State, [string] $Restart, [string[]] $Services, [string] $AppPool, [bool] $Plan)
    $pending = @($State.steps | Where-Object { $_.status -eq 'changed' -or $_.status -eq 'would-change' }).Count -gt 0
    if ($Restart -eq 'never' -or ($Restart -eq 'when-changed' -and -not $pending)) {
        $why = 'nothing changed'
        if ($Restart -eq 'never') { $why = 'disabled (restart: never)' }
        [void](Add-D365Step -State $State -Id 'restart-services' -Title 'restart D365 services' -Status 'skipped' -Message $why)
        return
    }
    $report = @(Restart-D365Services -Names $Services -Plan $Plan)
    if ($AppPool) { $report += , (Restart-D365AppPool -Name $AppPool -Plan $Plan) }
    $acted = @($report | Where-Object { $_.action -eq 'restarted' -or $_.action -eq 'recycled' -or $_.action -like 'would-*' }).Count -gt 0
    $status = 'skipped'
    if ($acted) { if ($Plan) { $status = 'would-change' } else { $status = 'changed' } }
    [void](Add-D365Step -State $State -Id 'restart-services' -Title 'restart D365 services' -Status $status -Evidence $report)
}
