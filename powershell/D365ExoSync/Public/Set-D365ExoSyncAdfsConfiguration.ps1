function Set-D365ExoSyncAdfsConfiguration {
    <#
    .SYNOPSIS
    Phase configure-adfs (the primary AD FS server): forms authentication, the App for Outlook OAuth client,
    the application permission (AD FS 2016+), optionally the AD FS SSL / service-communications certificate and a
    refresh of the CRM relying party trusts.

    .PARAMETER OrganizationUrl
    The organization's URL; the App for Outlook redirect URI is its scheme://host[:port] + /crmmailapp/code_auth.aspx
    (no organization path; the port only when it is not the scheme's default).

    .PARAMETER OrganizationId
    The CRM organization id: the App for Outlook client id.

    .PARAMETER ServerRoleIdentifier
    Identifier of the CRM IFD relying party for Grant-AdfsApplicationPermission (e.g. https://auth.contoso.com:444/,
    with the trailing slash). When not given it is looked up among the relying party trusts: the one identifier
    whose host starts with "auth." under the organization's domain.

    .PARAMETER FormsAuthentication
    @{ intranet = $true; extranet = $false }: the zones where FormsAuthentication must be a primary provider
    (the lists are read, merged and written back; nothing is removed).

    .PARAMETER Certificate
    Optional @{ thumbprint = '...'; ssl = $true; serviceCommunications = $true }: the certificate must already be in
    LocalMachine\My of this server (install-certificate); service communications needs KeySpec 1.

    .PARAMETER RelyingPartyTrusts
    Names of the CRM relying party trusts to refresh from their federation metadata (Update-AdfsRelyingPartyTrust).

    .PARAMETER ExpectedEncryptionThumbprint
    When given, a trust is refreshed only while its encryption certificate differs from it, and must show it after.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true)] [ValidatePattern('^https://')] [string] $OrganizationUrl,
        [string] $OrganizationId,
        [bool] $OutlookApp = $true,
        [string] $OutlookClientName = 'Dynamics 365 App for Outlook',
        [bool] $GrantApplicationPermission = $true,
        [string] $ServerRoleIdentifier,
        [hashtable] $FormsAuthentication = @{ intranet = $true; extranet = $false },
        [hashtable] $Certificate,
        [string[]] $RelyingPartyTrusts = @(),
        [string] $ExpectedEncryptionThumbprint,
        [ValidateSet('when-changed', 'always', 'never')] [string] $Restart = 'when-changed'
    )
    $ErrorActionPreference = 'Stop'
    $plan = [bool]$WhatIfPreference
    $state = New-D365PhaseState -Phase 'configure-adfs' -Plan $plan
    $OrganizationUrl = $OrganizationUrl.TrimEnd('/')
    $stepId = 'adfs-module'
    try {
        if (-not (Test-D365Command -Name 'Get-AdfsClient' -Module 'ADFS')) { Stop-D365Step 'the ADFS PowerShell module is not available: configure-adfs must run on the primary AD FS server' }
        [void](Add-D365Step -State $state -Id 'adfs-module' -Title 'ADFS module' -Status 'unchanged')

        # 1. Forms authentication (the provider lists are replaced by the cmdlet: read, merge, write).
        $stepId = 'forms-authentication'
        $policy = Get-AdfsGlobalAuthenticationPolicy
        $zones = [ordered]@{ intranet = 'PrimaryIntranetAuthenticationProvider'; extranet = 'PrimaryExtranetAuthenticationProvider' }
        $formsBefore = [ordered]@{}
        $formsAfter = [ordered]@{}
        $update = @{}
        foreach ($zone in $zones.Keys) {
            $property = $zones[$zone]
            $current = [string[]]@($policy.$property)
            $formsBefore[$zone] = $current
            $formsAfter[$zone] = $current
            if ([bool](Get-D365Option $FormsAuthentication $zone $false) -and -not ($current -contains 'FormsAuthentication')) {
                $merged = Merge-D365List -Current $current -Wanted @('FormsAuthentication')
                $update[$property] = $merged
                $formsAfter[$zone] = $merged
            }
        }
        if ($update.Count -gt 0 -and -not $plan -and $PSCmdlet.ShouldProcess('AD FS global authentication policy', 'add FormsAuthentication')) {
            Set-AdfsGlobalAuthenticationPolicy @update
            $check = Get-AdfsGlobalAuthenticationPolicy
            foreach ($property in $update.Keys) {
                if (-not (@($check.$property) -contains 'FormsAuthentication')) { Stop-D365Step "$property does not list FormsAuthentication after the update" }
            }
        }
        [void](Set-D365StepOutcome -State $state -Id 'forms-authentication' -Title 'forms authentication' -Differs ($update.Count -gt 0) -Plan $plan -Before $formsBefore -After $formsAfter)

        # 2. The App for Outlook OAuth client (client id = organization id).
        $stepId = 'outlook-client'
        $redirect = Get-D365OutlookRedirectUri -OrganizationUrl $OrganizationUrl
        if (-not $OutlookApp) {
            [void](Add-D365Step -State $state -Id 'outlook-client' -Title 'App for Outlook client' -Status 'skipped' -Message 'disabled (outlookApp: false)')
        } else {
            if ($OrganizationId -notmatch '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$') { Stop-D365Step 'organizationId (the CRM organization id, a GUID) is required for the App for Outlook client' }
            $client = Get-D365AdfsClient -ClientId $OrganizationId
            $clientBefore = $null
            $clientAfter = [ordered]@{ clientId = $OrganizationId; name = $OutlookClientName; redirectUri = @($redirect); enabled = $true }
            $differs = $true
            if ($null -ne $client) {
                $uris = [string[]]@($client.RedirectUri)
                $clientBefore = [ordered]@{ clientId = [string]$client.ClientId; name = [string]$client.Name; redirectUri = $uris; enabled = [bool]$client.Enabled }
                $mergedUris = Merge-D365List -Current $uris -Wanted @($redirect) -CaseSensitive
                $clientAfter.redirectUri = $mergedUris
                $differs = ([string]$client.Name -ne $OutlookClientName) -or ($mergedUris.Count -ne $uris.Count) -or -not [bool]$client.Enabled
            }
            if ($differs -and -not $plan -and $PSCmdlet.ShouldProcess("AD FS client $OrganizationId", 'register the App for Outlook client')) {
                if ($null -eq $client) {
                    Add-AdfsClient -ClientId $OrganizationId -Name $OutlookClientName -RedirectUri @($redirect) -Description 'Dynamics 365 App for Outlook (d365-exo-sync)'
                } else {
                    if (([string]$client.Name -ne $OutlookClientName) -or ($clientAfter.redirectUri.Count -ne @($client.RedirectUri).Count)) {
                        Set-AdfsClient -TargetClientId $OrganizationId -Name $OutlookClientName -RedirectUri $clientAfter.redirectUri -Force -Confirm:$false
                    }
                    if (-not [bool]$client.Enabled) { Enable-AdfsClient -TargetClientId $OrganizationId -Confirm:$false }
                }
                $check = Get-D365AdfsClient -ClientId $OrganizationId
                if ($null -eq $check -or -not (@($check.RedirectUri) -ccontains $redirect) -or -not [bool]$check.Enabled) { Stop-D365Step "the AD FS client $OrganizationId does not show the redirect URI $redirect (enabled) after the update" }
            }
            [void](Set-D365StepOutcome -State $state -Id 'outlook-client' -Title 'App for Outlook client' -Differs $differs -Plan $plan -Before $clientBefore -After $clientAfter)
        }

        # 3. Application permission (AD FS 2016 and later).
        $stepId = 'application-permission'
        if (-not $OutlookApp -or -not $GrantApplicationPermission) {
            [void](Add-D365Step -State $state -Id 'application-permission' -Title 'application permission' -Status 'skipped' -Message 'disabled')
        } elseif (-not (Get-Command -Name 'Grant-AdfsApplicationPermission' -ErrorAction SilentlyContinue)) {
            [void](Add-D365Step -State $state -Id 'application-permission' -Title 'application permission' -Status 'skipped' -Message 'AD FS before 2016 (no Grant-AdfsApplicationPermission): not needed')
        } else {
            $resource = Resolve-D365ServerRoleIdentifier -ServerRoleIdentifier $ServerRoleIdentifier -OrganizationUrl $OrganizationUrl
            $permissions = @(Get-AdfsApplicationPermission -ClientRoleIdentifiers @($OrganizationId) -ErrorAction SilentlyContinue)
            $servers = @($permissions | ForEach-Object { [string]$_.ServerRoleIdentifier })
            $differs = -not ($servers -contains $resource)
            if ($differs -and -not $plan -and $PSCmdlet.ShouldProcess("AD FS application permission $OrganizationId", "grant on $resource")) {
                Grant-AdfsApplicationPermission -ClientRoleIdentifier $OrganizationId -ServerRoleIdentifier $resource -Confirm:$false
                $check = @(Get-AdfsApplicationPermission -ClientRoleIdentifiers @($OrganizationId) | ForEach-Object { [string]$_.ServerRoleIdentifier })
                if (-not ($check -contains $resource)) { Stop-D365Step "no application permission for $OrganizationId on $resource after the grant" }
            }
            [void](Set-D365StepOutcome -State $state -Id 'application-permission' -Title 'application permission' -Differs $differs -Plan $plan -Before $servers -After (Merge-D365List -Current $servers -Wanted @($resource)))
        }

        # 4. Optional AD FS certificates.
        $stepId = 'adfs-certificate'
        $certificateThumbprint = $null
        if ($null -ne $Certificate) { $certificateThumbprint = [string](Get-D365Option $Certificate 'thumbprint' '') }
        if (-not $certificateThumbprint) {
            [void](Add-D365Step -State $state -Id 'adfs-certificate' -Title 'AD FS certificates' -Status 'skipped' -Message 'not configured')
        } else {
            $certificateThumbprint = ($certificateThumbprint -replace '[:\s]', '').ToUpperInvariant()
            Invoke-D365AdfsCertificateStep -State $state -Thumbprint $certificateThumbprint -Ssl ([bool](Get-D365Option $Certificate 'ssl' $true)) -ServiceCommunications ([bool](Get-D365Option $Certificate 'serviceCommunications' $true)) -Plan $plan -Cmdlet $PSCmdlet
        }

        # 5. CRM relying party trusts.
        $stepId = 'relying-party-trusts'
        if ($RelyingPartyTrusts.Count -eq 0) {
            [void](Add-D365Step -State $state -Id 'relying-party-trusts' -Title 'refresh CRM relying party trusts' -Status 'skipped' -Message 'none configured')
        } else {
            $pending = @($state.steps | Where-Object { $_.status -eq 'changed' -or $_.status -eq 'would-change' }).Count -gt 0
            $trustBefore = [ordered]@{}
            $trustAfter = [ordered]@{}
            $refresh = New-Object System.Collections.ArrayList
            foreach ($name in $RelyingPartyTrusts) {
                $trust = Get-AdfsRelyingPartyTrust -Name $name
                if ($null -eq $trust) { Stop-D365Step "relying party trust '$name' was not found" }
                $thumb = $null
                if ($trust.EncryptionCertificate) { $thumb = [string]$trust.EncryptionCertificate.Thumbprint }
                $trustBefore[$name] = $thumb
                $trustAfter[$name] = $thumb
                if ($ExpectedEncryptionThumbprint) {
                    if ($thumb -ne $ExpectedEncryptionThumbprint.ToUpperInvariant()) { [void]$refresh.Add($name); $trustAfter[$name] = $ExpectedEncryptionThumbprint.ToUpperInvariant() }
                } elseif ($pending) {
                    [void]$refresh.Add($name)
                }
            }
            if ($refresh.Count -gt 0 -and -not $plan -and $PSCmdlet.ShouldProcess('relying party trusts', 'update from federation metadata: ' + ($refresh -join ', '))) {
                foreach ($name in $refresh) {
                    Update-AdfsRelyingPartyTrust -TargetName $name -Confirm:$false
                    $trust = Get-AdfsRelyingPartyTrust -Name $name
                    $thumb = $null
                    if ($trust.EncryptionCertificate) { $thumb = [string]$trust.EncryptionCertificate.Thumbprint }
                    $trustAfter[$name] = $thumb
                    if ($ExpectedEncryptionThumbprint -and $thumb -ne $ExpectedEncryptionThumbprint.ToUpperInvariant()) {
                        Stop-D365Step ("relying party trust '{0}' still shows encryption certificate {1} after the refresh, expected {2}: has the CRM claims encryption certificate been changed (Set-CrmSetting ClaimsSettings)?" -f $name, $thumb, $ExpectedEncryptionThumbprint)
                    }
                }
            }
            [void](Set-D365StepOutcome -State $state -Id 'relying-party-trusts' -Title 'refresh CRM relying party trusts' -Differs ($refresh.Count -gt 0) -Plan $plan -Before $trustBefore -After $trustAfter -Evidence ([ordered]@{ refreshed = $refresh.ToArray() }))
        }

        # 6. The AD FS service (Microsoft's procedure restarts it after the application permission).
        $stepId = 'restart-services'
        [void](Restart-D365ServicesStep -State $state -Restart $Restart -Services @('adfssrv'))
    } catch {
        Stop-D365Phase -State $state -Step $stepId -ErrorRecord $_
    }
    return $state
}

# The App for Outlook redirect URI. AD FS compares it exactly, and the mail app builds it from the server's
# scheme://host[:port] and /crmmailapp/code_auth.aspx: no organization path, no default port.
function Get-D365OutlookRedirectUri {
    param([Parameter(Mandatory = $true)] [string] $OrganizationUrl)
    $uri = [System.Uri]$OrganizationUrl
    $authority = $uri.Scheme + '://' + $uri.Host
    if (-not $uri.IsDefaultPort) { $authority = $authority + ':' + $uri.Port }
    return $authority + '/crmmailapp/code_auth.aspx'
}

# The AD FS client with this id, or null. Get-AdfsClient -ClientId for an unknown id is not documented (it may
# throw): all clients are listed and filtered.
function Get-D365AdfsClient {
    param([Parameter(Mandatory = $true)] [string] $ClientId)
    return @(Get-AdfsClient | Where-Object { [string]$_.ClientId -eq $ClientId }) | Select-Object -First 1
}

# The IFD relying party identifier the App for Outlook client needs permission on: given, or the single trust
# identifier https://auth.<organization's domain>[:port]/ found among the relying party trusts.
function Resolve-D365ServerRoleIdentifier {
    param([string] $ServerRoleIdentifier, [string] $OrganizationUrl)
    if ($ServerRoleIdentifier) {
        if (-not $ServerRoleIdentifier.EndsWith('/')) { Stop-D365Step "serverRoleIdentifier '$ServerRoleIdentifier' must end with a slash (Microsoft: you must include the trailing forward slash)" }
        return $ServerRoleIdentifier
    }
    $hostName = ([System.Uri]$OrganizationUrl).Host
    $labels = $hostName.Split('.')
    $candidates = New-Object System.Collections.ArrayList
    foreach ($trust in @(Get-AdfsRelyingPartyTrust)) {
        foreach ($identifier in @($trust.Identifier)) {
            $uri = $null
            if (-not [System.Uri]::TryCreate([string]$identifier, [System.UriKind]::Absolute, [ref]$uri)) { continue }
            if (-not $uri.Host.StartsWith('auth.', [System.StringComparison]::OrdinalIgnoreCase)) { continue }
            $domain = $uri.Host.Substring(5)
            for ($i = 0; $i -lt $labels.Count - 1; $i++) {
                if (($labels[$i..($labels.Count - 1)] -join '.') -eq $domain) {
                    if (-not ($candidates -contains [string]$identifier)) { [void]$candidates.Add([string]$identifier) }
                    break
                }
            }
        }
    }
    if ($candidates.Count -ne 1) {
        Stop-D365Step ("serverRoleIdentifier is not set and {0} relying party identifiers look like the CRM IFD auth endpoint ({1}); set serverRoleIdentifier (e.g. https://auth.contoso.com:444/)" -f $candidates.Count, ($candidates -join ', '))
    }
    $found = [string]$candidates[0]
    if (-not $found.EndsWith('/')) { $found = $found + '/' }
    return $found
}

function Invoke-D365AdfsCertificateStep {
    param($State, [string] $Thumbprint, [bool] $Ssl, [bool] $ServiceCommunications, [bool] $Plan, $Cmdlet)
    if (-not (Test-D365Elevated)) { Stop-D365Step ("this process runs as {0} without administrator rights: reading the key permissions of the AD FS certificate needs them. Run the runner or agent service as a member of the local Administrators group." -f (Get-D365CurrentIdentityName)) }
    $stored = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)
    if ($stored.Count -eq 0) { Stop-D365Step "certificate $Thumbprint is not in LocalMachine\My on this AD FS server: install it first (install-certificate)" }
    $keyInfo = Get-D365PrivateKeyInfo -Certificate $stored[0]
    if ($ServiceCommunications) {
        $problem = Get-D365KeyProblem -KeyInfo $keyInfo -Thumbprint $Thumbprint
        if ($problem) { Stop-D365Step ('service communications certificate: ' + $problem) }
    } elseif (-not $keyInfo.hasPrivateKey) {
        Stop-D365Step "certificate $Thumbprint has no private key on this AD FS server"
    }
    $before = [ordered]@{}
    $after = [ordered]@{}
    $changes = New-Object System.Collections.ArrayList
    if ($ServiceCommunications) {
        $current = @(Get-AdfsCertificate -CertificateType 'Service-Communications' | ForEach-Object { [string]$_.Thumbprint })
        $before['serviceCommunications'] = $current
        $after['serviceCommunications'] = @($Thumbprint)
        if (-not ($current.Count -eq 1 -and $current[0] -eq $Thumbprint)) { [void]$changes.Add('serviceCommunications') }
    }
    if ($Ssl) {
        $current = @(Get-AdfsSslCertificate | ForEach-Object { [string]$_.CertificateHash })
        $before['ssl'] = $current
        $after['ssl'] = @($current | ForEach-Object { $Thumbprint })
        if ($current.Count -eq 0 -or @($current | Where-Object { $_ -ne $Thumbprint }).Count -gt 0) { [void]$changes.Add('ssl'); if ($current.Count -eq 0) { $after['ssl'] = @($Thumbprint) } }
    }
    # The AD FS service reads the key as NT SERVICE\adfssrv (Microsoft: grant the adfssrv principal read on the key).
    $adfsSid = Resolve-D365AccountSid -Account 'NT SERVICE\adfssrv'
    $access = Get-D365KeyReadAccess -KeyInfo $keyInfo -Sid $adfsSid
    $before['adfssrvKeyRead'] = $access
    $after['adfssrvKeyRead'] = 'allowed'
    if ($access -eq 'denied') { Stop-D365Step "the private key of certificate $Thumbprint has a Deny rule for NT SERVICE\adfssrv" }
    if ($access -ne 'allowed') { [void]$changes.Add('adfssrvKeyRead') }
    if ($changes.Count -gt 0 -and -not $Plan -and $Cmdlet.ShouldProcess('AD FS certificates', 'use ' + $Thumbprint + ' for ' + ($changes -join ', '))) {
        if ($changes -contains 'adfssrvKeyRead') { Grant-D365PrivateKeyRead -Certificate $stored[0] -Sid $adfsSid }
        if ($changes -contains 'serviceCommunications') { Set-AdfsCertificate -CertificateType 'Service-Communications' -Thumbprint $Thumbprint -Confirm:$false }
        if ($changes -contains 'ssl') { Set-AdfsSslCertificate -Thumbprint $Thumbprint -Confirm:$false }
        if ($ServiceCommunications -and @(Get-AdfsCertificate -CertificateType 'Service-Communications' | Where-Object { [string]$_.Thumbprint -eq $Thumbprint }).Count -eq 0) { Stop-D365Step "AD FS does not show $Thumbprint as service communications certificate after the update" }
        if ($Ssl -and @(Get-AdfsSslCertificate | Where-Object { [string]$_.CertificateHash -ne $Thumbprint }).Count -gt 0) { Stop-D365Step "AD FS SSL bindings do not all show $Thumbprint after the update" }
        if ((Get-D365KeyReadAccess -KeyInfo (Get-D365PrivateKeyInfo -Certificate $stored[0]) -Sid $adfsSid) -ne 'allowed') { Stop-D365Step 'Read on the private key for NT SERVICE\adfssrv is still missing after the grant' }
    }
    [void](Set-D365StepOutcome -State $State -Id 'adfs-certificate' -Title "AD FS certificates ($Thumbprint)" -Differs ($changes.Count -gt 0) -Plan $Plan -Before $before -After $after -Evidence ([ordered]@{ key = (ConvertTo-D365KeyEvidence $keyInfo); changes = $changes.ToArray() }))
}
