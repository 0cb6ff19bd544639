function Install-D365ExoSyncCertificate {
    <#
    .SYNOPSIS
    Phase install-certificate (every D365 server): the S2S certificate in LocalMachine\My with a legacy CSP key,
    KeySpec 1, not exportable; Read on the key for the service accounts; optional IIS HTTPS rebind; older
    certificates with the same subject removed; D365 services restarted when something changed.

    .PARAMETER Thumbprint
    SHA-1 thumbprint of the certificate in the PFX (the TypeScript side read it from the PFX). Decides "already there".

    .PARAMETER Subject
    Subject DN of that certificate; only used by -WhatIf to list the older certificates that would be removed
    before the new one is imported.

    .PARAMETER PfxPath
    The PFX file (a temporary file, readable by the runner account only). Needed only when an import is due.

    .PARAMETER PfxBytes
    The PFX already read into memory (the entry script reads the one-time PFX file and deletes it at once); used
    instead of -PfxPath.

    .PARAMETER PfxPassword
    Its password (from the process environment, never from a command line).

    .PARAMETER KeyReaders
    Accounts that get Read on the private key: the Asynchronous Processing Service account(s) and the CRM web
    application pool account ('DOMAIN\user', 'DOMAIN\gmsa$', 'user@domain', '.\localuser',
    'NT AUTHORITY\NetworkService', 'LocalSystem' or a SID). All are resolved to SIDs before anything changes.

    .PARAMETER IncludeServiceAccounts
    Also grant Read to the accounts the D365 services of -Services run as on this server (Win32_Service.StartName;
    NT AUTHORITY\NetworkService, LocalService and LocalSystem map to their well-known SIDs). Default on: a service account that differs from the configuration would otherwise fail
    with "Acquiring SIC token from ACS has failed".

    .PARAMETER RemoveSameSubject
    Remove older certificates with the same subject once the new one is in place (CRM looks the certificate up by
    subject DN; two with the same subject give "Private key not found"). Default on.

    .PARAMETER IisBinding
    Optional: @{ site = 'Microsoft Dynamics CRM'; port = 443; hostHeader = 'crm.contoso.com' } to rebind the HTTPS
    binding of the D365 web site to the new certificate.

    .PARAMETER Restart
    when-changed (default) | always | never: restart -Services and recycle -AppPool.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true)] [ValidatePattern('^[0-9A-Fa-f:\s]{40,59}$')] [string] $Thumbprint,
        [string] $Subject,
        [string] $PfxPath,
        [byte[]] $PfxBytes,
        [System.Security.SecureString] $PfxPassword,
        [string[]] $KeyReaders = @(),
        [bool] $IncludeServiceAccounts = $true,
        [bool] $RemoveSameSubject = $true,
        [hashtable] $IisBinding,
        [ValidateSet('when-changed', 'always', 'never')] [string] $Restart = 'when-changed',
        [string[]] $Services = $script:D365DefaultServices,
        [string] $AppPool = 'CRMAppPool'
    )
    $ErrorActionPreference = 'Stop'
    $plan = [bool]$WhatIfPreference
    $state = New-D365PhaseState -Phase 'install-certificate' -Plan $plan
    $Thumbprint = ($Thumbprint -replace '[:\s]', '').ToUpperInvariant()
    $stepId = 'elevation'
    try {
        # Reading and changing LocalMachine key files needs an elevated process.
        if (-not (Test-D365Elevated)) {
            Stop-D365Step ("this process runs as {0} without administrator rights: install-certificate reads and changes LocalMachine certificates and key permissions. Run the runner or agent service as a member of the local Administrators group (services run elevated), or start PowerShell with Run as administrator." -f (Get-D365CurrentIdentityName))
        }

        # 0. Every account that gets Read on the key, resolved to a SID before anything changes.
        $stepId = 'key-access'
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
            try { $sids[$account] = Resolve-D365AccountSid -Account $account } catch { Stop-D365Step ("account '{0}' cannot be resolved to a SID on this server: {1} Nothing was changed. Fix keyReaders (DOMAIN\user, DOMAIN\gmsa$, user@domain, .\localuser or a SID)." -f $account, $_.Exception.Message) }
        }
        $state.evidence['accounts'] = $sids

        # 1. The certificate and its key. A re-import goes over the installed copy (X509Store.Add replaces the
        # certificate with the same thumbprint in place), so the server always has one; a bad new import puts the
        # previous copy back.
        $stepId = 'certificate'
        $existing = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)
        $installed = $null
        $keyInfo = $null
        $problem = 'not installed'
        if ($existing.Count -gt 0) {
            $installed = $existing[0]
            $keyInfo = Get-D365PrivateKeyInfo -Certificate $installed
            $problem = Get-D365KeyProblem -KeyInfo $keyInfo -Thumbprint $Thumbprint
        }
        $before = [ordered]@{ present = ($existing.Count -gt 0); key = (ConvertTo-D365KeyEvidence $keyInfo); problem = $problem }
        $havePfx = ($null -ne $PfxBytes) -or ($PfxPath -and (Test-Path -LiteralPath $PfxPath))
        if ($null -eq $PfxBytes -and $havePfx) { $PfxBytes = [System.IO.File]::ReadAllBytes($PfxPath) }
        if (-not $problem) {
            [void](Add-D365Step -State $state -Id 'certificate' -Title "certificate $Thumbprint in LocalMachine\My" -Status 'unchanged' -Before $before -After $before)
        } elseif ($plan) {
            $after = [ordered]@{ present = $true; key = [ordered]@{ hasPrivateKey = $true; providerType = 'legacy CSP (non-zero)'; keySpec = 'Exchange' }; problem = $null }
            $what = 'import the PFX (machine key set, persisted, not exportable) and verify KeySpec 1'
            if ($existing.Count -gt 0) { $what = $what + '; the installed copy is replaced in place and its key file deleted, or put back if the new key is bad too' }
            [void](Add-D365Step -State $state -Id 'certificate' -Title "certificate $Thumbprint in LocalMachine\My" -Status 'would-change' -Before $before -After $after -Message $what)
        } elseif ($PSCmdlet.ShouldProcess("LocalMachine\My", "import certificate $Thumbprint")) {
            if (-not $havePfx) { Stop-D365Step 'the certificate must be imported but no PFX file was given (pfx)' }
            if ($null -eq $PfxPassword) { Stop-D365Step 'the certificate must be imported but the PFX password was not passed in the environment' }
            $probe = Read-D365PfxCertificate -Bytes $PfxBytes -Password $PfxPassword
            try {
                $pfxThumbprint = $probe.Thumbprint
                $pfxHasKey = $probe.HasPrivateKey
            } finally {
                Reset-D365Certificate $probe
            }
            if ($pfxThumbprint -ne $Thumbprint) { Stop-D365Step ("the PFX holds certificate {0}, not the expected {1}" -f $pfxThumbprint, $Thumbprint) }
            if (-not $pfxHasKey) { Stop-D365Step "the PFX holds no private key for certificate $Thumbprint" }
            $previous = $installed
            $previousKeyFile = $null
            if ($null -ne $keyInfo) { $previousKeyFile = $keyInfo.keyFile }
            $imported = Read-D365PfxCertificate -Bytes $PfxBytes -Password $PfxPassword -Persist
            Add-D365MachineCertificate -Certificate $imported
            $installed = @(Get-D365MachineCertificate -Thumbprint $Thumbprint)[0]
            if ($null -eq $installed) { Stop-D365Step "certificate $Thumbprint is not in LocalMachine\My after the import" }
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
                    Stop-D365Step "certificate $Thumbprint is not in LocalMachine\My after the import; the previous copy was put back"
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
                Stop-D365Step ("imported, but {0} {1}" -f $problem, $restored)
            }
            if ($previousKeyFile -and $previousKeyFile -ne $keyInfo.keyFile) { Remove-D365KeyFile -Path $previousKeyFile }
            $after = [ordered]@{ present = $true; key = (ConvertTo-D365KeyEvidence $keyInfo); problem = $null }
            [void](Add-D365Step -State $state -Id 'certificate' -Title "certificate $Thumbprint in LocalMachine\My" -Status 'changed' -Before $before -After $after -Evidence ([ordered]@{ replacedKeyFile = $previousKeyFile }))
        }
        if ($installed) {
            $state.evidence['certificate'] = ConvertTo-D365CertificateEvidence $installed
            if (-not $Subject) { $Subject = $installed.Subject }
        }
        $state.evidence['key'] = ConvertTo-D365KeyEvidence $keyInfo

        # 1b. The PFX's intermediate certificates into LocalMachine\CA, so IIS and AD FS present the full chain.
        $stepId = 'chain'
        if (-not $havePfx -or $null -eq $PfxPassword) {
            [void](Add-D365Step -State $state -Id 'chain' -Title 'intermediate certificates in LocalMachine\CA' -Status 'skipped' -Message 'no PFX and password given (a run without an import due needs none)')
        } else {
            $chain = @(Add-D365PfxIntermediateCertificates -Bytes $PfxBytes -Password $PfxPassword -LeafThumbprint $Thumbprint -Plan $plan)
            $missingCa = @($chain | Where-Object { $_.added } | ForEach-Object { $_.thumbprint })
            [void](Set-D365StepOutcome -State $state -Id 'chain' -Title 'intermediate certificates in LocalMachine\CA' -Differs ($missingCa.Count -gt 0) -Plan $plan -Before ([ordered]@{ missing = $missingCa }) -After ([ordered]@{ missing = @() }) -Evidence $chain)
        }

        # 2. Read on the private key for the service accounts (repairs an ACL lost by a renewal).
        $stepId = 'key-access'
        if ($accounts.Count -eq 0) {
            [void](Add-D365Step -State $state -Id 'key-access' -Title 'Read on the private key' -Status 'skipped' -Message 'no service accounts given (keyReaders) or found on this server')
        } else {
            $beforeAccess = [ordered]@{}
            $missing = New-Object System.Collections.ArrayList
            foreach ($account in $accounts) {
                $access = 'missing'
                if ($keyInfo -and -not $problem) { $access = Get-D365KeyReadAccess -KeyInfo $keyInfo -Sid $sids[$account] }
                if ($access -eq 'denied') { Stop-D365Step ("the private key of certificate {0} has a Deny rule for '{1}': remove it (certlm.msc, Manage Private Keys) and run again" -f $Thumbprint, $account) }
                $beforeAccess[$account] = $access
                if ($access -ne 'allowed') { [void]$missing.Add($account) }
            }
            $afterAccess = [ordered]@{}
            foreach ($account in $accounts) { $afterAccess[$account] = 'allowed' }
            if ($missing.Count -gt 0 -and -not $plan -and $PSCmdlet.ShouldProcess("private key of $Thumbprint", 'grant Read to ' + ($missing -join ', '))) {
                foreach ($account in $missing) { Grant-D365PrivateKeyRead -Certificate $installed -Sid $sids[$account] }
                $keyInfo = Get-D365PrivateKeyInfo -Certificate $installed
                foreach ($account in $accounts) {
                    $afterAccess[$account] = Get-D365KeyReadAccess -KeyInfo $keyInfo -Sid $sids[$account]
                    if ($afterAccess[$account] -ne 'allowed') { Stop-D365Step ("Read on the private key for '{0}' is still missing after the grant" -f $account) }
                }
            }
            [void](Set-D365StepOutcome -State $state -Id 'key-access' -Title 'Read on the private key' -Differs ($missing.Count -gt 0) -Plan $plan -Before $beforeAccess -After $afterAccess)
        }

        # 3. Optional IIS HTTPS binding.
        $stepId = 'iis-binding'
        $rebound = @()
        if ($null -eq $IisBinding -or $IisBinding.Count -eq 0) {
            [void](Add-D365Step -State $state -Id 'iis-binding' -Title 'IIS HTTPS binding' -Status 'skipped' -Message 'not configured')
        } else {
            $site = Get-D365Option $IisBinding 'site' $null
            if (-not $site) { Stop-D365Step 'iisBinding.site is required (the D365 web site, e.g. "Microsoft Dynamics CRM")' }
            $port = [int](Get-D365Option $IisBinding 'port' 443)
            $hostHeader = [string](Get-D365Option $IisBinding 'hostHeader' '')
            if (-not (Test-D365Command -Name 'Get-WebBinding' -Module 'WebAdministration')) { Stop-D365Step 'the IIS WebAdministration module is not available on this server' }
            $query = @{ Name = $site; Protocol = 'https'; Port = $port }
            if ($hostHeader) { $query['HostHeader'] = $hostHeader }
            $bindings = @(Get-WebBinding @query)
            if ($bindings.Count -eq 0) { Stop-D365Step ("site '{0}' has no https binding on port {1}{2}" -f $site, $port, $(if ($hostHeader) { " for host $hostHeader" } else { '' })) }
            $rebound = @($bindings | ForEach-Object { [string]$_.bindingInformation })
            $beforeHashes = @($bindings | ForEach-Object { [string]$_.certificateHash })
            $differs = @($beforeHashes | Where-Object { $_ -ne $Thumbprint }).Count -gt 0
            if ($differs -and -not $plan -and $PSCmdlet.ShouldProcess("IIS site $site", "bind certificate $Thumbprint")) {
                foreach ($binding in $bindings) {
                    if ([string]$binding.certificateHash -eq $Thumbprint) { continue }
                    if ($binding.certificateHash) { $binding.RemoveSslCertificate() }
                    $binding.AddSslCertificate($Thumbprint, 'My')
                }
                $check = @(Get-WebBinding @query | Where-Object { [string]$_.certificateHash -ne $Thumbprint })
                if ($check.Count -gt 0) { Stop-D365Step "the https binding of site '$site' does not show certificate $Thumbprint after the rebind" }
            }
            [void](Set-D365StepOutcome -State $state -Id 'iis-binding' -Title "IIS HTTPS binding of '$site' port $port" -Differs $differs -Plan $plan -Before $beforeHashes -After @($bindings | ForEach-Object { $Thumbprint }))
        }

        # 4. Older certificates with the same subject.
        $stepId = 'remove-older'
        if (-not $RemoveSameSubject) {
            [void](Add-D365Step -State $state -Id 'remove-older' -Title 'older certificates with the same subject' -Status 'skipped' -Message 'disabled (removeSameSubject: false)')
        } elseif (-not $Subject) {
            [void](Add-D365Step -State $state -Id 'remove-older' -Title 'older certificates with the same subject' -Status 'skipped' -Message 'subject not known before the import; run plan again after apply')
        } else {
            $older = @(Get-D365MachineCertificate -Subject $Subject | Where-Object { $_.Thumbprint -ne $Thumbprint })
            $olderEvidence = @($older | ForEach-Object { ConvertTo-D365CertificateEvidence $_ })
            $removed = @($older | ForEach-Object { $_.Thumbprint })
            if ($older.Count -gt 0 -and (Test-D365Command -Name 'Get-WebBinding' -Module 'WebAdministration')) {
                foreach ($binding in @(Get-WebBinding -Protocol 'https')) {
                    # A binding this run rebinds (step iis-binding) does not count: in a plan it still shows the old one.
                    if ($plan -and ($rebound -contains [string]$binding.bindingInformation)) { continue }
                    if ($removed -contains [string]$binding.certificateHash) {
                        Stop-D365Step ("older certificate {0} (same subject) is still bound to the https binding '{1}'; rebind it (iisBinding) or remove it by hand" -f $binding.certificateHash, $binding.bindingInformation)
                    }
                }
            }
            # Their key files go too (X509Store.Remove leaves them in MachineKeys), unless a certificate that stays uses one.
            $keyFiles = @($older | ForEach-Object { (Get-D365PrivateKeyInfo -Certificate $_).keyFile } | Where-Object { $_ })
            $kept = @()
            if ($keyFiles.Count -gt 0 -and $null -ne $keyInfo) { $kept = @($keyInfo.keyFile) }
            $keyFiles = @($keyFiles | Where-Object { -not ($kept -contains $_) } | Select-Object -Unique)
            if ($older.Count -gt 0 -and -not $plan -and $PSCmdlet.ShouldProcess('LocalMachine\My', 'remove ' + ($removed -join ', '))) {
                foreach ($thumb in $removed) { Remove-D365MachineCertificate -Thumbprint $thumb }
                foreach ($file in $keyFiles) { Remove-D365KeyFile -Path $file }
            }
            $state.evidence['removedThumbprints'] = $removed
            [void](Set-D365StepOutcome -State $state -Id 'remove-older' -Title "older certificates with subject '$Subject'" -Differs ($older.Count -gt 0) -Plan $plan -Before $olderEvidence -After @() -Evidence ([ordered]@{ thumbprints = $removed; keyFiles = $keyFiles }))
        }

        # 5. Services and the CRM app pool.
        $stepId = 'restart-services'
        [void](Restart-D365ServicesStep -State $state -Restart $Restart -Services $Services -AppPool $AppPool)
    } catch {
        Stop-D365Phase -State $state -Step $stepId -ErrorRecord $_
    }
    return $state
}
