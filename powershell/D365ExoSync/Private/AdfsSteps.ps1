# configure-adfs's steps, one advanced function each (Set-D365ExoSyncAdfsConfiguration calls them in order): read the
# state, decide with AdfsChanges.ps1, change only the difference when ShouldProcess agrees (-WhatIf prints its
# "What if:" line instead; a declined -Confirm changes nothing and is not recorded as changed), read it back, and
# return the step object. A failure ends the step with an ErrorRecord (error id and category).

function Test-D365AdfsModuleStep {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State)
    if (-not (Test-D365Command -Name 'Get-AdfsClient' -Module 'ADFS')) {
        $PSCmdlet.ThrowTerminatingError((New-D365StepError -Message 'the ADFS PowerShell module is not available: configure-adfs must run on the primary AD FS server' -ErrorId 'AdfsModuleUnavailable' -Category ObjectNotFound))
    }
    return Add-D365Step -State $State -Id 'adfs-module' -Status 'unchanged'
}

function Set-D365FormsAuthenticationStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] [hashtable] $Zones)
    try {
        $change = Get-D365FormsAuthenticationChange -Policy (Get-AdfsGlobalAuthenticationPolicy) -Zones $Zones
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'AD FS global authentication policy' -Action 'add FormsAuthentication' }
        if ($decision -eq 'change') {
            $update = $change.update
            Set-AdfsGlobalAuthenticationPolicy @update
            $check = Get-AdfsGlobalAuthenticationPolicy
            foreach ($property in $update.Keys) {
                if (-not (@($check.$property) -contains 'FormsAuthentication')) { Stop-D365Step "$property does not list FormsAuthentication after the update" -ErrorId 'AdfsFormsAuthenticationReadBack' }
            }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'AdfsFormsAuthenticationFailed'))
    }
    return Add-D365StepDecision -State $State -Id 'forms-authentication' -Decision $decision -Before $change.before -After $change.after
}

function Set-D365OutlookClientStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] $State,
        [bool] $Enabled = $true,
        [string] $OrganizationId,
        [Parameter(Mandatory = $true)] [string] $Name,
        [Parameter(Mandatory = $true)] [string] $RedirectUri
    )
    if (-not $Enabled) {
        return Add-D365Step -State $State -Id 'outlook-client' -Status 'skipped' -Message 'disabled (outlookApp: false)'
    }
    try {
        if ($OrganizationId -notmatch '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$') { Stop-D365Step 'organizationId (the CRM organization id, a GUID) is required for the App for Outlook client' -ErrorId 'AdfsOrganizationIdMissing' -Category InvalidArgument }
        $change = Get-D365OutlookClientChange -Client (Get-D365AdfsClient -ClientId $OrganizationId) -ClientId $OrganizationId -Name $Name -RedirectUri $RedirectUri
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target "AD FS client $OrganizationId" -Action 'register the App for Outlook client' }
        if ($decision -eq 'change') {
            if ($change.add) {
                Add-AdfsClient -ClientId $OrganizationId -Name $Name -RedirectUri @($RedirectUri) -Description 'Dynamics 365 App for Outlook (d365-exo-sync)'
            } else {
                if ($change.update) { Set-AdfsClient -TargetClientId $OrganizationId -Name $Name -RedirectUri $change.after.redirectUri -Force -Confirm:$false }
                if ($change.enable) { Enable-AdfsClient -TargetClientId $OrganizationId -Confirm:$false }
            }
            $check = Get-D365AdfsClient -ClientId $OrganizationId
            if ($null -eq $check -or -not (@($check.RedirectUri) -ccontains $RedirectUri) -or -not [bool]$check.Enabled) { Stop-D365Step "the AD FS client $OrganizationId does not show the redirect URI $RedirectUri (enabled) after the update" -ErrorId 'AdfsOutlookClientReadBack' }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'AdfsOutlookClientFailed' -TargetObject $OrganizationId))
    }
    return Add-D365StepDecision -State $State -Id 'outlook-client' -Decision $decision -Before $change.before -After $change.after
}

function Grant-D365ApplicationPermissionStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [bool] $Enabled = $true, [string] $OrganizationId, [string] $ServerRoleIdentifier, [Parameter(Mandatory = $true)] [string] $OrganizationUrl)
    if (-not $Enabled) {
        return Add-D365Step -State $State -Id 'application-permission' -Status 'skipped' -Message 'disabled'
    }
    if (-not (Get-Command -Name 'Grant-AdfsApplicationPermission' -ErrorAction SilentlyContinue)) {
        return Add-D365Step -State $State -Id 'application-permission' -Status 'skipped' -Message 'AD FS before 2016 (no Grant-AdfsApplicationPermission): not needed'
    }
    try {
        $resource = Resolve-D365ServerRoleIdentifier -ServerRoleIdentifier $ServerRoleIdentifier -OrganizationUrl $OrganizationUrl
        $current = @(Get-AdfsApplicationPermission -ClientRoleIdentifiers @($OrganizationId) -ErrorAction SilentlyContinue | ForEach-Object { [string]$_.ServerRoleIdentifier })
        $change = Get-D365ApplicationPermissionChange -Current $current -Resource $resource
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target "AD FS application permission $OrganizationId" -Action "grant on $resource" }
        if ($decision -eq 'change') {
            Grant-AdfsApplicationPermission -ClientRoleIdentifier $OrganizationId -ServerRoleIdentifier $resource -Confirm:$false
            $check = @(Get-AdfsApplicationPermission -ClientRoleIdentifiers @($OrganizationId) | ForEach-Object { [string]$_.ServerRoleIdentifier })
            if (-not ($check -contains $resource)) { Stop-D365Step "no application permission for $OrganizationId on $resource after the grant" -ErrorId 'AdfsApplicationPermissionReadBack' }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'AdfsApplicationPermissionFailed' -TargetObject $OrganizationId))
    }
    return Add-D365StepDecision -State $State -Id 'application-permission' -Decision $decision -Before $change.before -After $change.after
}

function Set-D365AdfsCertificateStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [hashtable] $Certificate)
    $Thumbprint = $null
    if ($null -ne $Certificate) { $Thumbprint = [string](Get-D365Option $Certificate 'thumbprint' '') }
    if (-not $Thumbprint) {
        return Add-D365Step -State $State -Id 'adfs-certificate' -Status 'skipped' -Message 'not configured'
    }
    $Thumbprint = ($Thumbprint -replace '[:\s]', '').ToUpperInvariant()
    $Ssl = [bool](Get-D365Option $Certificate 'ssl' $true)
    $ServiceCommunications = [bool](Get-D365Option $Certificate 'serviceCommunications' $true)
    try {
        if (-not (Test-D365Elevated)) { Stop-D365Step ("this process runs as {0} without administrator rights: reading the key permissions of the AD FS certificate needs them. Run the runner or agent service as a member of the local Administrators group." -f (Get-D365CurrentIdentityName)) -ErrorId 'AdfsNotElevated' -Category PermissionDenied }
        $stored = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)
        if ($stored.Count -eq 0) { Stop-D365Step "certificate $Thumbprint is not in LocalMachine\My on this AD FS server: install it first (install-certificate)" -ErrorId 'AdfsCertificateNotInStore' -Category ObjectNotFound }
        $keyInfo = Get-D365PrivateKeyInfo -Certificate $stored[0]
        if ($ServiceCommunications) {
            $problem = Get-D365KeyProblem -KeyInfo $keyInfo -Thumbprint $Thumbprint
            if ($problem) { Stop-D365Step ('service communications certificate: ' + $problem) -ErrorId 'AdfsCertificateKeyProblem' -Category InvalidData }
        } elseif (-not $keyInfo.hasPrivateKey) {
            Stop-D365Step "certificate $Thumbprint has no private key on this AD FS server" -ErrorId 'AdfsCertificateKeyProblem' -Category InvalidData
        }
        $serviceCommunicationsNow = $null
        if ($ServiceCommunications) { $serviceCommunicationsNow = @(Get-AdfsCertificate -CertificateType 'Service-Communications' | ForEach-Object { [string]$_.Thumbprint }) }
        $sslNow = $null
        if ($Ssl) { $sslNow = @(Get-AdfsSslCertificate | ForEach-Object { [string]$_.CertificateHash }) }
        # The AD FS service reads the key as NT SERVICE\adfssrv (Microsoft: grant the adfssrv principal read on the key).
        $adfsSid = Resolve-D365AccountSid -Account 'NT SERVICE\adfssrv'
        $access = Get-D365KeyReadAccess -KeyInfo $keyInfo -Sid $adfsSid
        if ($access -eq 'denied') { Stop-D365Step "the private key of certificate $Thumbprint has a Deny rule for NT SERVICE\adfssrv" -ErrorId 'AdfsKeyAccessDenied' -Category PermissionDenied }
        $change = Get-D365AdfsCertificateChange -Thumbprint $Thumbprint -ServiceCommunications $serviceCommunicationsNow -Ssl $sslNow -KeyAccess $access
        $changes = $change.changes
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'AD FS certificates' -Action ('use ' + $Thumbprint + ' for ' + ($changes -join ', ')) }
        if ($decision -eq 'change') {
            if ($changes -contains 'adfssrvKeyRead') { Grant-D365PrivateKeyRead -Certificate $stored[0] -Sid $adfsSid }
            if ($changes -contains 'serviceCommunications') { Set-AdfsCertificate -CertificateType 'Service-Communications' -Thumbprint $Thumbprint -Confirm:$false }
            if ($changes -contains 'ssl') { Set-AdfsSslCertificate -Thumbprint $Thumbprint -Confirm:$false }
            if ($ServiceCommunications -and @(Get-AdfsCertificate -CertificateType 'Service-Communications' | Where-Object { [string]$_.Thumbprint -eq $Thumbprint }).Count -eq 0) { Stop-D365Step "AD FS does not show $Thumbprint as service communications certificate after the update" -ErrorId 'AdfsCertificateReadBack' }
            if ($Ssl -and @(Get-AdfsSslCertificate | Where-Object { [string]$_.CertificateHash -ne $Thumbprint }).Count -gt 0) { Stop-D365Step "AD FS SSL bindings do not all show $Thumbprint after the update" -ErrorId 'AdfsCertificateReadBack' }
            if ((Get-D365KeyReadAccess -KeyInfo (Get-D365PrivateKeyInfo -Certificate $stored[0]) -Sid $adfsSid) -ne 'allowed') { Stop-D365Step 'Read on the private key for NT SERVICE\adfssrv is still missing after the grant' -ErrorId 'AdfsCertificateReadBack' }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'AdfsCertificateFailed' -TargetObject $Thumbprint))
    }
    return Add-D365StepDecision -State $State -Id 'adfs-certificate' -Decision $decision -Before $change.before -After $change.after -Evidence ([ordered]@{ key = (ConvertTo-D365KeyEvidence $keyInfo); changes = $changes })
}

function Update-D365RelyingPartyTrustStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [AllowEmptyCollection()] [string[]] $Names = @(), [string] $ExpectedEncryptionThumbprint)
    if (@($Names).Count -eq 0) {
        return Add-D365Step -State $State -Id 'relying-party-trusts' -Status 'skipped' -Message 'none configured'
    }
    try {
        $pending = @($State.steps | Where-Object { $_.status -eq 'changed' -or $_.status -eq 'would-change' }).Count -gt 0
        $current = [ordered]@{}
        foreach ($name in $Names) {
            $trust = Get-AdfsRelyingPartyTrust -Name $name
            if ($null -eq $trust) { Stop-D365Step "relying party trust '$name' was not found" -ErrorId 'AdfsRelyingPartyTrustNotFound' -Category ObjectNotFound }
            $current[$name] = Get-D365TrustEncryptionThumbprint -Trust $trust
        }
        $change = Get-D365RelyingPartyTrustChange -Current $current -ExpectedEncryptionThumbprint $ExpectedEncryptionThumbprint -Pending $pending
        $after = $change.after
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'relying party trusts' -Action ('update from federation metadata: ' + ($change.refresh -join ', ')) }
        if ($decision -eq 'change') {
            foreach ($name in $change.refresh) {
                Update-AdfsRelyingPartyTrust -TargetName $name -Confirm:$false
                $thumb = Get-D365TrustEncryptionThumbprint -Trust (Get-AdfsRelyingPartyTrust -Name $name)
                $after[$name] = $thumb
                if ($ExpectedEncryptionThumbprint -and $thumb -ne $ExpectedEncryptionThumbprint.ToUpperInvariant()) {
                    Stop-D365Step ("relying party trust '{0}' still shows encryption certificate {1} after the refresh, expected {2}: has the CRM claims encryption certificate been changed (Set-CrmSetting ClaimsSettings)?" -f $name, $thumb, $ExpectedEncryptionThumbprint) -ErrorId 'AdfsRelyingPartyTrustReadBack'
                }
            }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'AdfsRelyingPartyTrustFailed'))
    }
    return Add-D365StepDecision -State $State -Id 'relying-party-trusts' -Decision $decision -Before $change.before -After $after -Evidence ([ordered]@{ refreshed = $change.refresh })
}

# The thumbprint of a relying party trust's encryption certificate, or $null.
function Get-D365TrustEncryptionThumbprint {
    param($Trust)
    if ($Trust.EncryptionCertificate) { return [string]$Trust.EncryptionCertificate.Thumbprint }
    return $null
}
