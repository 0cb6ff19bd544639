# A fake Exchange Online tenant behind the ExchangeOnlineManagement cmdlets configure-exchange uses, for pwsh on any OS.
#
# Parameter names and types follow the cmdlet help pages (MicrosoftDocs/office-docs-powershell,
# exchange/exchange-ps/ExchangePowerShell: Connect-ExchangeOnline, Disconnect-ExchangeOnline, Get-OrganizationConfig,
# Set-OrganizationConfig, Get-CASMailbox, Set-CASMailbox), so a wrong parameter name fails here as it would for real:
#   - EwsAllowedAppIDs is a String of comma-separated GUIDs that replaces the list ($null clears it); a hashtable is
#     bound as its type name and refused like any value that is not a GUID.
#   - EwsAllowList / EwsBlockList are MultiValuedProperty: a list replaces, @{ Add = ...; Remove = ... } edits.
#   - Get-OrganizationConfig fills EwsAllowedAppIDs only with -RetrieveEwsOperationAccessPolicy.
#   - Get-CASMailbox returns 1000 results unless -ResultSize Unlimited, and filters with OPATH on EwsEnabled.
#   - The Exchange cmdlets need Connect-ExchangeOnline first; -AccessToken needs -Organization.
# One state (a hashtable) and a call log. With FAKE_EXCHANGE_STATE_FILE set, the state is loaded from and saved to that
# JSON file, so separate processes (plan, then apply; the demo) share one tenant. Tokens are never logged.
Set-StrictMode -Version 1.0
$ErrorActionPreference = 'Stop'

$script:StateFile = $env:FAKE_EXCHANGE_STATE_FILE
$script:Tenant = $null
$script:Connected = $false
$script:GuidPattern = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'

function New-FakeExchangeState {
    <# The default tenant: EWS never configured (EwsEnabled unset), no app-id list, no user-agent policy, two mailboxes. #>
    return @{
        organization  = 'contoso.onmicrosoft.com'
        acceptedToken = $null
        ewsEnabled    = $null
        allowedAppIds = $null
        policy        = $null
        allowList     = @()
        blockList     = @()
        mailboxes     = @(
            @{ primary = 'anna@contoso.com'; proxies = @('SMTP:anna@contoso.com', 'smtp:anna.b@contoso.com'); ewsEnabled = $true },
            @{ primary = 'ben@contoso.com'; proxies = @('SMTP:ben@contoso.com'); ewsEnabled = $true }
        )
        calls         = @()
    }
}

function Save-FakeExchange {
    if ($script:StateFile) { [System.IO.File]::WriteAllText($script:StateFile, (ConvertTo-Json -InputObject $script:Tenant -Depth 20)) }
}

function Reset-FakeExchange {
    <# Replaces the tenant's state (default: New-FakeExchangeState) and disconnects. #>
    param([hashtable] $State)
    if (-not $State) { $State = New-FakeExchangeState }
    $script:Tenant = $State
    $script:Connected = $false
    Save-FakeExchange
}

function Get-FakeExchange {
    <# The live state hashtable (tests read and edit it; call Save-FakeExchange after editing with a state file). #>
    return $script:Tenant
}

function Get-FakeExchangeCall {
    param([string] $Name)
    $calls = @($script:Tenant.calls)
    if ($Name) { $calls = @($calls | Where-Object { $_.name -eq $Name }) }
    return $calls
}

function Add-FakeExchangeCall {
    param([string] $Name, [hashtable] $Arguments)
    $plain = [ordered]@{}
    foreach ($key in @($Arguments.Keys)) {
        $value = $Arguments[$key]
        if ($key -eq 'AccessToken') { $value = '<token>' }
        elseif ($value -is [System.Management.Automation.SwitchParameter]) { $value = [bool]$value }
        elseif ($value -is [System.Collections.IDictionary]) {
            $copy = [ordered]@{}
            foreach ($k in $value.Keys) { $copy[[string]$k] = @($value[$k]) }
            $value = $copy
        }
        $plain[$key] = $value
    }
    $script:Tenant.calls = @($script:Tenant.calls) + @(@{ name = $Name; args = $plain })
    Save-FakeExchange
}

function Assert-FakeExchangeConnected {
    param([string] $Name)
    if (-not $script:Connected) {
        throw "The term '$Name' is not recognized as a name of a cmdlet, function, script file, or executable program. (Exchange Online cmdlets are available after Connect-ExchangeOnline.)"
    }
}

if ($script:StateFile -and (Test-Path -LiteralPath $script:StateFile)) {
    $script:Tenant = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($script:StateFile)) -AsHashtable -Depth 20
} else {
    $script:Tenant = New-FakeExchangeState
    Save-FakeExchange
}

# The claims of a JWT (the payload, base64url JSON), or $null when the token is not one. The signature is not checked:
# the emulator that issued it is trusted in the demo.
function Get-FakeTokenClaims {
    param([string] $Token)
    $parts = $Token.Split('.')
    if ($parts.Count -ne 3) { return $null }
    $payload = $parts[1].Replace('-', '+').Replace('_', '/')
    switch ($payload.Length % 4) { 2 { $payload += '==' } 3 { $payload += '=' } }
    try { return (ConvertFrom-Json -InputObject ([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($payload)))) } catch { return $null }
}

# ---------------------------------------------------------------------------------------------------------------
# ExchangeOnlineManagement

function Connect-ExchangeOnline {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)] [string] $ConnectionUri,
        [Parameter(Position = 1)] [string] $AzureADAuthorizationEndpointUri,
        [Parameter(Position = 2)] [ValidateSet('O365Default', 'O365GermanyCloud', 'O365China', 'O365USGovGCCHigh', 'O365USGovDoD')] [string] $ExchangeEnvironmentName = 'O365Default',
        [Parameter(Position = 3)] $PSSessionOption,
        [Parameter(Position = 4)] [string] $DelegatedOrganization,
        [Parameter(Position = 5)] [string] $Prefix,
        [Parameter(Position = 6)] [string[]] $CommandName,
        [Parameter(Position = 7)] [string[]] $FormatTypeName,
        [string] $AccessToken,
        [string] $AppId,
        [switch] $BypassMailboxAnchoring,
        $Certificate,
        [string] $CertificateFilePath,
        [System.Security.SecureString] $CertificatePassword,
        [string] $CertificateThumbprint,
        [pscredential] $Credential,
        [switch] $Device,
        [switch] $DisableWAM,
        [switch] $EnableErrorReporting,
        [string] $EXOModuleBasePath,
        [switch] $InlineCredential,
        [switch] $LoadCmdletHelp,
        [string] $LogDirectoryPath,
        [string] $LogLevel,
        [switch] $ManagedIdentity,
        [string] $ManagedIdentityAccountId,
        [string] $Organization,
        [uint32] $PageSize,
        [switch] $ShowBanner,
        [bool] $ShowProgress,
        $SigningCertificate,
        [switch] $SkipLoadingCmdletHelp,
        [switch] $SkipLoadingFormatData,
        [bool] $TrackPerformance,
        [bool] $UseMultithreading,
        [string] $UserPrincipalName,
        [switch] $UseRPSSession
    )
    Add-FakeExchangeCall 'Connect-ExchangeOnline' $PSBoundParameters
    if ($AccessToken) {
        if (-not $Organization -and -not $DelegatedOrganization -and -not $UserPrincipalName) {
            throw 'AccessToken needs the Organization, DelegatedOrganization or UserPrincipalName parameter.'
        }
        if ($Organization -and $Organization -ne $script:Tenant.organization) {
            throw "UnAuthorized: the access token is not valid for the organization '$Organization'."
        }
        if ($script:Tenant.acceptedToken -and $AccessToken -ne $script:Tenant.acceptedToken) {
            throw 'UnAuthorized: the access token was refused by Exchange Online (401).'
        }
        $claims = Get-FakeTokenClaims $AccessToken
        if ($null -eq $claims) { throw 'UnAuthorized: the access token is not a JSON Web Token.' }
        if (@('https://outlook.office365.com', 'https://outlook.office365.us', '00000002-0000-0ff1-ce00-000000000000') -notcontains [string]$claims.aud) {
            throw "UnAuthorized: the access token is for '$($claims.aud)', not for Exchange Online (https://outlook.office365.com)."
        }
        if (@($claims.roles) -notcontains 'Exchange.ManageAsApp') {
            throw 'UnAuthorized: the access token has no Exchange.ManageAsApp role: grant the app that application permission of Office 365 Exchange Online (admin consent).'
        }
    }
    $script:Connected = $true
}

function Disconnect-ExchangeOnline {
    [CmdletBinding(SupportsShouldProcess = $true, DefaultParameterSetName = 'DefaultParameterSet')]
    param(
        [Parameter(Mandatory = $true, ParameterSetName = 'ConnectionId')] [string[]] $ConnectionId,
        [Parameter(Mandatory = $true, ParameterSetName = 'ModulePrefix')] [string[]] $ModulePrefix
    )
    Add-FakeExchangeCall 'Disconnect-ExchangeOnline' $PSBoundParameters
    if ($PSCmdlet.ShouldProcess('Exchange Online sessions', 'disconnect')) { $script:Connected = $false }
}

# ---------------------------------------------------------------------------------------------------------------
# Organization

function Get-OrganizationConfig {
    [CmdletBinding()]
    param(
        [string] $DomainController,
        [switch] $RetrieveEwsOperationAccessPolicy
    )
    Assert-FakeExchangeConnected 'Get-OrganizationConfig'
    Add-FakeExchangeCall 'Get-OrganizationConfig' $PSBoundParameters
    $allowed = $null
    if ($RetrieveEwsOperationAccessPolicy) { $allowed = $script:Tenant.allowedAppIds }
    return [pscustomobject]@{
        Name                       = $script:Tenant.organization
        Identity                   = $script:Tenant.organization
        EwsEnabled                 = $script:Tenant.ewsEnabled
        EwsAllowedAppIDs           = $allowed
        EwsApplicationAccessPolicy = $script:Tenant.policy
        EwsAllowList               = @($script:Tenant.allowList)
        EwsBlockList               = @($script:Tenant.blockList)
    }
}

# A MultiValuedProperty parameter: a list replaces, @{ Add; Remove } edits (Exchange cmdlet syntax).
function Update-FakeMultiValue {
    param($Current, $Value)
    if ($Value -is [System.Collections.IDictionary]) {
        $list = [System.Collections.ArrayList]@(@($Current) | Where-Object { $null -ne $_ })
        foreach ($key in $Value.Keys) {
            if ($key -notin @('Add', 'Remove')) { throw "Cannot convert the value of type hashtable: the only keys are Add and Remove (got '$key')." }
        }
        foreach ($item in @($Value['Add'])) { if ($item -and -not ($list -contains $item)) { [void]$list.Add([string]$item) } }
        foreach ($item in @($Value['Remove'])) { while ($list -contains $item) { $list.Remove([string]$item) } }
        return , ([string[]]$list.ToArray())
    }
    return , ([string[]]@(@($Value) | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ }))
}

function Set-OrganizationConfig {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [System.Nullable[bool]] $EwsEnabled,
        [AllowNull()] [AllowEmptyString()] [string] $EwsAllowedAppIDs,
        [ValidateSet('EnforceAllowList', 'EnforceBlockList')] [string] $EwsApplicationAccessPolicy,
        $EwsAllowList,
        $EwsBlockList,
        [System.Nullable[bool]] $EwsAllowEntourage,
        [System.Nullable[bool]] $EwsAllowMacOutlook,
        [System.Nullable[bool]] $EwsAllowOutlook,
        [string] $DomainController
    )
    Assert-FakeExchangeConnected 'Set-OrganizationConfig'
    Add-FakeExchangeCall 'Set-OrganizationConfig' $PSBoundParameters
    if (-not $PSCmdlet.ShouldProcess($script:Tenant.organization, 'Set-OrganizationConfig')) { return }
    if ($PSBoundParameters.ContainsKey('EwsAllowedAppIDs')) {
        if ([string]::IsNullOrEmpty($EwsAllowedAppIDs)) { $script:Tenant.allowedAppIds = $null }
        else {
            foreach ($id in $EwsAllowedAppIDs.Split(',')) {
                if ($id.Trim() -notmatch $script:GuidPattern) { throw "Cannot process argument 'EwsAllowedAppIDs': '$($id.Trim())' is not a valid application ID (GUID)." }
            }
            $script:Tenant.allowedAppIds = (@($EwsAllowedAppIDs.Split(',') | ForEach-Object { $_.Trim() }) -join ',')
        }
    }
    if ($PSBoundParameters.ContainsKey('EwsEnabled')) { $script:Tenant.ewsEnabled = $EwsEnabled }
    if ($PSBoundParameters.ContainsKey('EwsApplicationAccessPolicy')) { $script:Tenant.policy = $EwsApplicationAccessPolicy }
    if ($PSBoundParameters.ContainsKey('EwsAllowList')) { $script:Tenant.allowList = Update-FakeMultiValue $script:Tenant.allowList $EwsAllowList }
    if ($PSBoundParameters.ContainsKey('EwsBlockList')) { $script:Tenant.blockList = Update-FakeMultiValue $script:Tenant.blockList $EwsBlockList }
    Save-FakeExchange
}

# ---------------------------------------------------------------------------------------------------------------
# Mailboxes

function New-FakeCasMailbox {
    param($Entry)
    return [pscustomobject]@{
        Identity                   = ($Entry.primary -split '@')[0]
        PrimarySmtpAddress         = $Entry.primary
        EmailAddresses             = @($Entry.proxies)
        EwsEnabled                 = $Entry.ewsEnabled
        EwsApplicationAccessPolicy = $null
        EwsAllowList               = @()
        EwsBlockList               = @()
    }
}

# The OPATH filters the fake understands: "EwsEnabled -eq <0|1|$true|$false|$null>" (filterable per "Filterable
# properties for the Filter parameter"). Anything else is refused, so a test never passes on an ignored filter.
function Test-FakeCasFilter {
    param([string] $Filter, $Entry)
    if (-not $Filter) { return $true }
    if ($Filter -notmatch '^\s*EwsEnabled\s+-eq\s+(0|1|\$true|\$false|\$null)\s*$') { throw "The fake Exchange Online does not evaluate the filter '$Filter'." }
    $wanted = $Matches[1]
    $value = $Entry.ewsEnabled
    switch ($wanted) {
        '0' { return ($value -eq $false) }
        '$false' { return ($value -eq $false) }
        '1' { return ($value -eq $true) }
        '$true' { return ($value -eq $true) }
        default { return ($null -eq $value) }
    }
}

function Find-FakeMailbox {
    param([string] $Identity)
    $key = $Identity.ToLowerInvariant()
    foreach ($entry in @($script:Tenant.mailboxes)) {
        $names = @($entry.primary.ToLowerInvariant(), ($entry.primary -split '@')[0].ToLowerInvariant()) + @($entry.proxies | ForEach-Object { ($_ -replace '^smtp:', '').ToLowerInvariant() })
        if ($names -contains $key) { return $entry }
    }
    return $null
}

function Get-CASMailbox {
    [CmdletBinding(DefaultParameterSetName = 'Identity')]
    param(
        [Parameter(Position = 0, ParameterSetName = 'Identity')] [string] $Identity,
        [Parameter(ParameterSetName = 'AnrSet')] [string] $Anr,
        [switch] $ActiveSyncDebugLogging,
        [switch] $ActiveSyncSuppressReadReceipt,
        [pscredential] $Credential,
        [string] $DomainController,
        [string] $Filter,
        [switch] $IgnoreDefaultScope,
        [switch] $Monitoring,
        [string] $OrganizationalUnit,
        [switch] $ProtocolSettings,
        [switch] $ReadFromDomainController,
        [string] $ResultSize,
        [string] $SortBy,
        [switch] $ReadIsOptimizedForAccessibility,
        [switch] $RecalculateHasActiveSyncDevicePartnership,
        [string[]] $RecipientTypeDetails
    )
    Assert-FakeExchangeConnected 'Get-CASMailbox'
    Add-FakeExchangeCall 'Get-CASMailbox' $PSBoundParameters
    if ($Identity) {
        $entry = Find-FakeMailbox $Identity
        if (-not $entry) { throw "The operation couldn't be performed because object '$Identity' couldn't be found on '$($script:Tenant.organization)'." }
        return (New-FakeCasMailbox $entry)
    }
    $limit = 1000
    if ($ResultSize) {
        if ($ResultSize -eq 'Unlimited') { $limit = [int]::MaxValue } else { $limit = [int]$ResultSize }
    }
    $matched = @(@($script:Tenant.mailboxes) | Where-Object { Test-FakeCasFilter -Filter $Filter -Entry $_ })
    if ($matched.Count -gt $limit) {
        Write-Warning "By default, only the first $limit items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify '-ResultSize Unlimited'."
        $matched = $matched[0..($limit - 1)]
    }
    foreach ($entry in $matched) { New-FakeCasMailbox $entry }
}

function Set-CASMailbox {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true, Position = 0)] [string] $Identity,
        [System.Nullable[bool]] $EwsEnabled,
        [ValidateSet('EnforceAllowList', 'EnforceBlockList')] [string] $EwsApplicationAccessPolicy,
        $EwsAllowList,
        $EwsBlockList,
        [string] $DomainController
    )
    Assert-FakeExchangeConnected 'Set-CASMailbox'
    Add-FakeExchangeCall 'Set-CASMailbox' $PSBoundParameters
    $entry = Find-FakeMailbox $Identity
    if (-not $entry) { throw "The operation couldn't be performed because object '$Identity' couldn't be found on '$($script:Tenant.organization)'." }
    if (-not $PSCmdlet.ShouldProcess($Identity, 'Set-CASMailbox')) { return }
    if ($PSBoundParameters.ContainsKey('EwsEnabled')) { $entry.ewsEnabled = $EwsEnabled }
    Save-FakeExchange
}

Export-ModuleMember -Function @(
    'New-FakeExchangeState', 'Reset-FakeExchange', 'Get-FakeExchange', 'Get-FakeExchangeCall', 'Save-FakeExchange',
    'Connect-ExchangeOnline', 'Disconnect-ExchangeOnline', 'Get-OrganizationConfig', 'Set-OrganizationConfig',
    'Get-CASMailbox', 'Set-CASMailbox'
)
