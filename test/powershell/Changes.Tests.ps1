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
