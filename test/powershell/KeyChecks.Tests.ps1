BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-D365WithFakes
}

Describe 'private key checks' {
    It 'counts GENERIC_READ, GENERIC_ALL and full FileSystemRights.Read as read access, nothing less' -ForEach @(
        @{ Rights = [int64]2147483648; Expected = $true }   # GENERIC_READ
        @{ Rights = [int64]-2146435072; Expected = $true }  # GENERIC_READ|SYNCHRONIZE as the MMC writes it (signed)
        @{ Rights = [int64]268435456; Expected = $true }    # GENERIC_ALL
        @{ Rights = [int64]131209; Expected = $true }       # FileSystemRights.Read
        @{ Rights = [int64]2032127; Expected = $true }      # FileSystemRights.FullControl
        @{ Rights = [int64]1; Expected = $false }           # ReadData only
        @{ Rights = [int64]1048576; Expected = $false }     # SYNCHRONIZE only
    ) {
        InModuleScope D365ExoSync -Parameters @{ Rights = $Rights } { param($Rights) Test-D365RightsGrantRead -Rights $Rights } | Should -Be $Expected
    }

    It 'reads allowed / missing / denied per SID' {
        InModuleScope D365ExoSync {
            $info = [pscustomobject]@{ accessRules = @(
                    [pscustomobject]@{ sid = 'S-1-5-20'; rights = [int64]2147483648; type = 'Allow' },
                    [pscustomobject]@{ sid = 'S-1-5-21-9'; rights = [int64]2147483648; type = 'Deny' },
                    [pscustomobject]@{ sid = 'S-1-5-21-8'; rights = [int64]1; type = 'Allow' }) }
            Get-D365KeyReadAccess -KeyInfo $info -Sid 'S-1-5-20' | Should -Be 'allowed'
            Get-D365KeyReadAccess -KeyInfo $info -Sid 'S-1-5-21-9' | Should -Be 'denied'
            Get-D365KeyReadAccess -KeyInfo $info -Sid 'S-1-5-21-8' | Should -Be 'missing'
            Get-D365KeyReadAccess -KeyInfo $info -Sid 'S-1-5-21-7' | Should -Be 'missing'
        }
    }

    It 'accepts only a legacy CSP key with KeySpec Exchange' {
        InModuleScope D365ExoSync {
            Get-D365KeyProblem -KeyInfo ([pscustomobject]@{ hasPrivateKey = $true; providerType = 24; keyNumber = 'Exchange'; provider = 'Microsoft Enhanced RSA and AES Cryptographic Provider'; error = $null }) -Thumbprint 'AB' | Should -BeNullOrEmpty
            Get-D365KeyProblem -KeyInfo ([pscustomobject]@{ hasPrivateKey = $true; providerType = 0; keyNumber = 'None'; provider = $null; error = $null }) -Thumbprint 'AB' | Should -Match 'CNG'
            Get-D365KeyProblem -KeyInfo ([pscustomobject]@{ hasPrivateKey = $true; providerType = 1; keyNumber = 'Signature'; provider = 'Microsoft Enhanced Cryptographic Provider v1.0'; error = $null }) -Thumbprint 'AB' | Should -Match 'KeySpec Signature'
            Get-D365KeyProblem -KeyInfo ([pscustomobject]@{ hasPrivateKey = $false; providerType = 0; keyNumber = 'None'; provider = $null; error = $null }) -Thumbprint 'AB' | Should -Match 'no private key'
        }
    }

    It 'computes the thumbprint of a CRM certificate row from its base64 Data' {
        $pfx = New-TestPfx
        InModuleScope D365ExoSync -Parameters @{ Data = [Convert]::ToBase64String($pfx.RawData) } { param($Data) Get-D365ThumbprintFromBase64 -Data $Data } | Should -Be $pfx.Thumbprint
    }

    It 'merges lists without losing what is there' {
        InModuleScope D365ExoSync {
            $merged = Merge-D365List -Current @('WindowsAuthentication') -Wanted @('FormsAuthentication')
            $merged | Should -Be @('WindowsAuthentication', 'FormsAuthentication')
            $merged = Merge-D365List -Current @('FormsAuthentication') -Wanted @('formsauthentication')
            $merged | Should -Be @('FormsAuthentication')
            $merged = Merge-D365List -Current @('https://a/X') -Wanted @('https://a/x') -CaseSensitive
            $merged | Should -Be @('https://a/X', 'https://a/x')
        }
    }
}
