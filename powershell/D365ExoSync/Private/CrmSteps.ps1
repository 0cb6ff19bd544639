# configure-crm's steps, one advanced function each (Set-D365ExoSyncCrmConfiguration calls them in order): read the
# state, decide with CrmChanges.ps1, change only the difference when ShouldProcess agrees (-WhatIf prints its
# "What if:" line instead; a declined -Confirm changes nothing and is not recorded as changed), read it back, and
# return the step object. A failure ends the step with an ErrorRecord (error id and category).

function Test-D365CrmSnapinStep {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State)
    try {
        $snapin = Import-D365CrmSnapin
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CrmSnapinUnavailable'))
    }
    return Add-D365Step -State $State -Id 'snap-in' -Status 'unchanged' -Evidence $snapin
}

function Test-D365DeploymentAdministratorStep {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State)
    try {
        $identity = Assert-D365DeploymentAdministrator
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CrmNotDeploymentAdministrator'))
    }
    return Add-D365Step -State $State -Id 'deployment-administrator' -Status 'unchanged' -Evidence $identity
}

function Set-D365CrmS2SCertificateStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Thumbprint,
        [Parameter(Mandatory = $true)] [string] $AsyncServiceAccount,
        [string] $ToolsPath,
        [string] $PfxPath,
        [System.Security.SecureString] $PfxPassword
    )
    try {
        $change = Get-D365S2SCertificateChange -Current @(Get-D365CrmS2SCertificates | ForEach-Object { $_.thumbprint }) -Wanted $Thumbprint
        $evidence = [ordered]@{}
        $decision = 'unchanged'
        if ($change.differs) {
            $tools = Resolve-D365ToolsPath -ToolsPath $ToolsPath
            $scriptPath = Join-Path -Path $tools -ChildPath 'CertificateReconfiguration.ps1'
            if (-not (Test-Path -LiteralPath $scriptPath)) { Stop-D365Step "CertificateReconfiguration.ps1 was not found in '$tools' (toolsPath)" -ErrorId 'CrmCertificateScriptNotFound' -Category ObjectNotFound }
            $evidence['script'] = $scriptPath
            $evidence['passwordUse'] = @(Get-D365ScriptSecretUse -Path $scriptPath -ParameterName 'password')
            foreach ($use in $evidence['passwordUse']) {
                if ($use.native) { Add-D365Warning -State $State -Message ("CertificateReconfiguration.ps1 line {0} passes the PFX password to the native program '{1}': it is on that program's command line while it runs on this server" -f $use.line, $use.command) }
            }
            $stored = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)
            if ($stored.Count -gt 0) {
                $twins = @(Get-D365MachineCertificate -Subject $stored[0].Subject | Where-Object { $_.Thumbprint -ne $Thumbprint })
                if ($twins.Count -gt 0) {
                    Stop-D365Step ("LocalMachine\My holds other certificates with the subject '{0}' ({1}); CertificateReconfiguration.ps1 finds the certificate by subject and fails with ""Private key not found"": run install-certificate (removeSameSubject) first" -f $stored[0].Subject, (@($twins | ForEach-Object { $_.Thumbprint }) -join ', ')) -ErrorId 'CrmCertificateSubjectNotUnique' -Category ResourceExists
                }
            }
            $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'CRM configuration database' -Action "S2STokenIssuer certificate $Thumbprint (CertificateReconfiguration.ps1 -updateCrm)"
        }
        if ($decision -eq 'change') {
            if (-not $PfxPath -or -not (Test-Path -LiteralPath $PfxPath)) { Stop-D365Step 'the S2S certificate must change but no PFX file was given (pfx)' -ErrorId 'CrmPfxMissing' -Category InvalidArgument }
            if ($null -eq $PfxPassword) { Stop-D365Step 'the S2S certificate must change but the PFX password was not passed in the environment' -ErrorId 'CrmPfxPasswordMissing' -Category InvalidArgument }
            $failures = Invoke-D365CertificateReconfiguration -Path $scriptPath -PfxPath $PfxPath -PfxPassword $PfxPassword -ServiceAccount $AsyncServiceAccount
            $readBack = @(Get-D365CrmS2SCertificates | ForEach-Object { $_.thumbprint })
            if ((Get-D365S2SCertificateChange -Current $readBack -Wanted $Thumbprint).differs) {
                $detail = ''
                if ($failures.Count -gt 0) { $detail = ' Errors written by the script: ' + ($failures -join ' | ') }
                Stop-D365Step ("after CertificateReconfiguration.ps1 the S2STokenIssuer certificate(s) are [{0}], expected exactly {1}.{2}" -f ($readBack -join ', '), $Thumbprint, $detail) -ErrorId 'CrmS2SCertificateReadBack'
            }
            $installed = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)
            if ($installed.Count -eq 0) { Stop-D365Step "certificate $Thumbprint is not in LocalMachine\My after CertificateReconfiguration.ps1" -ErrorId 'CrmS2SCertificateNotInStore' -Category ObjectNotFound }
            $problem = Get-D365KeyProblem -KeyInfo (Get-D365PrivateKeyInfo -Certificate $installed[0]) -Thumbprint $Thumbprint
            if ($problem) { Stop-D365Step ('after CertificateReconfiguration.ps1 ' + $problem) -ErrorId 'CrmS2SCertificateKeyProblem' }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CrmS2SCertificateFailed' -TargetObject $Thumbprint))
    }
    return Add-D365StepDecision -State $State -Id 's2s-certificate' -Decision $decision -Before $change.before -After $change.after -Evidence $evidence
}

function Set-D365CrmServerSettingsStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] [System.Collections.IDictionary] $Wanted)
    try {
        $current = [ordered]@{}
        foreach ($name in $Wanted.Keys) { $current[$name] = Get-D365CrmAdvancedValue -EntityName 'ServerSettings' -Setting $name }
        $change = Get-D365SettingsChange -Current $current -Wanted $Wanted
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'ServerSettings' -Action ('set ' + (($change.changes.Keys | Sort-Object) -join ', ')) }
        if ($decision -eq 'change') {
            Set-D365CrmServerSettings -Values $change.changes
            foreach ($name in $Wanted.Keys) {
                $value = Get-D365CrmAdvancedValue -EntityName 'ServerSettings' -Setting $name
                if ([string]$value -ne $Wanted[$name]) { Stop-D365Step ("ServerSettings {0} reads back '{1}', expected '{2}'" -f $name, $value, $Wanted[$name]) -ErrorId 'CrmServerSettingsReadBack' }
            }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CrmServerSettingsFailed' -TargetObject 'ServerSettings'))
    }
    return Add-D365StepDecision -State $State -Id 'server-settings' -Decision $decision -Before $change.before -After $change.after
}

function Set-D365CrmOrganizationTenantStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] [string] $Organization, [Parameter(Mandatory = $true)] [string] $TenantId)
    try {
        $org = Get-CrmOrganization -Name $Organization
        if ($null -eq $org) { Stop-D365Step "organization '$Organization' was not found (Get-CrmOrganization)" -ErrorId 'CrmOrganizationNotFound' -Category ObjectNotFound }
        $State.evidence['organizationId'] = [string]$org.Id
        $change = Get-D365ValueChange -Current (Get-D365CrmAdvancedValue -EntityName 'Organization' -Setting 'S2STenantId' -Id $org.Id) -Wanted $TenantId
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target "organization $Organization" -Action "S2STenantId = $TenantId" }
        if ($decision -eq 'change') {
            Set-CrmAdvancedSetting -ID $org.Id -configurationEntityName 'Organization' -setting 'S2STenantId' -value $TenantId
            $tenantAfter = Get-D365CrmAdvancedValue -EntityName 'Organization' -Setting 'S2STenantId' -Id $org.Id
            if ([string]$tenantAfter -ne $TenantId) { Stop-D365Step ("S2STenantId of '{0}' reads back '{1}', expected '{2}'" -f $Organization, $tenantAfter, $TenantId) -ErrorId 'CrmTenantReadBack' }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CrmOrganizationTenantFailed' -TargetObject $Organization))
    }
    return Add-D365StepDecision -State $State -Id 'organization-tenant' -Decision $decision -Before $change.before -After $change.after
}

function Set-D365CrmOAuthClaimsStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [bool] $Enable = $true)
    if (-not $Enable) {
        return Add-D365Step -State $State -Id 'oauth-claims' -Status 'skipped' -Message 'disabled (enableOAuthClaims: false)'
    }
    try {
        $claims = Get-CrmSetting -SettingType 'OAuthClaimsSettings'
        $change = Get-D365ValueChange -Current ([bool]$claims.Enabled) -Wanted $true
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'OAuthClaimsSettings' -Action 'Enabled = true' }
        if ($decision -eq 'change') {
            $claims.Enabled = $true
            Set-CrmSetting -Setting $claims
            $check = Get-CrmSetting -SettingType 'OAuthClaimsSettings'
            if (-not [bool]$check.Enabled) { Stop-D365Step 'OAuthClaimsSettings.Enabled reads back false after Set-CrmSetting' -ErrorId 'CrmOAuthClaimsReadBack' }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CrmOAuthClaimsFailed' -TargetObject 'OAuthClaimsSettings'))
    }
    return Add-D365StepDecision -State $State -Id 'oauth-claims' -Decision $decision -Before $change.before -After $change.after
}

# Everything read back once more, as the run record's evidence; in apply, a value that is not as asked fails the step.
function Test-D365CrmReadBackStep {
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Thumbprint,
        [Parameter(Mandatory = $true)] [System.Collections.IDictionary] $ServerSettings,
        [Parameter(Mandatory = $true)] [string] $TenantId,
        [bool] $EnableOAuthClaims = $true
    )
    try {
        $organizationId = $State.evidence['organizationId']
        $State.evidence['s2sCertificates'] = @(Get-D365CrmS2SCertificates | ForEach-Object { $_.thumbprint })
        $settings = [ordered]@{}
        foreach ($name in $ServerSettings.Keys) { $settings[$name] = Get-D365CrmAdvancedValue -EntityName 'ServerSettings' -Setting $name }
        $State.evidence['serverSettings'] = $settings
        $State.evidence['s2sTenantId'] = Get-D365CrmAdvancedValue -EntityName 'Organization' -Setting 'S2STenantId' -Id $organizationId
        $State.evidence['oauthClaimsEnabled'] = [bool](Get-CrmSetting -SettingType 'OAuthClaimsSettings').Enabled
        $message = $null
        if (-not $WhatIfPreference) {
            $mismatch = @(Get-D365CrmReadBackMismatch -ReadBack $State.evidence -Thumbprint $Thumbprint -ServerSettings $ServerSettings -TenantId $TenantId -EnableOAuthClaims $EnableOAuthClaims)
            # A value not as wanted is excused only when the change of its own step was declined, never by another one.
            $declined = @(Get-D365DeclinedStep -State $State)
            $unexcused = @($mismatch | Where-Object { $declined -notcontains (Get-D365CrmReadBackStep -Name $_) })
            if ($unexcused.Count -gt 0) { Stop-D365Step ('read back differs from the wanted values: ' + ($unexcused -join ', ')) -ErrorId 'CrmReadBackMismatch' }
            if ($mismatch.Count -gt 0) { $message = ('not as wanted, as the changes of {0} were declined: {1}' -f ($declined -join ', '), ($mismatch -join ', ')) }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CrmReadBackFailed'))
    }
    return Add-D365Step -State $State -Id 'read-back' -Status 'unchanged' -Evidence $State.evidence -Message $message
}
