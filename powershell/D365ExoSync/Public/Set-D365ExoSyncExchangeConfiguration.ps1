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
    [OutputType([pscustomobject])]
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
    $state = New-D365PhaseState -Phase 'configure-exchange' -Plan ([bool]$WhatIfPreference)
    $connected = $false
    $stepId = 'exchange-module'
    try {
        [void](Test-D365ExchangeModuleStep -State $state -AppIds $AppIds)
        $stepId = 'sign-in'
        [void](Connect-D365ExchangeStep -State $state -Organization $Organization -AccessToken $AccessToken -ExchangeEnvironmentName $ExchangeEnvironmentName)
        $connected = $true
        # Everything is read before anything changes.
        $stepId = 'read-organization'
        $ews = (Read-D365ExchangeOrganizationStep -State $state).after
        $blocked = @()
        if (@($Mailboxes).Count -gt 0) {
            $stepId = 'read-mailboxes'
            $blocked = @(Find-D365EwsBlockedMailboxes -Addresses $Mailboxes)
        }
        $stepId = 'ews-enabled'
        [void](Set-D365EwsEnabledStep -State $state -Organization $ews -Enable $EnableOrganization)
        $stepId = 'allowed-app-ids'
        [void](Set-D365AllowedAppIdsStep -State $state -Organization $ews -AppIds $AppIds)
        $stepId = 'user-agent-policy'
        [void](Set-D365UserAgentPolicyStep -State $state -Organization $ews -UserAgents $UserAgents)
        $stepId = 'mailboxes'
        [void](Set-D365MailboxEwsStep -State $state -Mailboxes $Mailboxes -Blocked $blocked -Enable $EnableMailboxes)
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
