# configure-exchange's steps, one advanced function each (Set-D365ExoSyncExchangeConfiguration calls them in order):
# read the state, decide with ExchangeChanges.ps1, change only the difference when ShouldProcess agrees (-WhatIf
# prints its "What if:" line instead; a declined -Confirm changes nothing and is not recorded as changed), read it
# back, and return the step object. A failure ends the step with an ErrorRecord (error id and category).

function Test-D365ExchangeModuleStep {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [AllowEmptyCollection()] [string[]] $AppIds = @())
    try {
        $guid = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
        foreach ($id in @($AppIds)) { if ($id -notmatch $guid) { Stop-D365Step "appIds: '$id' is not an application id (a GUID)" -ErrorId 'ExchangeAppIdInvalid' -Category InvalidArgument } }
        if (@($AppIds).Count -eq 0) { Stop-D365Step 'appIds is empty: give the application id(s) D365 presents to EWS' -ErrorId 'ExchangeAppIdInvalid' -Category InvalidArgument }
        # The module: 3.1.0 or later (-AccessToken).
        $module = Get-D365ExchangeModule
        if ($null -eq $module) { Stop-D365Step ('the ExchangeOnlineManagement PowerShell module is not installed: ' + $script:D365ExchangeInstallHint) -ErrorId 'ExchangeModuleNotInstalled' -Category NotInstalled }
        if ([version]$module.version -lt [version]$script:D365ExchangeMinimumVersion) {
            Stop-D365Step ("ExchangeOnlineManagement {0} is too old (app-only sign-in with an access token needs {1} or later): {2}" -f $module.version, $script:D365ExchangeMinimumVersion, $script:D365ExchangeInstallHint) -ErrorId 'ExchangeModuleTooOld' -Category NotInstalled
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'ExchangeModuleFailed'))
    }
    return Add-D365Step -State $State -Id 'exchange-module' -Status 'unchanged' -After $module
}

# App-only sign-in with the access token; only the cmdlets this phase uses are loaded. A session it opened is closed
# again when the step fails; otherwise the phase function closes it at the end.
function Connect-D365ExchangeStep {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Organization,
        [Parameter(Mandatory = $true)] [System.Security.SecureString] $AccessToken,
        [string] $ExchangeEnvironmentName
    )
    $connected = $false
    try {
        $connect = @{
            AccessToken  = (ConvertTo-D365PlainText -Secure $AccessToken)
            Organization = $Organization
            ShowBanner   = $false
            CommandName  = @('Get-OrganizationConfig', 'Set-OrganizationConfig', 'Get-CASMailbox', 'Set-CASMailbox')
        }
        if ($ExchangeEnvironmentName) { $connect['ExchangeEnvironmentName'] = $ExchangeEnvironmentName }
        try {
            Connect-ExchangeOnline @connect | Out-Null
        } finally {
            $connect['AccessToken'] = $null
        }
        $connected = $true
        $getCommand = Get-Command -Name 'Get-OrganizationConfig' -ErrorAction SilentlyContinue
        if (-not $getCommand -or -not $getCommand.Parameters.ContainsKey('RetrieveEwsOperationAccessPolicy')) {
            Stop-D365Step ('Get-OrganizationConfig has no -RetrieveEwsOperationAccessPolicy switch in this session, so EwsAllowedAppIDs cannot be read: update the module (' + $script:D365ExchangeInstallHint + ')') -ErrorId 'ExchangeModuleTooOld' -Category NotInstalled
        }
    } catch {
        if ($connected) { Disconnect-ExchangeOnline -Confirm:$false -WhatIf:$false -ErrorAction SilentlyContinue | Out-Null }
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'ExchangeSignInFailed' -TargetObject $Organization))
    }
    return Add-D365Step -State $State -Id 'sign-in' -Status 'unchanged' -After ([ordered]@{ organization = $Organization })
}

function Read-D365ExchangeOrganizationStep {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State)
    try {
        $organization = Read-D365ExchangeEws
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'ExchangeReadOrganizationFailed'))
    }
    return Add-D365Step -State $State -Id 'read-organization' -Status 'unchanged' -After $organization
}

# EwsEnabled of the organization: set to True only with -Enable (enabling EWS for a whole tenant is a decision); without
# it a plan shows the change with apply's refusal, and apply refuses before changing anything.
function Set-D365EwsEnabledStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] $Organization, [bool] $Enable)
    $change = Get-D365EwsEnabledChange -Current $Organization.ewsEnabled
    $evidence = $null
    try {
        if ($change.differs -and -not $Enable) {
            $refusal = "EwsEnabled of the organization is $($change.shown), so Exchange Online blocks EWS for every app; setting it to True enables EWS for the whole tenant (only apps in EwsAllowedAppIDs, when that list is set), which is a decision: set exchange.ews.enableOrganization: true to let this phase do it, or run Set-OrganizationConfig -EwsEnabled `$true yourself"
            if ($WhatIfPreference) {
                return Add-D365Step -State $State -Id 'ews-enabled' -Status 'would-change' -Before $change.before -After $change.after -Message ('apply refuses this: ' + $refusal)
            }
            Stop-D365Step $refusal -ErrorId 'ExchangeEwsEnableNotAllowed' -Category PermissionDenied
        }
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'Exchange Online organization' -Action 'Set-OrganizationConfig -EwsEnabled $true' }
        if ($decision -eq 'change') {
            Set-OrganizationConfig -EwsEnabled $true
            if ((Read-D365ExchangeEws).ewsEnabled -ne $true) { Stop-D365Step 'EwsEnabled still does not read True after Set-OrganizationConfig -EwsEnabled $true' -ErrorId 'ExchangeEwsEnabledReadBack' }
            $evidence = [ordered]@{ command = 'Set-OrganizationConfig -EwsEnabled $true' }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'ExchangeEwsEnabledFailed'))
    }
    return Add-D365StepDecision -State $State -Id 'ews-enabled' -Decision $decision -Before $change.before -After $change.after -Evidence $evidence
}

# EwsAllowedAppIDs: the parameter is a String that replaces the list, so the whole merged list is written back and
# read again.
function Set-D365AllowedAppIdsStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] $Organization, [Parameter(Mandatory = $true)] [string[]] $AppIds)
    $change = Get-D365AllowedAppIdsChange -Current @($Organization.ewsAllowedAppIds) -AppIds $AppIds
    if ($change.unrestricted) {
        return Add-D365Step -State $State -Id 'allowed-app-ids' -Status 'unchanged' -Before @() -After @() -Message 'EwsAllowedAppIDs is empty: EWS is not restricted by app id, so the Dynamics app passes; it is left empty, as adding one id would block every other EWS app of the tenant'
    }
    $evidence = $null
    try {
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'Exchange Online organization' -Action ('add to EwsAllowedAppIDs: ' + ($change.missing -join ', ')) }
        if ($decision -eq 'change') {
            Set-OrganizationConfig -EwsAllowedAppIDs ($change.after -join ',')
            $check = @((Read-D365ExchangeEws).ewsAllowedAppIds)
            foreach ($id in $change.after) { if ($check -notcontains $id) { Stop-D365Step "EwsAllowedAppIDs does not list $id after the update (it lists: $($check -join ', '))" -ErrorId 'ExchangeAllowedAppIdsReadBack' } }
            $evidence = [ordered]@{ added = $change.missing; kept = $change.before }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'ExchangeAllowedAppIdsFailed'))
    }
    return Add-D365StepDecision -State $State -Id 'allowed-app-ids' -Decision $decision -Before $change.before -After $change.after -Evidence $evidence
}

# The user-agent policy: reported; with user agents given, they are let through with the add/remove form of the
# MultiValuedProperty, which keeps every other entry.
function Set-D365UserAgentPolicyStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] $Organization, [AllowEmptyCollection()] [string[]] $UserAgents = @())
    $change = Get-D365UserAgentPolicyChange -Organization $Organization -UserAgents $UserAgents
    $policy = $Organization.ewsApplicationAccessPolicy
    if ($change.kind -eq 'none') {
        return Add-D365Step -State $State -Id 'user-agent-policy' -Status 'unchanged' -Before $change.before -After $change.before -Message 'no EwsApplicationAccessPolicy: no user agent is blocked'
    }
    if ($change.kind -eq 'unjudged') {
        $message = ('the organization enforces EwsApplicationAccessPolicy {0} (allow list: {1}; block list: {2}); Microsoft does not document the user agent D365 sends, so it may be blocked: set exchange.ews.userAgents to the agent(s) to let through' -f $policy, ($Organization.ewsAllowList -join ', '), ($Organization.ewsBlockList -join ', '))
        Add-D365Warning -State $State -Message $message
        return Add-D365Step -State $State -Id 'user-agent-policy' -Status 'skipped' -Before $change.before -Message $message
    }
    $evidence = $null
    try {
        if ($change.kind -eq 'unknown') { Stop-D365Step "unknown EwsApplicationAccessPolicy '$policy' (expected EnforceAllowList or EnforceBlockList)" -ErrorId 'ExchangeUserAgentPolicyUnknown' -Category InvalidData }
        $decision = 'unchanged'
        if ($change.kind -eq 'allow' -and $change.differs) {
            $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'Exchange Online organization' -Action ('add to EwsAllowList: ' + ($change.add -join ', '))
            if ($decision -eq 'change') {
                Set-OrganizationConfig -EwsAllowList @{ Add = $change.add }
                $check = Read-D365ExchangeEws
                foreach ($agent in $change.add) { if ($check.ewsAllowList -notcontains $agent) { Stop-D365Step "EwsAllowList does not list $agent after the update" -ErrorId 'ExchangeUserAgentPolicyReadBack' } }
                $evidence = [ordered]@{ added = $change.add }
            }
        }
        if ($change.kind -eq 'block' -and $change.differs) {
            $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'Exchange Online organization' -Action ('remove from EwsBlockList: ' + ($change.remove -join ', '))
            if ($decision -eq 'change') {
                Set-OrganizationConfig -EwsBlockList @{ Remove = $change.remove }
                $check = Read-D365ExchangeEws
                foreach ($entry in $change.remove) { if ($check.ewsBlockList -contains $entry) { Stop-D365Step "EwsBlockList still lists $entry after the update" -ErrorId 'ExchangeUserAgentPolicyReadBack' } }
                $evidence = [ordered]@{ removed = $change.remove }
            }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'ExchangeUserAgentPolicyFailed'))
    }
    return Add-D365StepDecision -State $State -Id 'user-agent-policy' -Decision $decision -Before $change.before -After $change.after -Evidence $evidence
}

# The synchronized mailboxes' own EwsEnabled: the blocked ones reported; switched on only with -Enable.
function Set-D365MailboxEwsStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [AllowEmptyCollection()] [string[]] $Mailboxes = @(), [AllowEmptyCollection()] [object[]] $Blocked = @(), [bool] $Enable)
    if (@($Mailboxes).Count -eq 0) {
        return Add-D365Step -State $State -Id 'mailboxes' -Status 'skipped' -Message 'no mailbox addresses were given'
    }
    if (@($Blocked).Count -eq 0) {
        return Add-D365Step -State $State -Id 'mailboxes' -Status 'unchanged' -After ([ordered]@{ checked = @($Mailboxes).Count; ewsDisabled = @() })
    }
    $names = @($Blocked | ForEach-Object { $_.address })
    if (-not $Enable) {
        $message = ('{0} of the synchronized mailboxes have EwsEnabled False, so their synchronization fails: {1}; set exchange.ews.enableMailboxes: true to let this phase switch EWS on for them, or run Set-CASMailbox -Identity <address> -EwsEnabled $true' -f $names.Count, ($names -join ', '))
        Add-D365Warning -State $State -Message $message
        return Add-D365Step -State $State -Id 'mailboxes' -Status 'skipped' -Before ([ordered]@{ ewsDisabled = $names }) -Message $message
    }
    $evidence = $null
    try {
        $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target ($names -join ', ') -Action 'Set-CASMailbox -EwsEnabled $true'
        if ($decision -eq 'change') {
            foreach ($mailbox in $Blocked) { Set-CASMailbox -Identity $mailbox.identity -EwsEnabled $true }
            $still = @(Find-D365EwsBlockedMailboxes -Addresses $Mailboxes)
            if ($still.Count -gt 0) { Stop-D365Step ('EwsEnabled still reads False after Set-CASMailbox for: ' + (@($still | ForEach-Object { $_.address }) -join ', ')) -ErrorId 'ExchangeMailboxEwsReadBack' }
            $evidence = [ordered]@{ enabled = $names }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'ExchangeMailboxEwsFailed'))
    }
    return Add-D365StepDecision -State $State -Id 'mailboxes' -Decision $decision -Before ([ordered]@{ ewsDisabled = $names }) -After ([ordered]@{ ewsDisabled = @() }) -Evidence $evidence
}
