# Service logon names as Windows reports them (Win32_Service.StartName, keyReaders) -> SIDs.
# Some of them the security subsystem cannot look up by name: Microsoft's "NetworkService Account" page says
# NT AUTHORITY\NetworkService "is not recognized by the security subsystem, so you cannot specify its name in a call
# to LookupAccountName" (the same for LocalService, "LocalService Account"), and LocalSystem is a name only the
# service control manager knows ("LocalSystem Account"). Those map to their well-known SIDs; '.\user' names a local
# account of this computer. gMSA names (DOMAIN\name$) and UPNs are looked up as they are.

$script:D365WellKnownAccounts = @{
    'localsystem'                 = 'S-1-5-18'
    'system'                      = 'S-1-5-18'
    'nt authority\system'         = 'S-1-5-18'
    'nt authority\localsystem'    = 'S-1-5-18'
    '.\localsystem'               = 'S-1-5-18'
    'localservice'                = 'S-1-5-19'
    'nt authority\localservice'   = 'S-1-5-19'
    'nt authority\local service'  = 'S-1-5-19'
    'networkservice'              = 'S-1-5-20'
    'nt authority\networkservice' = 'S-1-5-20'
    'nt authority\network service' = 'S-1-5-20'
}

# The name that is looked up for an account ('.\user' -> 'COMPUTER\user'), or the well-known SID.
function Resolve-D365AccountName {
    param([Parameter(Mandatory = $true)] [string] $Account)
    $name = $Account.Trim()
    if ($name -match '^S-1-[0-9-]+$') { return $name }
    $key = $name.ToLowerInvariant()
    if ($script:D365WellKnownAccounts.ContainsKey($key)) { return $script:D365WellKnownAccounts[$key] }
    if ($name.StartsWith('.\')) { return (Get-D365ServerName) + $name.Substring(1) }
    return $name
}

function Resolve-D365AccountSid {
    param([Parameter(Mandatory = $true)] [string] $Account)
    return ConvertTo-D365Sid -Account (Resolve-D365AccountName -Account $Account)
}
