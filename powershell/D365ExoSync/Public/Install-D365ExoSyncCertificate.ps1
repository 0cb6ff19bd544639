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
    [OutputType([pscustomobject])]
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
    $state = New-D365PhaseState -Phase 'install-certificate' -Plan ([bool]$WhatIfPreference)
    $Thumbprint = ($Thumbprint -replace '[:\s]', '').ToUpperInvariant()
    # What the certificate step finds (the installed copy, its key), for the later steps.
    $found = @{ installed = $null; keyInfo = $null; problem = $null; rebound = @() }
    $stepId = 'elevation'
    try {
        Assert-D365ElevatedProcess -Purpose 'install-certificate reads and changes LocalMachine certificates and key permissions'
        $stepId = 'key-access'
        $sids = Resolve-D365KeyReaders -KeyReaders $KeyReaders -IncludeServiceAccounts $IncludeServiceAccounts -Services $Services
        $state.evidence['accounts'] = $sids
        $stepId = 'certificate'
        if ($null -eq $PfxBytes -and $PfxPath -and (Test-Path -LiteralPath $PfxPath)) { $PfxBytes = [System.IO.File]::ReadAllBytes($PfxPath) }
        [void](Install-D365CertificateStep -State $state -Thumbprint $Thumbprint -PfxBytes $PfxBytes -PfxPassword $PfxPassword -Found $found)
        if (-not $Subject -and $found.installed) { $Subject = $found.installed.Subject }
        $stepId = 'chain'
        [void](Add-D365ChainStep -State $state -Thumbprint $Thumbprint -PfxBytes $PfxBytes -PfxPassword $PfxPassword)
        $stepId = 'key-access'
        [void](Grant-D365KeyAccessStep -State $state -Thumbprint $Thumbprint -Sids $sids -Found $found)
        $stepId = 'iis-binding'
        [void](Set-D365IisBindingStep -State $state -Thumbprint $Thumbprint -IisBinding $IisBinding -Found $found)
        $stepId = 'remove-older'
        [void](Remove-D365OlderCertificatesStep -State $state -Enabled $RemoveSameSubject -Thumbprint $Thumbprint -Subject $Subject -Found $found)
        $stepId = 'restart-services'
        [void](Restart-D365ServicesStep -State $state -Restart $Restart -Services $Services -AppPool $AppPool)
    } catch {
        Stop-D365Phase -State $state -Step $stepId -ErrorRecord $_
    }
    return $state
}
