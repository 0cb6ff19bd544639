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

# Restarts the services of $Names that exist on this server and are running. A stopped service whose start type is
# Automatic should be running (a failed run may have left it stopped): it is started, also with -StartOnly (the
# rerun where nothing else changed). A stopped Manual or Disabled service is left alone (an admin's choice) and
# reported. Each restart or start asks ShouldProcess (-WhatIf: would-restart / would-start; a declined -Confirm:
# declined). Returns one evidence entry per name.
function Restart-D365Services {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)] [string[]] $Names,
        [switch] $StartOnly
    )
    $report = New-Object System.Collections.ArrayList
    foreach ($name in $Names) {
        $service = Get-Service -Name $name -ErrorAction SilentlyContinue
        if ($null -eq $service) {
            [void]$report.Add([ordered]@{ name = $name; action = 'not-installed' })
            continue
        }
        $running = [string]$service.Status -eq 'Running'
        if (-not $running -and [string]$service.StartType -ne 'Automatic') {
            [void]$report.Add([ordered]@{ name = $name; action = 'left-stopped'; status = [string]$service.Status; startType = [string]$service.StartType })
            continue
        }
        if ($running -and $StartOnly) {
            [void]$report.Add([ordered]@{ name = $name; action = 'running' })
            continue
        }
        $verb = 'restart'
        if (-not $running) { $verb = 'start' }
        $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target "service $name" -Action $verb
        if ($decision -ne 'change') {
            $entry = [ordered]@{ name = $name; action = 'declined' }
            if ($decision -eq 'would-change') { $entry.action = 'would-' + $verb }
            if (-not $running) { $entry['status'] = [string]$service.Status }
            [void]$report.Add($entry)
            continue
        }
        if ($running) { Restart-Service -Name $name -Force -WarningAction SilentlyContinue }
        else { Start-Service -Name $name -WarningAction SilentlyContinue }
        $after = Get-Service -Name $name
        if ([string]$after.Status -ne 'Running') {
            Stop-D365Step ("service {0} did not come back after the {1} (status {2})" -f $name, $verb, $after.Status) -ErrorId 'ServiceNotRunning' -Category ResourceUnavailable
        }
        if ($running) { [void]$report.Add([ordered]@{ name = $name; action = 'restarted' }) }
        else { [void]$report.Add([ordered]@{ name = $name; action = 'started'; status = [string]$service.Status }) }
    }
    return $report.ToArray()
}

function Restart-D365AppPool {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)] [string] $Name)
    if (-not (Test-D365Command -Name 'Restart-WebAppPool' -Module 'WebAdministration')) {
        return [ordered]@{ name = $Name; action = 'no-iis' }
    }
    $state = Get-WebAppPoolState -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $state) { return [ordered]@{ name = $Name; action = 'not-installed' } }
    if ([string]$state.Value -ne 'Started') { return [ordered]@{ name = $Name; action = 'left-stopped'; status = [string]$state.Value } }
    $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target "application pool $Name" -Action 'recycle'
    if ($decision -eq 'would-change') { return [ordered]@{ name = $Name; action = 'would-recycle' } }
    if ($decision -eq 'declined') { return [ordered]@{ name = $Name; action = 'declined' } }
    Restart-WebAppPool -Name $Name
    return [ordered]@{ name = $Name; action = 'recycled' }
}

# Step restart-services (install-certificate, configure-crm, configure-adfs): restart when an earlier step changed or
# would change something (when-changed) or always; otherwise start only the Automatic services that are stopped.
# restart: never touches nothing and warns about stopped Automatic services.
function Restart-D365ServicesStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [ValidateSet('when-changed', 'always', 'never')] [string] $Restart,
        [Parameter(Mandatory = $true)] [string[]] $Services,
        [string] $AppPool
    )
    try {
        $pending = @($State.steps | Where-Object { $_.status -eq 'changed' -or $_.status -eq 'would-change' }).Count -gt 0
        if ($Restart -eq 'never') {
            foreach ($name in $Services) {
                $service = Get-Service -Name $name -ErrorAction SilentlyContinue
                if ($null -ne $service -and [string]$service.Status -ne 'Running' -and [string]$service.StartType -eq 'Automatic') {
                    Add-D365Warning -State $State -Message ("service {0} is {1} although its start type is Automatic; restart: never leaves it so" -f $name, $service.Status)
                }
            }
            return Add-D365Step -State $State -Id 'restart-services' -Status 'skipped' -Message 'disabled (restart: never)'
        }
        $startOnly = ($Restart -eq 'when-changed' -and -not $pending)
        $report = @(Restart-D365Services -Names $Services -StartOnly:$startOnly)
        if ($AppPool -and -not $startOnly) { $report += , (Restart-D365AppPool -Name $AppPool) }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'RestartServicesFailed' -TargetObject $Services))
    }
    $acted = @($report | Where-Object { $_.action -eq 'restarted' -or $_.action -eq 'started' -or $_.action -eq 'recycled' -or $_.action -like 'would-*' }).Count -gt 0
    $status = 'skipped'
    if ($acted) { if ($WhatIfPreference) { $status = 'would-change' } else { $status = 'changed' } }
    $message = $null
    if (-not $acted -and $startOnly) { $message = 'nothing changed' }
    if (-not $acted -and @($report | Where-Object { $_.action -eq 'declined' }).Count -gt 0) { $message = 'declined at the confirmation prompt: nothing was changed' }
    return Add-D365Step -State $State -Id 'restart-services' -Status $status -Evidence $report -Message $message
}
