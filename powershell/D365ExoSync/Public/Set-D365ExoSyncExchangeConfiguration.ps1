function Set-D365ExoSyncExchangeConfiguration {
    <#
    .SYNOPSIS
    Phase configure-exchange (any runner with the ExchangeOnlineManagement module 3.1.0 or later): reads the Exchange
    Online tenant's EWS access for the Dynamics app and changes only the difference.

    .DESCRIPTION
    Reads EwsEnabled and EwsAllowedAppIDs (Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy), the user-agent
    policy (EwsApplicationAccessPolicy, EwsAllowList, EwsBlockList) and the mailboxes with EwsEnabled False
    (Get-CASMailbox -Filter "EwsEnabled -eq 0": one paged call, not one per mailbox). Then, in this order:
      ews-enabled       EwsEnabled set to True where it is unset or False, only with -EnableOrganization (enabling EWS
                        for a whole tenant is a decision: without it, plan shows the change and apply refuses before
                        changing anything).
      allowed-app-ids   the app ids added to EwsAllowedAppIDs, every other entry kept. An empty list restricts nothing
                        ("use the value $null ... to stop restricting access by app ID": Set-OrganizationConfig help),
                        so it is left empty: adding one id would block every other EWS app of the tenant.
      user-agent-policy reported; changed only for the user agents given in -UserAgents (added to EwsAllowList, or
                        the matching EwsBlockList entries removed, with the add/remove form that keeps other entries).
      mailboxes         the given mailboxes with EwsEnabled False reported; set to True only with -EnableMailboxes.
    Exchange Online takes up to 24 hours to apply EWS changes ("Control access to EWS in Exchange"): the state's
    evidence.effectiveAfter is the time after which Test & Enable is worth running.

    .PARAMETER Organization
    The tenant's primary .onmicrosoft.com domain (Connect-ExchangeOnline -Organization).

    .PARAMETER AccessToken
    An app-only access token for Exchange Online (the TypeScript side obtains it with the toolkit's Entra app; the app
    needs Exchange.ManageAsApp and an Exchange role). Passed to this process through its environment only.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true)] [ValidatePattern('^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$')] [string] $Organization,
        [Parameter(Mandatory = $true)] [System.Security.SecureString] $AccessToken,
        [string] $ExchangeEnvironmentName,
        [string[]] $AppIds = @('00000007-0000-0000-c000-000000000000'),
        [bool] $EnableOrganization = $false,
        [string[]] $UserAgents = @(),
        [string[]] $Mailboxes = @(),
        [bool] $EnableMailboxes = $false,
        [ValidateRange(0, 168)] [int] $EffectiveAfterHours = 24
    )
    $ErrorActionPreference = 'Stop'
    $plan = [bool]$WhatIfPreference
    $state = New-D365PhaseState -Phase 'configure-exchange' -Plan $plan
    $guid = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
    $connected = $false
    $stepId = 'exchange-module'
    try {
        foreach ($id in @($AppIds)) { if ($id -notmatch $guid) { Stop-D365Step "appIds: '$id' is not an application id (a GUID)" } }
        if (@($AppIds).Count -eq 0) { Stop-D365Step 'appIds is empty: give the application id(s) D365 presents to EWS' }

        # 1. The module (3.1.0 or later: -AccessToken).
        $module = Get-D365ExchangeModule
        if ($null -eq $module) { Stop-D365Step ('the ExchangeOnlineManagement PowerShell module is not installed: ' + $script:D365ExchangeInstallHint) }
        if ([version]$module.version -lt [version]$script:D365ExchangeMinimumVersion) {
            Stop-D365Step ("ExchangeOnlineManagement {0} is too old (app-only sign-in with an access token needs {1} or later): {2}" -f $module.version, $script:D365ExchangeMinimumVersion, $script:D365ExchangeInstallHint)
        }
        [void](Add-D365Step -State $state -Id 'exchange-module' -Title 'ExchangeOnlineManagement module' -Status 'unchanged' -After $module)

        # 2. App-only sign-in with the access token; only the cmdlets this phase uses are loaded.
        $stepId = 'sign-in'
        $connect = @{
            AccessToken  = (ConvertTo-D365PlainText -Secure $AccessToken)
            Organization = $Organization
            ShowBanner   = $false
            CommandName  = @('Get-OrganizationConfig', 'Set-OrganizationConfig', 'Get-CASMailbox', 'Set-CASMailbox')
        }
        if ($ExchangeEnvironmentName) { $connect['ExchangeEnvironmentName'] = $ExchangeEnvironmentName }
        Connect-ExchangeOnline @connect | Out-Null
        $connect['AccessToken'] = $null
        $connected = $true
        $getCommand = Get-Command -Name 'Get-OrganizationConfig' -ErrorAction SilentlyContinue
        if (-not $getCommand -or -not $getCommand.Parameters.ContainsKey('RetrieveEwsOperationAccessPolicy')) {
            Stop-D365Step ('Get-OrganizationConfig has no -RetrieveEwsOperationAccessPolicy switch in this session, so EwsAllowedAppIDs cannot be read: update the module (' + $script:D365ExchangeInstallHint + ')')
        }
        [void](Add-D365Step -State $state -Id 'sign-in' -Title 'Sign in to Exchange Online (app-only)' -Status 'unchanged' -After ([ordered]@{ organization = $Organization }))

        # 3. Read everything first.
        $stepId = 'read-organization'
        $org = Read-D365ExchangeEws
        [void](Add-D365Step -State $state -Id 'read-organization' -Title 'Read the organization''s EWS settings' -Status 'unchanged' -After $org)

        $blocked = @()
        if (@($Mailboxes).Count -gt 0) {
            $stepId = 'read-mailboxes'
            $blocked = @(Find-D365EwsBlockedMailboxes -Addresses $Mailboxes)
        }

        # 4. EwsEnabled of the organization.
        $stepId = 'ews-enabled'
        $ewsBefore = $org.ewsEnabled
        $ewsDiffers = ($ewsBefore -ne $true)
        $shown = 'unset'
        if ($null -ne $ewsBefore) { $shown = [string]$ewsBefore }
        if ($ewsDiffers -and -not $EnableOrganization) {
            $refusal = "EwsEnabled of the organization is $shown, so Exchange Online blocks EWS for every app; setting it to True enables EWS for the whole tenant (only apps in EwsAllowedAppIDs, when that list is set), which is a decision: set exchange.ews.enableOrganization: true to let this phase do it, or run Set-OrganizationConfig -EwsEnabled `$true yourself"
            if ($plan) {
                [void](Add-D365Step -State $state -Id 'ews-enabled' -Title 'EWS enabled for the organization' -Status 'would-change' -Before $ewsBefore -After $true -Message ('apply refuses this: ' + $refusal))
            } else {
                Stop-D365Step $refusal
            }
        } else {
            $step = Set-D365StepOutcome -State $state -Id 'ews-enabled' -Title 'EWS enabled for the organization' -Differs $ewsDiffers -Plan $plan -Before $ewsBefore -After $true
            if ($ewsDiffers -and -not $plan -and $PSCmdlet.ShouldProcess('Exchange Online organization', 'Set-OrganizationConfig -EwsEnabled $true')) {
                Set-OrganizationConfig -EwsEnabled $true
                if ((Read-D365ExchangeEws).ewsEnabled -ne $true) { Stop-D365Step 'EwsEnabled still does not read True after Set-OrganizationConfig -EwsEnabled $true' }
                $step.evidence = [ordered]@{ command = 'Set-OrganizationConfig -EwsEnabled $true' }
            }
        }

        # 5. EwsAllowedAppIDs: the app ids added, every other entry kept (the parameter is a String that replaces the
        #    list, so the whole merged list is written back and read again).
        $stepId = 'allowed-app-ids'
        $current = @($org.ewsAllowedAppIds)
        if ($current.Count -eq 0) {
            [void](Add-D365Step -State $state -Id 'allowed-app-ids' -Title 'Dynamics app in EwsAllowedAppIDs' -Status 'unchanged' -Before @() -After @() -Message 'EwsAllowedAppIDs is empty: EWS is not restricted by app id, so the Dynamics app passes; it is left empty, as adding one id would block every other EWS app of the tenant')
        } else {
            $wanted = Merge-D365List -Current $current -Wanted $AppIds
            $missing = @($wanted | Where-Object { $current -notcontains $_ })
            $step = Set-D365StepOutcome -State $state -Id 'allowed-app-ids' -Title 'Dynamics app in EwsAllowedAppIDs' -Differs ($missing.Count -gt 0) -Plan $plan -Before $current -After $wanted
            if ($missing.Count -gt 0 -and -not $plan -and $PSCmdlet.ShouldProcess('Exchange Online organization', 'add to EwsAllowedAppIDs: ' + ($missing -join ', '))) {
                Set-OrganizationConfig -EwsAllowedAppIDs ($wanted -join ',')
                $check = @((Read-D365ExchangeEws).ewsAllowedAppIds)
                foreach ($id in $wanted) { if ($check -notcontains $id) { Stop-D365Step "EwsAllowedAppIDs does not list $id after the update (it lists: $($check -join ', '))" } }
                $step.evidence = [ordered]@{ added = $missing; kept = $current }
            }
        }

        # 6. The user-agent policy (EwsApplicationAccessPolicy with EwsAllowList / EwsBlockList).
        $stepId = 'user-agent-policy'
        Set-D365UserAgentPolicyStep -State $state -Organization $org -UserAgents $UserAgents -Plan $plan -Cmdlet $PSCmdlet

        # 7. The mailboxes' own EwsEnabled.
        $stepId = 'mailboxes'
        if (@($Mailboxes).Count -eq 0) {
            [void](Add-D365Step -State $state -Id 'mailboxes' -Title 'EWS enabled for the synchronized mailboxes' -Status 'skipped' -Message 'no mailbox addresses were given')
        } elseif ($blocked.Count -eq 0) {
            [void](Add-D365Step -State $state -Id 'mailboxes' -Title 'EWS enabled for the synchronized mailboxes' -Status 'unchanged' -After ([ordered]@{ checked = @($Mailboxes).Count; ewsDisabled = @() }))
        } elseif (-not $EnableMailboxes) {
            $names = @($blocked | ForEach-Object { $_.address })
            $message = ('{0} of the synchronized mailboxes have EwsEnabled False, so their synchronization fails: {1}; set exchange.ews.enableMailboxes: true to let this phase switch EWS on for them, or run Set-CASMailbox -Identity <address> -EwsEnabled $true' -f $names.Count, ($names -join ', '))
            Add-D365Warning -State $state -Message $message
            [void](Add-D365Step -State $state -Id 'mailboxes' -Title 'EWS enabled for the synchronized mailboxes' -Status 'skipped' -Before ([ordered]@{ ewsDisabled = $names }) -Message $message)
        } else {
            $names = @($blocked | ForEach-Object { $_.address })
            $step = Set-D365StepOutcome -State $state -Id 'mailboxes' -Title 'EWS enabled for the synchronized mailboxes' -Differs $true -Plan $plan -Before ([ordered]@{ ewsDisabled = $names }) -After ([ordered]@{ ewsDisabled = @() })
            if (-not $plan -and $PSCmdlet.ShouldProcess(($names -join ', '), 'Set-CASMailbox -EwsEnabled $true')) {
                foreach ($mailbox in $blocked) { Set-CASMailbox -Identity $mailbox.identity -EwsEnabled $true }
                $still = @(Find-D365EwsBlockedMailboxes -Addresses $Mailboxes)
                if ($still.Count -gt 0) { Stop-D365Step ('EwsEnabled still reads False after Set-CASMailbox for: ' + (@($still | ForEach-Object { $_.address }) -join ', ')) }
                $step.evidence = [ordered]@{ enabled = $names }
            }
        }

        if ($state.changed) {
            $after = (Get-Date).ToUniversalTime().AddHours($EffectiveAfterHours)
            $state.evidence['effectiveAfter'] = ConvertTo-D365IsoDate $after
            Add-D365Warning -State $state -Message ("Exchange Online takes up to {0} hours to apply EWS changes: run Test & Enable for the mailboxes after {1}" -f $EffectiveAfterHours, $state.evidence['effectiveAfter'])
        }
    } catch {
        Stop-D365Phase -State $state -Step $stepId -ErrorRecord $_
    } finally {
        # -WhatIf:$false: in a plan the session must still be closed.
        if ($connected) { Disconnect-ExchangeOnline -Confirm:$false -WhatIf:$false -ErrorAction SilentlyContinue | Out-Null }
    }
    return $state
}

# The organization's EWS settings, with the app-id list (-RetrieveEwsOperationAccessPolicy).
function Read-D365ExchangeEws {
    $config = Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy
    $policy = $null
    if ($config.EwsApplicationAccessPolicy) { $policy = [string]$config.EwsApplicationAccessPolicy }
    return [pscustomobject][ordered]@{
        ewsEnabled                 = (ConvertTo-D365EwsSwitch $config.EwsEnabled)
        ewsAllowedAppIds           = (ConvertTo-D365AppIdList $config.EwsAllowedAppIDs)
        ewsApplicationAccessPolicy = $policy
        ewsAllowList               = (ConvertTo-D365StringList $config.EwsAllowList)
        ewsBlockList               = (ConvertTo-D365StringList $config.EwsBlockList)
    }
}

# The given mailboxes whose own EwsEnabled is False: one filtered, paged read of the tenant's EWS-disabled mailboxes
# (usually few), matched here by primary or proxy SMTP address.
function Find-D365EwsBlockedMailboxes {
    param([string[]] $Addresses)
    $wanted = @{}
    foreach ($address in $Addresses) { if ($address) { $wanted[$address.ToLowerInvariant()] = $true } }
    $found = New-Object System.Collections.ArrayList
    foreach ($mailbox in @(Get-CASMailbox -Filter 'EwsEnabled -eq 0' -ResultSize Unlimited)) {
        if ($null -eq $mailbox) { continue }
        foreach ($address in (Get-D365MailboxAddresses $mailbox)) {
            if ($wanted.ContainsKey($address)) {
                $identity = [string]$mailbox.PrimarySmtpAddress
                if (-not $identity) { $identity = [string]$mailbox.Identity }
                [void]$found.Add([pscustomobject]@{ address = $address; identity = $identity })
                break
            }
        }
    }
    return $found.ToArray()
}

# The user-agent policy: reported; with user agents given, they are let through with the add/remove form of the
# MultiValuedProperty, which keeps every other entry.
function Set-D365UserAgentPolicyStep {
    param($State, $Organization, [string[]] $UserAgents, [bool] $Plan, $Cmdlet)
    $title = 'EWS user-agent policy lets D365 through'
    $policy = $Organization.ewsApplicationAccessPolicy
    $before = [ordered]@{ policy = $policy; allowList = $Organization.ewsAllowList; blockList = $Organization.ewsBlockList }
    if (-not $policy) {
        [void](Add-D365Step -State $State -Id 'user-agent-policy' -Title $title -Status 'unchanged' -Before $before -After $before -Message 'no EwsApplicationAccessPolicy: no user agent is blocked')
        return
    }
    $agents = @($UserAgents | Where-Object { $_ })
    if ($agents.Count -eq 0) {
        $message = ('the organization enforces EwsApplicationAccessPolicy {0} (allow list: {1}; block list: {2}); Microsoft does not document the user agent D365 sends, so it may be blocked: set exchange.ews.userAgents to the agent(s) to let through' -f $policy, ($Organization.ewsAllowList -join ', '), ($Organization.ewsBlockList -join ', '))
        Add-D365Warning -State $State -Message $message
        [void](Add-D365Step -State $State -Id 'user-agent-policy' -Title $title -Status 'skipped' -Before $before -Message $message)
        return
    }
    if ($policy -eq 'EnforceAllowList') {
        $add = @($agents | Where-Object { -not (Test-D365UserAgentMatch -Entries $Organization.ewsAllowList -UserAgent $_) -and ($Organization.ewsAllowList -notcontains $_) })
        $after = [ordered]@{ policy = $policy; allowList = (Merge-D365List -Current $Organization.ewsAllowList -Wanted $add); blockList = $Organization.ewsBlockList }
        $step = Set-D365StepOutcome -State $State -Id 'user-agent-policy' -Title $title -Differs ($add.Count -gt 0) -Plan $Plan -Before $before -After $after
        if ($add.Count -gt 0 -and -not $Plan -and $Cmdlet.ShouldProcess('Exchange Online organization', 'add to EwsAllowList: ' + ($add -join ', '))) {
            Set-OrganizationConfig -EwsAllowList @{ Add = $add }
            $check = Read-D365ExchangeEws
            foreach ($agent in $add) { if ($check.ewsAllowList -notcontains $agent) { Stop-D365Step "EwsAllowList does not list $agent after the update" } }
            $step.evidence = [ordered]@{ added = $add }
        }
        return
    }
    if ($policy -eq 'EnforceBlockList') {
        $remove = @($Organization.ewsBlockList | Where-Object { $entry = $_; @($agents | Where-Object { ($_ -like $entry) -or ($entry -like $_) }).Count -gt 0 })
        $after = [ordered]@{ policy = $policy; allowList = $Organization.ewsAllowList; blockList = @($Organization.ewsBlockList | Where-Object { $remove -notcontains $_ }) }
        $step = Set-D365StepOutcome -State $State -Id 'user-agent-policy' -Title $title -Differs ($remove.Count -gt 0) -Plan $Plan -Before $before -After $after
        if ($remove.Count -gt 0 -and -not $Plan -and $Cmdlet.ShouldProcess('Exchange Online organization', 'remove from EwsBlockList: ' + ($remove -join ', '))) {
            Set-OrganizationConfig -EwsBlockList @{ Remove = $remove }
            $check = Read-D365ExchangeEws
            foreach ($entry in $remove) { if ($check.ewsBlockList -contains $entry) { Stop-D365Step "EwsBlockList still lists $entry after the update" } }
            $step.evidence = [ordered]@{ removed = $remove }
        }
        return
    }
    Stop-D365Step "unknown EwsApplicationAccessPolicy '$policy' (expected EnforceAllowList or EnforceBlockList)"
}
