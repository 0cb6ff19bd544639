# The phases' decisions (Private/*Changes.ps1) without I/O: no fake server, no cmdlet runs; state objects in, the
# step's before, after and whether it differs out.
BeforeAll {
    $manifest = Join-Path $PSScriptRoot '../../powershell/D365ExoSync/D365ExoSync.psd1'
    Remove-Module D365ExoSync, FakeWindows -ErrorAction SilentlyContinue
    Import-Module $manifest -Force
}

Describe 'configure-crm decisions' {
    It 'the S2S certificate differs unless it is exactly the wanted one' {
        InModuleScope D365ExoSync {
            (Get-D365S2SCertificateChange -Current @('AA') -Wanted 'AA').differs | Should -BeFalse
            (Get-D365S2SCertificateChange -Current @() -Wanted 'AA').differs | Should -BeTrue
            (Get-D365S2SCertificateChange -Current @('BB') -Wanted 'AA').differs | Should -BeTrue
            $two = Get-D365S2SCertificateChange -Current @('AA', 'BB') -Wanted 'AA'
            $two.differs | Should -BeTrue
            $two.before.thumbprints | Should -Be @('AA', 'BB')
            $two.after.thumbprints | Should -Be @('AA')
        }
    }

    It 'ServerSettings: only the settings that differ are changed' {
        InModuleScope D365ExoSync {
            $wanted = [ordered]@{ PrincipalId = 'p'; MetadataUrl = 'https://m' }
            $change = Get-D365SettingsChange -Current ([ordered]@{ PrincipalId = 'p'; MetadataUrl = 'https://old' }) -Wanted $wanted
            $change.differs | Should -BeTrue
            @($change.changes.Keys) | Should -Be @('MetadataUrl')
            $change.changes['MetadataUrl'] | Should -Be 'https://m'
            (Get-D365SettingsChange -Current ([ordered]@{ PrincipalId = 'p'; MetadataUrl = 'https://m' }) -Wanted $wanted).differs | Should -BeFalse
        }
    }

    It 'one value compares as text (an unset tenant id differs; a set one does not)' {
        InModuleScope D365ExoSync {
            (Get-D365ValueChange -Current $null -Wanted 'tenant').differs | Should -BeTrue
            (Get-D365ValueChange -Current 'tenant' -Wanted 'tenant').differs | Should -BeFalse
            (Get-D365ValueChange -Current $false -Wanted $true).differs | Should -BeTrue
        }
    }

    It 'the read-back names every value that is not as wanted, and none when all are' {
        InModuleScope D365ExoSync {
            $settings = [ordered]@{ PrincipalId = 'p'; MetadataUrl = 'https://m' }
            $good = @{ s2sCertificates = @('AA'); serverSettings = [ordered]@{ PrincipalId = 'p'; MetadataUrl = 'https://m' }; s2sTenantId = 't'; oauthClaimsEnabled = $true }
            @(Get-D365CrmReadBackMismatch -ReadBack $good -Thumbprint 'AA' -ServerSettings $settings -TenantId 't').Count | Should -Be 0
            $bad = @{ s2sCertificates = @('AA', 'BB'); serverSettings = [ordered]@{ PrincipalId = 'x'; MetadataUrl = 'https://m' }; s2sTenantId = 'other'; oauthClaimsEnabled = $false }
            Get-D365CrmReadBackMismatch -ReadBack $bad -Thumbprint 'AA' -ServerSettings $settings -TenantId 't' | Should -Be @('S2STokenIssuer certificate', 'PrincipalId', 'S2STenantId', 'OAuthClaimsSettings.Enabled')
            Get-D365CrmReadBackMismatch -ReadBack $bad -Thumbprint 'AA' -ServerSettings $settings -TenantId 't' -EnableOAuthClaims $false | Should -Not -Contain 'OAuthClaimsSettings.Enabled'
        }
    }
}

Describe 'configure-adfs decisions' {
    It 'forms authentication is added where wanted and missing, keeping every provider already listed' {
        InModuleScope D365ExoSync {
            $policy = [pscustomobject]@{ PrimaryIntranetAuthenticationProvider = @('WindowsAuthentication'); PrimaryExtranetAuthenticationProvider = @('FormsAuthentication') }
            $change = Get-D365FormsAuthenticationChange -Policy $policy -Zones @{ intranet = $true; extranet = $true }
            $change.differs | Should -BeTrue
            @($change.update.Keys) | Should -Be @('PrimaryIntranetAuthenticationProvider')
            $change.after.intranet | Should -Be @('WindowsAuthentication', 'FormsAuthentication')
            (Get-D365FormsAuthenticationChange -Policy $policy -Zones @{ intranet = $false; extranet = $true }).differs | Should -BeFalse
        }
    }

    It 'the App for Outlook client: added when missing, updated for a name or a missing URI (case-sensitive), enabled when disabled' {
        InModuleScope D365ExoSync {
            $uri = 'https://crm.contoso.com/crmmailapp/code_auth.aspx'
            $added = Get-D365OutlookClientChange -Client $null -ClientId 'c' -Name 'n' -RedirectUri $uri
            $added.add | Should -BeTrue
            $added.before | Should -BeNullOrEmpty
            $same = [pscustomobject]@{ ClientId = 'c'; Name = 'n'; RedirectUri = @($uri); Enabled = $true }
            (Get-D365OutlookClientChange -Client $same -ClientId 'c' -Name 'n' -RedirectUri $uri).differs | Should -BeFalse
            $other = [pscustomobject]@{ ClientId = 'c'; Name = 'n'; RedirectUri = @($uri.ToUpperInvariant()); Enabled = $false }
            $change = Get-D365OutlookClientChange -Client $other -ClientId 'c' -Name 'n' -RedirectUri $uri
            $change.update | Should -BeTrue
            $change.enable | Should -BeTrue
            $change.after.redirectUri | Should -Be @($uri.ToUpperInvariant(), $uri)
        }
    }

    It 'the application permission is granted only when the resource is missing' {
        InModuleScope D365ExoSync {
            (Get-D365ApplicationPermissionChange -Current @('https://auth.contoso.com/') -Resource 'https://auth.contoso.com/').differs | Should -BeFalse
            $change = Get-D365ApplicationPermissionChange -Current @() -Resource 'https://auth.contoso.com/'
            $change.differs | Should -BeTrue
            $change.after | Should -Be @('https://auth.contoso.com/')
        }
    }

    It 'the AD FS certificates: only the kinds asked for, each compared with the wanted thumbprint, and adfssrv Read' {
        InModuleScope D365ExoSync {
            $none = Get-D365AdfsCertificateChange -Thumbprint 'AA' -ServiceCommunications @('AA') -Ssl @('AA', 'AA') -KeyAccess 'allowed'
            $none.differs | Should -BeFalse
            $all = Get-D365AdfsCertificateChange -Thumbprint 'AA' -ServiceCommunications @('BB') -Ssl @() -KeyAccess 'missing'
            $all.changes | Should -Be @('serviceCommunications', 'ssl', 'adfssrvKeyRead')
            $all.after.ssl | Should -Be @('AA')
            $sslOnly = Get-D365AdfsCertificateChange -Thumbprint 'AA' -Ssl @('BB') -KeyAccess 'allowed'
            $sslOnly.changes | Should -Be @('ssl')
            $sslOnly.before.Contains('serviceCommunications') | Should -BeFalse
        }
    }

    It 'relying party trusts: refreshed when the encryption certificate is not the expected one, or after a change' {
        InModuleScope D365ExoSync {
            $trusts = [ordered]@{ 'CRM Claims' = 'AA'; 'CRM IFD' = 'BB' }
            (Get-D365RelyingPartyTrustChange -Current $trusts -ExpectedEncryptionThumbprint 'aa').refresh | Should -Be @('CRM IFD')
            (Get-D365RelyingPartyTrustChange -Current $trusts -Pending $false).differs | Should -BeFalse
            (Get-D365RelyingPartyTrustChange -Current $trusts -Pending $true).refresh | Should -Be @('CRM Claims', 'CRM IFD')
        }
    }
}

Describe 'configure-exchange decisions' {
    It 'EwsEnabled must read True; unset and False differ' {
        InModuleScope D365ExoSync {
            (Get-D365EwsEnabledChange -Current $true).differs | Should -BeFalse
            (Get-D365EwsEnabledChange -Current $false).shown | Should -Be 'False'
            $unset = Get-D365EwsEnabledChange -Current $null
            $unset.differs | Should -BeTrue
            $unset.shown | Should -Be 'unset'
        }
    }

    It 'EwsAllowedAppIDs: the app ids added, every other entry kept; an empty list stays empty (it restricts nothing)' {
        InModuleScope D365ExoSync {
            $app = '00000007-0000-0000-c000-000000000000'
            $other = '11111111-2222-3333-4444-555555555555'
            $change = Get-D365AllowedAppIdsChange -Current @($other) -AppIds @($app)
            $change.differs | Should -BeTrue
            $change.missing | Should -Be @($app)
            $change.after | Should -Be @($other, $app)
            (Get-D365AllowedAppIdsChange -Current @($app.ToUpperInvariant()) -AppIds @($app)).differs | Should -BeFalse
            $empty = Get-D365AllowedAppIdsChange -Current @() -AppIds @($app)
            $empty.unrestricted | Should -BeTrue
            $empty.differs | Should -BeFalse
        }
    }

    It 'the user-agent policy: none, unjudged without agents, an allow list to add to, a block list to remove from' {
        InModuleScope D365ExoSync {
            $org = { param($policy, $allow, $block) [pscustomobject]@{ ewsApplicationAccessPolicy = $policy; ewsAllowList = [string[]]$allow; ewsBlockList = [string[]]$block } }
            (Get-D365UserAgentPolicyChange -Organization (& $org $null @() @()) -UserAgents @('CRM/*')).kind | Should -Be 'none'
            (Get-D365UserAgentPolicyChange -Organization (& $org 'EnforceAllowList' @('Outlook/*') @())).kind | Should -Be 'unjudged'
            $allow = Get-D365UserAgentPolicyChange -Organization (& $org 'EnforceAllowList' @('Outlook/*') @()) -UserAgents @('CRM/*')
            $allow.kind | Should -Be 'allow'
            $allow.add | Should -Be @('CRM/*')
            $allow.after.allowList | Should -Be @('Outlook/*', 'CRM/*')
            (Get-D365UserAgentPolicyChange -Organization (& $org 'EnforceAllowList' @('CRM/*') @()) -UserAgents @('CRM/9.1')).differs | Should -BeFalse
            $block = Get-D365UserAgentPolicyChange -Organization (& $org 'EnforceBlockList' @() @('CRM/*', 'Bad/*')) -UserAgents @('CRM/9.1')
            $block.remove | Should -Be @('CRM/*')
            $block.after.blockList | Should -Be @('Bad/*')
            (Get-D365UserAgentPolicyChange -Organization (& $org 'Other' @() @()) -UserAgents @('CRM/*')).kind | Should -Be 'unknown'
        }
    }
}

Describe 'install-certificate decisions' {
    It 'the certificate is imported when it is missing or its key has a problem, and replaced in place when present' {
        InModuleScope D365ExoSync {
            (Get-D365CertificateInstallChange -Present $true -KeyEvidence @{ keySpec = 'Exchange' } -Problem $null).differs | Should -BeFalse
            $missing = Get-D365CertificateInstallChange -Present $false -Problem 'not installed'
            $missing.differs | Should -BeTrue
            $missing.replace | Should -BeFalse
            $missing.before.problem | Should -Be 'not installed'
            $missing.after.present | Should -BeTrue
            (Get-D365CertificateInstallChange -Present $true -Problem 'CNG key').replace | Should -BeTrue
        }
    }

    It 'Read on the key: the accounts without it, and the first Deny named' {
        InModuleScope D365ExoSync {
            $change = Get-D365KeyAccessChange -Access ([ordered]@{ 'CONTOSO\a' = 'allowed'; 'CONTOSO\b' = 'missing'; 'CONTOSO\c' = 'denied' })
            $change.missing | Should -Be @('CONTOSO\b', 'CONTOSO\c')
            $change.denied | Should -Be 'CONTOSO\c'
            $change.after['CONTOSO\b'] | Should -Be 'allowed'
            (Get-D365KeyAccessChange -Access ([ordered]@{ 'CONTOSO\a' = 'allowed' })).differs | Should -BeFalse
        }
    }

    It 'the HTTPS bindings differ while one shows another certificate' {
        InModuleScope D365ExoSync {
            (Get-D365BindingChange -Current @('AA', 'AA') -Thumbprint 'AA').differs | Should -BeFalse
            $change = Get-D365BindingChange -Current @('BB', 'AA') -Thumbprint 'AA'
            $change.differs | Should -BeTrue
            $change.after | Should -Be @('AA', 'AA')
        }
    }

    It 'older certificates: every other one with the subject, and the key files no remaining certificate uses' {
        InModuleScope D365ExoSync {
            $same = @([pscustomobject]@{ Thumbprint = 'AA' }, [pscustomobject]@{ Thumbprint = 'BB' }, [pscustomobject]@{ Thumbprint = 'CC' })
            $change = Get-D365OlderCertificatesChange -SameSubject $same -Thumbprint 'AA' -KeyFiles @('k-b', 'k-a', 'k-b') -KeptKeyFile 'k-a'
            $change.thumbprints | Should -Be @('BB', 'CC')
            $change.keyFiles | Should -Be @('k-b')
            (Get-D365OlderCertificatesChange -SameSubject @($same[0]) -Thumbprint 'AA').differs | Should -BeFalse
        }
    }

    It 'an https binding on a certificate to remove blocks the removal, unless a plan rebinds it in this run' {
        InModuleScope D365ExoSync {
            $bindings = @([pscustomobject]@{ bindingInformation = '*:443:'; certificateHash = 'BB' })
            (Get-D365BlockingBinding -Bindings $bindings -Removed @('BB')).bindingInformation | Should -Be '*:443:'
            Get-D365BlockingBinding -Bindings $bindings -Removed @('BB') -Rebound @('*:443:') -Plan $true | Should -BeNullOrEmpty
            Get-D365BlockingBinding -Bindings $bindings -Removed @('CC') | Should -BeNullOrEmpty
        }
    }
}
