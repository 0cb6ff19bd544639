# configure-exchange's decisions, without I/O: from the organization's EWS settings and the mailboxes read to what
# must change. The step functions (ExchangeSteps.ps1) read, call these, and change only the difference.

# EwsEnabled of the organization must read True ($null is unset, which Exchange Online treats as blocked).
function Get-D365EwsEnabledChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param($Current)
    $shown = 'unset'
    if ($null -ne $Current) { $shown = [string]$Current }
    return [pscustomobject][ordered]@{ differs = ($Current -ne $true); shown = $shown; before = $Current; after = $true }
}

# EwsAllowedAppIDs: the app ids added, every other entry kept. An empty list restricts nothing and stays empty.
function Get-D365AllowedAppIdsChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([AllowEmptyCollection()] [string[]] $Current = @(), [Parameter(Mandatory = $true)] [string[]] $AppIds)
    $list = @($Current)
    if ($list.Count -eq 0) {
        return [pscustomobject][ordered]@{ differs = $false; unrestricted = $true; missing = @(); before = @(); after = @() }
    }
    $wanted = Merge-D365List -Current $list -Wanted $AppIds
    $missing = @($wanted | Where-Object { $list -notcontains $_ })
    return [pscustomobject][ordered]@{ differs = ($missing.Count -gt 0); unrestricted = $false; missing = $missing; before = $list; after = $wanted }
}

# The user-agent policy: 'none' (no policy: nothing blocked), 'unjudged' (a policy, but no user agents configured to
# judge it with), 'allow' (EnforceAllowList: the agents missing from it to add), 'block' (EnforceBlockList: the
# entries that block an agent to remove), or 'unknown' (a policy this module does not know).
function Get-D365UserAgentPolicyChange {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $Organization, [AllowEmptyCollection()] [string[]] $UserAgents = @())
    $policy = $Organization.ewsApplicationAccessPolicy
    $before = [ordered]@{ policy = $policy; allowList = $Organization.ewsAllowList; blockList = $Organization.ewsBlockList }
    $result = [pscustomobject][ordered]@{ kind = 'none'; differs = $false; add = @(); remove = @(); before = $before; after = $before }
    $agents = @($UserAgents | Where-Object { $_ })
    if (-not $policy) { return $result }
    if ($agents.Count -eq 0) { $result.kind = 'unjudged'; $result.after = $null; return $result }
    if ($policy -eq 'EnforceAllowList') {
        $add = @($agents | Where-Object { -not (Test-D365UserAgentMatch -Entries $Organization.ewsAllowList -UserAgent $_) -and ($Organization.ewsAllowList -notcontains $_) })
        $result.kind = 'allow'
        $result.add = $add
        $result.differs = ($add.Count -gt 0)
        $result.after = [ordered]@{ policy = $policy; allowList = (Merge-D365List -Current $Organization.ewsAllowList -Wanted $add); blockList = $Organization.ewsBlockList }
        return $result
    }
    if ($policy -eq 'EnforceBlockList') {
        $remove = @($Organization.ewsBlockList | Where-Object { $entry = $_; @($agents | Where-Object { ($_ -like $entry) -or ($entry -like $_) }).Count -gt 0 })
        $result.kind = 'block'
        $result.remove = $remove
        $result.differs = ($remove.Count -gt 0)
        $result.after = [ordered]@{ policy = $policy; allowList = $Organization.ewsAllowList; blockList = @($Organization.ewsBlockList | Where-Object { $remove -notcontains $_ }) }
        return $result
    }
    $result.kind = 'unknown'
    $result.after = $null
    return $result
}
