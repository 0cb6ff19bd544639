BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'compat/WindowsPowerShellCompat.psm1') -Force
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    function Get-Rules { param([string] $Text) @(Test-WindowsPowerShellCompatText -Text $Text | ForEach-Object { $_.Rule }) }
}

Describe 'Windows PowerShell 5.1 compatibility gate' {
    It 'passes the module in powershell/, and says what it checked' {
        $result = Invoke-WindowsPowerShellCompatGate -Path (Join-Path $script:RepoRoot 'powershell')
        $result.Files | Should -BeGreaterThan 5
        @($result.Violations | ForEach-Object { '{0}:{1} {2}' -f $_.File, $_.Line, $_.Message }) | Should -BeNullOrEmpty
        # Everything the module calls was looked up: these only grow with the module.
        $result.Stats.Commands | Should -BeGreaterThan 300
        $result.Stats.Parameters | Should -BeGreaterThan 400
        $result.Stats.Types | Should -BeGreaterThan 400
        $result.Stats.StaticMembers | Should -BeGreaterOrEqual 40
        $result.Stats.Constructors | Should -BeGreaterThan 20
        $result.Stats.InstanceMembers | Should -BeGreaterThan 50
        Format-WindowsPowerShellCompatSummary $result | Should -Match 'PowerShellStandard.Library 5.1.1'
    }

    It 'catches every planted breakage of its fixture, and nothing else there' {
        $fixture = Join-Path $PSScriptRoot 'compat/fixtures/Breakages51.ps1'
        $expected = @{}
        $lines = [System.IO.File]::ReadAllLines($fixture)
        for ($i = 0; $i -lt $lines.Count; $i++) {
            if ($lines[$i] -match '#\s*expect:\s*([a-z-]+)\s*$') { $expected[$i + 1] = $Matches[1] }
        }
        @($expected.Values | Where-Object { $_ -ne 'none' }).Count | Should -BeGreaterOrEqual 40
        $found = @(Test-WindowsPowerShellCompatFile -Path $fixture)
        $problems = New-Object System.Collections.ArrayList
        foreach ($line in $expected.Keys) {
            $rules = @($found | Where-Object { $_.Line -eq $line } | ForEach-Object { $_.Rule })
            if ($expected[$line] -eq 'none') { if ($rules.Count -gt 0) { [void]$problems.Add("line $line reported ($($rules -join ', ')) but is 5.1 code") } }
            elseif (-not ($rules -contains $expected[$line])) { [void]$problems.Add("line $line not caught as $($expected[$line]) (got: $($rules -join ', '))") }
        }
        foreach ($violation in $found) {
            if (-not $expected.ContainsKey($violation.Line)) { [void]$problems.Add("unexpected: line $($violation.Line) [$($violation.Rule)] $($violation.Message)") }
        }
        $problems | Should -BeNullOrEmpty
    }

    It 'knows a new module from one more signature table file' {
        $tables = Get-CompatSignatures
        $tables.Commands['get-adfsclient'].Page | Should -Be 'docset/winserver2016-ps/ADFS/Get-AdfsClient.md'
        $tables.Aliases['gc'] | Should -Be 'Get-Content'
        $tables.Commands.Keys | Should -Contain 'set-crmadvancedsetting'
    }

    It 'catches <Name>' -ForEach @(
        @{ Name = '&& chains'; Text = 'Get-Item a && Get-Item b'; Rule = 'pipeline-chain' }
        @{ Name = '|| chains'; Text = 'Get-Item a || Write-Error x'; Rule = 'pipeline-chain' }
        @{ Name = 'the ternary operator'; Text = '$a = $b ? 1 : 2'; Rule = 'ternary' }
        @{ Name = '??'; Text = '$a = $b ?? 3'; Rule = 'null-coalescing' }
        @{ Name = '??='; Text = '$a ??= 3'; Rule = 'null-coalescing-assignment' }
        @{ Name = '?.'; Text = '${a}?.Name'; Rule = 'null-conditional' }
        @{ Name = '?.Method()'; Text = '${a}?.ToString()'; Rule = 'null-conditional' }
        @{ Name = '?[]'; Text = '${a}?[0]'; Rule = 'null-conditional' }
        @{ Name = 'ForEach-Object -Parallel'; Text = '1..3 | ForEach-Object -Parallel { $_ }'; Rule = 'unknown-parameter' }
        @{ Name = '% -Parallel'; Text = '1..3 | % -Parallel { $_ } -ThrottleLimit 2'; Rule = 'unknown-parameter' }
        @{ Name = 'clean blocks'; Text = 'function f { process { 1 } clean { 2 } }'; Rule = 'clean-block' }
        @{ Name = 'ConvertFrom-Json -AsHashtable'; Text = '$x | ConvertFrom-Json -AsHashtable'; Rule = 'unknown-parameter' }
        @{ Name = 'ConvertFrom-Json -AsHash (abbreviated)'; Text = '$x | ConvertFrom-Json -AsHash'; Rule = 'unknown-parameter' }
        @{ Name = 'ConvertFrom-Json -Depth'; Text = 'ConvertFrom-Json -InputObject $x -Depth 5'; Rule = 'unknown-parameter' }
        @{ Name = 'Get-Content -AsByteStream'; Text = 'Get-Content -Path a -AsByteStream'; Rule = 'unknown-parameter' }
        @{ Name = 'gc -AsByteStream (alias)'; Text = 'gc a -AsByteStream'; Rule = 'unknown-parameter' }
        @{ Name = 'Invoke-RestMethod -SkipCertificateCheck'; Text = 'Invoke-RestMethod -Uri https://x -SkipCertificateCheck'; Rule = 'unknown-parameter' }
        @{ Name = 'irm -SkipCertificateCheck (alias)'; Text = 'irm https://x -SkipCertificateCheck'; Rule = 'unknown-parameter' }
        @{ Name = 'Invoke-WebRequest -SkipCertificateCheck'; Text = 'Invoke-WebRequest -Uri https://x -SkipCertificateCheck'; Rule = 'unknown-parameter' }
        @{ Name = 'Invoke-WebRequest -SkipHttpErrorCheck'; Text = 'Invoke-WebRequest -Uri https://x -SkipHttpErrorCheck'; Rule = 'unknown-parameter' }
        @{ Name = 'Test-Json'; Text = 'Test-Json -Json $x'; Rule = 'unknown-command' }
        @{ Name = 'Join-String'; Text = '1,2 | Join-String -Separator ","'; Rule = 'unknown-command' }
        @{ Name = 'Get-Content -Encoding utf8NoBOM'; Text = 'Get-Content a -Encoding utf8NoBOM'; Rule = 'new-encoding' }
        @{ Name = 'Set-Content -Encoding:utf8BOM'; Text = 'Set-Content a -Value 1 -Encoding:utf8BOM'; Rule = 'new-encoding' }
        @{ Name = 'Out-File -Encoding ''utf8NoBOM'''; Text = 'Out-File -FilePath a -Encoding ''utf8NoBOM'''; Rule = 'new-encoding' }
        @{ Name = 'Import-Module -UseWindowsPowerShell'; Text = 'Import-Module X -UseWindowsPowerShell'; Rule = 'unknown-parameter' }
        @{ Name = '$IsWindows'; Text = 'if ($IsWindows) { 1 }'; Rule = 'new-variable' }
        @{ Name = 'the background operator'; Text = 'Start-Sleep 1 &'; Rule = 'background-operator' }
        @{ Name = 'a parse error'; Text = 'function f { '; Rule = 'parse-error' }
        @{ Name = 'a parameter the module''s own function lacks'; Text = 'function f { param([string] $Name) }; f -Nme a'; Rule = 'unknown-parameter' }
        @{ Name = 'a common parameter on a simple function'; Text = 'function f { param([string] $Name) }; f -Name a -Verbose'; Rule = 'unknown-parameter' }
    ) {
        Get-Rules $Text | Should -Contain $Rule
    }

    It 'lets 5.1 code through' -ForEach @(
        @{ Text = '$x = ConvertFrom-Json -InputObject $json' }
        @{ Text = 'Get-Content -Path a -Encoding UTF8' }
        @{ Text = 'Get-Content -Path a -Encoding Byte' }
        @{ Text = '1..3 | ForEach-Object -Process { $_ } -PipelineVariable p' }
        @{ Text = 'if ($a -and $b) { $c = $(if ($d) { 1 } else { 2 }) }' }
        @{ Text = '$sb = { param($x) $x }; & $sb 1; $a.Where({ $_ }); [ordered]@{ a = 1 }' }
        @{ Text = 'Invoke-WebRequest -Uri https://x -UseDefaultCredentials -UseBasicParsing' }
        @{ Text = 'function f { [CmdletBinding(SupportsShouldProcess = $true)] param([string] $Name) }; f -Name a -WhatIf -Verbose' }
    ) {
        Get-Rules $Text | Should -BeNullOrEmpty
    }

    It 'rejects non-ASCII characters in a file without a UTF-8 BOM, and accepts them with one' {
        $text = "Write-Host 'Gr" + [char]0x00FC + "n'"
        $plain = [System.Text.UTF8Encoding]::new($false).GetBytes($text)
        $withBom = [byte[]](0xEF, 0xBB, 0xBF) + $plain
        @(Test-WindowsPowerShellCompatBytes -Bytes $plain).Rule | Should -Be 'non-ascii-without-bom'
        @(Test-WindowsPowerShellCompatBytes -Bytes $withBom) | Should -BeNullOrEmpty
        @(Test-WindowsPowerShellCompatBytes -Bytes ([System.Text.Encoding]::ASCII.GetBytes('Write-Host 1'))) | Should -BeNullOrEmpty
    }

    It 'checks .ps1, .psm1 and .psd1 files in a folder and names file and line' {
        $dir = Join-Path $TestDrive 'gate'
        New-Item -ItemType Directory -Path $dir | Out-Null
        Set-Content -Path (Join-Path $dir 'a.ps1') -Value @('# fine', '$a = $b ?? 1')
        Set-Content -Path (Join-Path $dir 'b.psm1') -Value 'function f { Test-Json -Json "{}" }'
        Set-Content -Path (Join-Path $dir 'c.psd1') -Value '@{ ModuleVersion = "1.0" }'
        Set-Content -Path (Join-Path $dir 'd.txt') -Value '$a ?? 1'
        $result = Invoke-WindowsPowerShellCompatGate -Path $dir
        $result.Files | Should -Be 3
        @($result.Violations).Count | Should -Be 2
        $first = @($result.Violations | Where-Object { $_.File -like '*a.ps1' })[0]
        $first.Line | Should -Be 2
        $first.Rule | Should -Be 'null-coalescing'
    }
}
