# Exchange Online helpers of configure-exchange: finding the ExchangeOnlineManagement module, and reading the EWS
# settings the way the cmdlets return them.

# Oldest module with Connect-ExchangeOnline -AccessToken ("This parameter is available in module version
# 3.1.0-Preview1 or later": Connect-ExchangeOnline help).
$script:D365ExchangeMinimumVersion = '3.1.0'
$script:D365ExchangeInstallHint = 'install it on this runner as an administrator: Install-Module -Name ExchangeOnlineManagement -MinimumVersion 3.1.0 -Scope AllUsers (PowerShell Gallery), then run the phase again'

# The module that provides Connect-ExchangeOnline (imported from the installed ones when needed): name and version,
# or $null when none is installed.
function Get-D365ExchangeModule {
    $command = Get-Command -Name 'Connect-ExchangeOnline' -ErrorAction SilentlyContinue
    if (-not $command) {
        $installed = @(Get-Module -ListAvailable -Name 'ExchangeOnlineManagement' | Sort-Object -Property Version -Descending)
        if ($installed.Count -eq 0) { return $null }
        Import-Module -Name $installed[0].Path -ErrorAction Stop -WarningAction SilentlyContinue | Out-Null
        $command = Get-Command -Name 'Connect-ExchangeOnline' -ErrorAction SilentlyContinue
        if (-not $command) { return $null }
    }
    $version = '0.0'
    if ($command.Module -and $command.Module.Version) { $version = [string]$command.Module.Version }
    $name = 'ExchangeOnlineManagement'
    if ($command.Module) { $name = [string]$command.Module.Name }
    return [pscustomobject]@{ name = $name; version = $version }
}

# EwsAllowedAppIDs is a String of comma-separated GUIDs (Set-OrganizationConfig help); a list is accepted too.
function ConvertTo-D365AppIdList {
    param($Value)
    $ids = New-Object System.Collections.ArrayList
    foreach ($item in @($Value)) {
        if ($null -eq $item) { continue }
        foreach ($part in ([string]$item).Split(',')) {
            $id = $part.Trim()
            if ($id) { [void]$ids.Add($id) }
        }
    }
    return , ([string[]]$ids.ToArray())
}

# A MultiValuedProperty (EwsAllowList, EwsBlockList) as a string array.
function ConvertTo-D365StringList {
    param($Value)
    $list = New-Object System.Collections.ArrayList
    foreach ($item in @($Value)) { if ($null -ne $item -and [string]$item) { [void]$list.Add([string]$item) } }
    return , ([string[]]$list.ToArray())
}

# EwsEnabled as the cmdlets return it: $true, $false, or $null (not configured).
function ConvertTo-D365EwsSwitch {
    param($Value)
    if ($null -eq $Value -or [string]$Value -eq '') { return $null }
    return [bool]::Parse([string]$Value)
}

# Whether a user agent matches an entry of EwsAllowList / EwsBlockList (wildcards * are supported there).
function Test-D365UserAgentMatch {
    param([string[]] $Entries, [string] $UserAgent)
    foreach ($entry in @($Entries)) { if ($entry -and ($UserAgent -like $entry)) { return $true } }
    return $false
}

# The addresses of a CASMailbox object: primary SMTP address and every smtp: proxy address, lower case.
function Get-D365MailboxAddresses {
    param($Mailbox)
    $addresses = New-Object System.Collections.ArrayList
    if ($Mailbox.PrimarySmtpAddress) { [void]$addresses.Add(([string]$Mailbox.PrimarySmtpAddress).ToLowerInvariant()) }
    foreach ($proxy in @($Mailbox.EmailAddresses)) {
        $text = [string]$proxy
        if ($text -match '^smtp:(.+)$') { [void]$addresses.Add($Matches[1].ToLowerInvariant()) }
    }
    return , ([string[]]$addresses.ToArray())
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
