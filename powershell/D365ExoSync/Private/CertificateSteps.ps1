# install-certificate's steps, one advanced function each (Install-D365ExoSyncCertificate calls them in order): read
# the state, decide with CertificateChanges.ps1, change only the difference when ShouldProcess agrees (-WhatIf prints
# its "What if:" line instead; a declined -Confirm changes nothing and is not recorded as changed), read it back, and
# return the step object. A failure ends the step with an ErrorRecord (error id and category). What the certificate
# step finds (the installed copy, its key) goes to the later steps in the -Found table the phase function holds.

# Reading and changing LocalMachine key files needs an elevated process: checked before anything else.
function Assert-D365ElevatedProcess {
    [CmdletBinding()]
    [OutputType([void])]
    param([Parameter(Mandatory = $true)] [string] $Purpose)
    if (-not (Test-D365Elevated)) {
        $PSCmdlet.ThrowTerminatingError((New-D365StepError -Message ("this process runs as {0} without administrator rights: {1}. Run the runner or agent service as a member of the local Administrators group (services run elevated), or start PowerShell with Run as administrator." -f (Get-D365CurrentIdentityName), $Purpose) -ErrorId 'NotElevated' -Category PermissionDenied))
    }
}

# Every account that gets Read on the key (and the accounts the D365 services run as), resolved to a SID before
# anything changes: account -> SID, in order.
function Resolve-D365KeyReaders {
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([AllowEmptyCollection()] [string[]] $KeyReaders = @(), [bool] $IncludeServiceAccounts, [AllowEmptyCollection()] [string[]] $Services = @())
    $accounts = New-Object System.Collections.ArrayList
    foreach ($account in $KeyReaders) { if ($account -and -not ($accounts -contains $account)) { [void]$accounts.Add($account) } }
    if ($IncludeServiceAccounts) {
        foreach ($name in $Services) {
            $service = Get-CimInstance -ClassName Win32_Service -Filter ("Name='{0}'" -f $name) -ErrorAction SilentlyContinue
            if ($null -eq $service -or -not $service.StartName) { continue }
            if (-not ($accounts -contains $service.StartName)) { [void]$accounts.Add([string]$service.StartName) }
        }
    }
    $sids = [ordered]@{}
    foreach ($account in $accounts) {
        try {
            $sids[$account] = Resolve-D365AccountSid -Account $account
        } catch {
            $PSCmdlet.ThrowTerminatingError((New-D365StepError -Message ("account '{0}' cannot be resolved to a SID on this server: {1} Nothing was changed. Fix keyReaders (DOMAIN\user, DOMAIN\gmsa$, user@domain, .\localuser or a SID)." -f $account, $_.Exception.Message) -ErrorId 'KeyReaderNotResolvable' -Category ObjectNotFound -TargetObject $account))
        }
    }
    return $sids
}

# The certificate and its key. A re-import goes over the installed copy (X509Store.Add replaces the certificate with
# the same thumbprint in place), so the server always has one; a bad new import puts the previous copy back.
function Install-D365CertificateStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] $State,
        [Parameter(Mandatory = $true)] [string] $Thumbprint,
        [byte[]] $PfxBytes,
        [System.Security.SecureString] $PfxPassword,
        [Parameter(Mandatory = $true)] [hashtable] $Found
    )
    try {
        $existing = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)
        $installed = $null
        $keyInfo = $null
        $problem = 'not installed'
        if ($existing.Count -gt 0) {
            $installed = $existing[0]
            $keyInfo = Get-D365PrivateKeyInfo -Certificate $installed
            $problem = Get-D365KeyProblem -KeyInfo $keyInfo -Thumbprint $Thumbprint
        }
        $change = Get-D365CertificateInstallChange -Present ($existing.Count -gt 0) -KeyEvidence (ConvertTo-D365KeyEvidence $keyInfo) -Problem $problem
        $after = $change.before
        $evidence = $null
        $message = $null
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'LocalMachine\My' -Action "import certificate $Thumbprint" }
        if ($decision -eq 'would-change') {
            $after = $change.after
            $message = 'import the PFX (machine key set, persisted, not exportable) and verify KeySpec 1'
            if ($change.replace) { $message = $message + '; the installed copy is replaced in place and its key file deleted, or put back if the new key is bad too' }
        }
        if ($decision -eq 'change') {
            if ($null -eq $PfxBytes) { Stop-D365Step 'the certificate must be imported but no PFX file was given (pfx)' -ErrorId 'CertificatePfxMissing' -Category InvalidArgument }
            if ($null -eq $PfxPassword) { Stop-D365Step 'the certificate must be imported but the PFX password was not passed in the environment' -ErrorId 'CertificatePfxPasswordMissing' -Category InvalidArgument }
            $probe = Read-D365PfxCertificate -Bytes $PfxBytes -Password $PfxPassword
            try {
                $pfxThumbprint = $probe.Thumbprint
                $pfxHasKey = $probe.HasPrivateKey
            } finally {
                Reset-D365Certificate $probe
            }
            if ($pfxThumbprint -ne $Thumbprint) { Stop-D365Step ("the PFX holds certificate {0}, not the expected {1}" -f $pfxThumbprint, $Thumbprint) -ErrorId 'CertificatePfxMismatch' -Category InvalidData }
            if (-not $pfxHasKey) { Stop-D365Step "the PFX holds no private key for certificate $Thumbprint" -ErrorId 'CertificatePfxWithoutKey' -Category InvalidData }
            $previous = $installed
            $previousKeyFile = $null
            if ($null -ne $keyInfo) { $previousKeyFile = $keyInfo.keyFile }
            $imported = Read-D365PfxCertificate -Bytes $PfxBytes -Password $PfxPassword -Persist
            Add-D365MachineCertificate -Certificate $imported
            $installed = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)[0]
            if ($null -eq $installed) { Stop-D365Step "certificate $Thumbprint is not in LocalMachine\My after the import" -ErrorId 'CertificateNotInStore' -Category ObjectNotFound }
            $keyInfo = Get-D365PrivateKeyInfo -Certificate $installed
            $problem = Get-D365KeyProblem -KeyInfo $keyInfo -Thumbprint $Thumbprint
            if ($problem -and $previousKeyFile -and $keyInfo.keyFile -eq $previousKeyFile) {
                # The store kept the previous copy's key link (Add over an existing certificate may inherit its
                # properties): replace it the plain way, remove then add; a failure below still puts the copy back.
                Remove-D365MachineCertificate -Thumbprint $Thumbprint
                Add-D365MachineCertificate -Certificate $imported
                $installed = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)[0]
                if ($null -eq $installed) {
                    Add-D365MachineCertificate -Certificate $previous
                    Stop-D365Step "certificate $Thumbprint is not in LocalMachine\My after the import; the previous copy was put back" -ErrorId 'CertificateNotInStore' -Category ObjectNotFound
                }
                $keyInfo = Get-D365PrivateKeyInfo -Certificate $installed
                $problem = Get-D365KeyProblem -KeyInfo $keyInfo -Thumbprint $Thumbprint
            }
            if ($problem) {
                $badKeyFile = $keyInfo.keyFile
                if ($null -ne $previous) {
                    Add-D365MachineCertificate -Certificate $previous
                    $restored = 'The previous copy was put back.'
                } else {
                    Remove-D365MachineCertificate -Thumbprint $Thumbprint
                    $restored = 'The certificate was removed from LocalMachine\My again (it was not there before).'
                }
                if ($badKeyFile -and $badKeyFile -ne $previousKeyFile) { Remove-D365KeyFile -Path $badKeyFile }
                Stop-D365Step ("imported, but {0} {1}" -f $problem, $restored) -ErrorId 'CertificateKeyProblem' -Category InvalidData
            }
            if ($previousKeyFile -and $previousKeyFile -ne $keyInfo.keyFile) { Remove-D365KeyFile -Path $previousKeyFile }
            $after = [ordered]@{ present = $true; key = (ConvertTo-D365KeyEvidence $keyInfo); problem = $null }
            $evidence = [ordered]@{ replacedKeyFile = $previousKeyFile }
        }
        $Found['installed'] = $installed
        $Found['keyInfo'] = $keyInfo
        $Found['problem'] = $problem
        if ($installed) { $State.evidence['certificate'] = ConvertTo-D365CertificateEvidence $installed }
        $State.evidence['key'] = ConvertTo-D365KeyEvidence $keyInfo
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CertificateImportFailed' -TargetObject $Thumbprint))
    }
    return Add-D365StepDecision -State $State -Id 'certificate' -Decision $decision -Before $change.before -After $after -Evidence $evidence -Message $message
}

# The PFX's intermediate certificates into LocalMachine\CA, so IIS and AD FS present the full chain (never its root).
function Add-D365ChainStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] [string] $Thumbprint, [byte[]] $PfxBytes, [System.Security.SecureString] $PfxPassword)
    if ($null -eq $PfxBytes -or $null -eq $PfxPassword) {
        return Add-D365Step -State $State -Id 'chain' -Status 'skipped' -Message 'no PFX and password given (a run without an import due needs none)'
    }
    try {
        $chain = @(Add-D365PfxIntermediateCertificates -Bytes $PfxBytes -Password $PfxPassword -LeafThumbprint $Thumbprint -Plan $true)
        $missing = @($chain | Where-Object { $_.added } | ForEach-Object { $_.thumbprint })
        $decision = 'unchanged'
        if ($missing.Count -gt 0) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'LocalMachine\CA' -Action ('add ' + ($missing -join ', ')) }
        if ($decision -eq 'change') { $chain = @(Add-D365PfxIntermediateCertificates -Bytes $PfxBytes -Password $PfxPassword -LeafThumbprint $Thumbprint -Plan $false) }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'CertificateChainFailed' -TargetObject $Thumbprint))
    }
    return Add-D365StepDecision -State $State -Id 'chain' -Decision $decision -Before ([ordered]@{ missing = $missing }) -After ([ordered]@{ missing = @() }) -Evidence $chain
}

# Read on the private key for the service accounts (repairs an ACL lost by a renewal).
function Grant-D365KeyAccessStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] [string] $Thumbprint, [Parameter(Mandatory = $true)] [System.Collections.IDictionary] $Sids, [Parameter(Mandatory = $true)] [hashtable] $Found)
    if ($Sids.Count -eq 0) {
        return Add-D365Step -State $State -Id 'key-access' -Status 'skipped' -Message 'no service accounts given (keyReaders) or found on this server'
    }
    try {
        $access = [ordered]@{}
        foreach ($account in $Sids.Keys) {
            $access[$account] = 'missing'
            if ($Found['keyInfo'] -and -not $Found['problem']) { $access[$account] = Get-D365KeyReadAccess -KeyInfo $Found['keyInfo'] -Sid $Sids[$account] }
        }
        $change = Get-D365KeyAccessChange -Access $access
        if ($change.denied) { Stop-D365Step ("the private key of certificate {0} has a Deny rule for '{1}': remove it (certlm.msc, Manage Private Keys) and run again" -f $Thumbprint, $change.denied) -ErrorId 'KeyAccessDenied' -Category PermissionDenied }
        $after = $change.after
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target "private key of $Thumbprint" -Action ('grant Read to ' + ($change.missing -join ', ')) }
        if ($decision -eq 'change') {
            foreach ($account in $change.missing) { Grant-D365PrivateKeyRead -Certificate $Found['installed'] -Sid $Sids[$account] }
            $keyInfo = Get-D365PrivateKeyInfo -Certificate $Found['installed']
            $Found['keyInfo'] = $keyInfo
            foreach ($account in $Sids.Keys) {
                $after[$account] = Get-D365KeyReadAccess -KeyInfo $keyInfo -Sid $Sids[$account]
                if ($after[$account] -ne 'allowed') { Stop-D365Step ("Read on the private key for '{0}' is still missing after the grant" -f $account) -ErrorId 'KeyAccessReadBack' }
            }
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'KeyAccessFailed' -TargetObject $Thumbprint))
    }
    return Add-D365StepDecision -State $State -Id 'key-access' -Decision $decision -Before $change.before -After $after
}

# The HTTPS binding of the D365 web site, rebound to the certificate. The bindings it covers go to -Found (rebound),
# for the remove-older step.
function Set-D365IisBindingStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param([Parameter(Mandatory = $true)] $State, [Parameter(Mandatory = $true)] [string] $Thumbprint, [hashtable] $IisBinding, [Parameter(Mandatory = $true)] [hashtable] $Found)
    if ($null -eq $IisBinding -or $IisBinding.Count -eq 0) {
        return Add-D365Step -State $State -Id 'iis-binding' -Status 'skipped' -Message 'not configured'
    }
    try {
        $site = Get-D365Option $IisBinding 'site' $null
        if (-not $site) { Stop-D365Step 'iisBinding.site is required (the D365 web site, e.g. "Microsoft Dynamics CRM")' -ErrorId 'IisBindingSiteMissing' -Category InvalidArgument }
        $port = [int](Get-D365Option $IisBinding 'port' 443)
        $hostHeader = [string](Get-D365Option $IisBinding 'hostHeader' '')
        if (-not (Test-D365Command -Name 'Get-WebBinding' -Module 'WebAdministration')) { Stop-D365Step 'the IIS WebAdministration module is not available on this server' -ErrorId 'IisModuleUnavailable' -Category NotInstalled }
        $query = @{ Name = $site; Protocol = 'https'; Port = $port }
        if ($hostHeader) { $query['HostHeader'] = $hostHeader }
        $bindings = @(Get-WebBinding @query)
        if ($bindings.Count -eq 0) {
            $forHost = ''
            if ($hostHeader) { $forHost = " for host $hostHeader" }
            Stop-D365Step ("site '{0}' has no https binding on port {1}{2}" -f $site, $port, $forHost) -ErrorId 'IisBindingNotFound' -Category ObjectNotFound
        }
        $change = Get-D365BindingChange -Current @($bindings | ForEach-Object { [string]$_.certificateHash }) -Thumbprint $Thumbprint
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target "IIS site $site" -Action "bind certificate $Thumbprint" }
        if ($decision -eq 'change') {
            foreach ($binding in $bindings) {
                if ([string]$binding.certificateHash -eq $Thumbprint) { continue }
                if ($binding.certificateHash) { $binding.RemoveSslCertificate() }
                $binding.AddSslCertificate($Thumbprint, 'My')
            }
            $check = @(Get-WebBinding @query | Where-Object { [string]$_.certificateHash -ne $Thumbprint })
            if ($check.Count -gt 0) { Stop-D365Step "the https binding of site '$site' does not show certificate $Thumbprint after the rebind" -ErrorId 'IisBindingReadBack' }
        }
        $Found['rebound'] = @($bindings | ForEach-Object { [string]$_.bindingInformation })
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'IisBindingFailed' -TargetObject $site))
    }
    return Add-D365StepDecision -State $State -Id 'iis-binding' -Decision $decision -Before $change.before -After $change.after
}

# Older certificates with the same subject (CRM finds its certificate by subject: two give "Private key not found"),
# with their key files (X509Store.Remove leaves them in MachineKeys) unless a certificate that stays uses one.
function Remove-D365OlderCertificatesStep {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory = $true)] $State,
        [bool] $Enabled = $true,
        [Parameter(Mandatory = $true)] [string] $Thumbprint,
        [string] $Subject,
        [Parameter(Mandatory = $true)] [hashtable] $Found
    )
    if (-not $Enabled) {
        return Add-D365Step -State $State -Id 'remove-older' -Status 'skipped' -Message 'disabled (removeSameSubject: false)'
    }
    if (-not $Subject) {
        return Add-D365Step -State $State -Id 'remove-older' -Status 'skipped' -Message 'subject not known before the import; run plan again after apply'
    }
    try {
        $sameSubject = @(Get-D365MachineCertificate -Subject $Subject)
        $candidates = @($sameSubject | Where-Object { $_.Thumbprint -ne $Thumbprint })
        $keyFiles = @($candidates | ForEach-Object { (Get-D365PrivateKeyInfo -Certificate $_).keyFile } | Where-Object { $_ })
        $kept = $null
        if ($null -ne $Found['keyInfo']) { $kept = $Found['keyInfo'].keyFile }
        $change = Get-D365OlderCertificatesChange -SameSubject $sameSubject -Thumbprint $Thumbprint -KeyFiles $keyFiles -KeptKeyFile $kept
        if ($change.differs -and (Test-D365Command -Name 'Get-WebBinding' -Module 'WebAdministration')) {
            $blocking = Get-D365BlockingBinding -Bindings @(Get-WebBinding -Protocol 'https') -Removed $change.thumbprints -Rebound @($Found['rebound']) -Plan ([bool]$WhatIfPreference)
            if ($null -ne $blocking) {
                Stop-D365Step ("older certificate {0} (same subject) is still bound to the https binding '{1}'; rebind it (iisBinding) or remove it by hand" -f $blocking.certificateHash, $blocking.bindingInformation) -ErrorId 'OlderCertificateStillBound' -Category ResourceBusy
            }
        }
        $decision = 'unchanged'
        if ($change.differs) { $decision = Resolve-D365Change -Cmdlet $PSCmdlet -Target 'LocalMachine\My' -Action ('remove ' + ($change.thumbprints -join ', ')) }
        if ($decision -eq 'change') {
            foreach ($thumb in $change.thumbprints) { Remove-D365MachineCertificate -Thumbprint $thumb }
            foreach ($file in $change.keyFiles) { Remove-D365KeyFile -Path $file }
        }
        $State.evidence['removedThumbprints'] = $change.thumbprints
        $before = @($change.older | ForEach-Object { ConvertTo-D365CertificateEvidence $_ })
    } catch {
        $PSCmdlet.ThrowTerminatingError((ConvertTo-D365StepError -ErrorRecord $_ -ErrorId 'RemoveOlderFailed' -TargetObject $Subject))
    }
    return Add-D365StepDecision -State $State -Id 'remove-older' -Decision $decision -Before $before -After @() -Evidence ([ordered]@{ thumbprints = $change.thumbprints; keyFiles = $change.keyFiles })
}
