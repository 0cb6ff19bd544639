BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Entry = Join-Path $script:RepoRoot 'powershell/Invoke-D365ExoSyncPhase.ps1'
    # The sandbox's entry script: the module, then the fake Windows server, then the entry script above.
    $script:SandboxEntry = Join-Path $script:SandboxPowerShell 'Invoke-D365ExoSyncPhase.ps1'
    $script:Pfx = New-TestPfx

    # The entry script ends with exit: it runs in a child pwsh, as the TypeScript invoker runs it.
    function Invoke-Entry {
        param([hashtable] $Request, [hashtable] $Environment = @{}, [string] $Entry = $script:Entry)
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $dir | Out-Null
        $parameterFile = Join-Path $dir 'parameters.json'
        $resultFile = Join-Path $dir 'result.json'
        $stateFile = Join-Path $dir 'fake-windows.json'
        [System.IO.File]::WriteAllText($parameterFile, (ConvertTo-Json -InputObject $Request -Depth 10))
        $start = [System.Diagnostics.ProcessStartInfo]::new([System.Environment]::ProcessPath)
        if ([System.IO.Path]::GetFileNameWithoutExtension([System.Environment]::ProcessPath) -eq 'dotnet') { $start.ArgumentList.Add([System.Reflection.Assembly]::GetEntryAssembly().Location) }
        foreach ($argument in @('-NoProfile', '-NonInteractive', '-File', $Entry, '-ParameterFile', $parameterFile, '-ResultFile', $resultFile)) { $start.ArgumentList.Add($argument) }
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $start.UseShellExecute = $false
        $start.Environment['FAKE_WINDOWS_STATE_FILE'] = $stateFile
        foreach ($key in $Environment.Keys) { $start.Environment[$key] = $Environment[$key] }
        $process = [System.Diagnostics.Process]::Start($start)
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEnd()
        $process.WaitForExit()
        $result = $null
        if (Test-Path $resultFile) { $result = ConvertFrom-Json -InputObject (Get-Content -Raw $resultFile) }
        $fake = $null
        if (Test-Path $stateFile) { $fake = ConvertFrom-Json -InputObject (Get-Content -Raw $stateFile) -AsHashtable }
        return [pscustomobject]@{ ExitCode = $process.ExitCode; Stdout = $stdout.Result; Stderr = $stderr; Result = $result; Fake = $fake }
    }
}

# Success, the JSON error (phase, step, server, message), the partial steps and the secret leaving the environment
# are covered end to end by test/integration/powershell (the real invoker runs this script); these are the
# entry script's own refusals.
Describe 'entry script Invoke-D365ExoSyncPhase.ps1' {
    It 'exits 1 naming the missing secret' {
        $run = Invoke-Entry -Request @{ phase = 'install-certificate'; mode = 'apply'; parameters = @{ thumbprint = $script:Pfx.Thumbprint }; secretEnv = @{ PfxPassword = 'D365EXOSYNC_SECRET_9' } }
        $run.ExitCode | Should -Be 1
        $run.Result.error.step | Should -Be 'read-secrets'
        $run.Result.error.message | Should -Match 'D365EXOSYNC_SECRET_9 is not set'
    }

    It 'refuses a parameter the phase function does not have' {
        $run = Invoke-Entry -Request @{ phase = 'webapi'; mode = 'plan'; parameters = @{ requests = @(@{ url = 'https://crm.contoso.com/api' }); bogus = 1 } }
        $run.ExitCode | Should -Be 1
        $run.Result.error.step | Should -Be 'run'
        $run.Result.error.message | Should -Match 'bogus'
    }

    It 'deletes the one-time PFX as soon as it has read it, whether the phase succeeds or fails' {
        foreach ($case in @(@{ thumbprint = $script:Pfx.Thumbprint; exit = 0 }, @{ thumbprint = ('AB' * 20); exit = 1 })) {
            $copy = Join-Path $TestDrive ([guid]::NewGuid().ToString('N') + '.pfx')
            Copy-Item -LiteralPath $script:Pfx.Path -Destination $copy
            $request = @{ phase = 'install-certificate'; mode = 'apply'; parameters = @{ thumbprint = $case.thumbprint; keyReaders = @('CONTOSO\svc-crm-async') }; secretEnv = @{ PfxPassword = 'D365EXOSYNC_SECRET_1' }; pfxPath = $copy }
            $run = Invoke-Entry -Request $request -Environment @{ D365EXOSYNC_SECRET_1 = $script:Pfx.Password } -Entry $script:SandboxEntry
            $run.ExitCode | Should -Be $case.exit -Because $run.Stderr
            Test-Path -LiteralPath $copy | Should -BeFalse
            @($run.Fake.calls | Where-Object { $_.name -eq 'Read-D365PfxCertificate' } | ForEach-Object { $_.args.FromBytes }) | Should -Not -Contain $false
        }
    }

    It 'loads no other module than its own: a parameter file naming one (the old extraModules) changes nothing' {
        $request = @{ phase = 'install-certificate'; mode = 'plan'; parameters = @{ thumbprint = $script:Pfx.Thumbprint; keyReaders = @('CONTOSO\svc-crm-async') }; extraModules = @($script:FakeModule) }
        $run = Invoke-Entry -Request $request
        $run.Fake | Should -BeNullOrEmpty -Because 'the fake Windows server must not have been loaded'
        @($run.Result.warnings) | Should -Not -Contain "the sandbox's fake Windows server and Exchange Online tenant were loaded: this run did not touch a real server"
    }
}

Describe 'entry script Invoke-D365ExoSyncPhase.ps1 with a probe module' {
    # A copy of the script next to a probe D365ExoSync module that records, when it is imported and when its phase
    # function runs, which secret variables are still in the environment: none, because the script reads them out
    # before it loads the module.
    It 'removes the secrets from its environment before it loads the module' {
        $layout = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path (Join-Path $layout 'D365ExoSync') -Force | Out-Null
        Copy-Item -LiteralPath $script:Entry -Destination $layout
        $probe = Join-Path $layout 'probe.txt'
        Set-Content -LiteralPath (Join-Path $layout 'D365ExoSync/D365ExoSync.psd1') -Value "@{ RootModule = 'D365ExoSync.psm1'; ModuleVersion = '0.0.1'; GUID = '$([guid]::NewGuid())'; FunctionsToExport = @('Install-D365ExoSyncCertificate') }"
        Set-Content -LiteralPath (Join-Path $layout 'D365ExoSync/D365ExoSync.psm1') -Value @'
function Get-ProbeSecretVariables { (@(Get-ChildItem -Path env: | Where-Object { $_.Name -like 'D365EXOSYNC_*' } | ForEach-Object { $_.Name }) -join ',') }
Add-Content -LiteralPath $env:PROBE_FILE -Value ('import=' + (Get-ProbeSecretVariables))
function Install-D365ExoSyncCertificate {
    [CmdletBinding()] param([securestring] $PfxPassword)
    Add-Content -LiteralPath $env:PROBE_FILE -Value ('run=' + (Get-ProbeSecretVariables) + ';password=' + $PfxPassword.Length)
    [pscustomobject]@{ phase = 'install-certificate'; mode = 'apply'; server = 'PROBE'; ok = $true; changed = $false; steps = @(); evidence = @{}; warnings = @() }
}
'@
        $request = @{ phase = 'install-certificate'; mode = 'apply'; parameters = @{}; secretEnv = @{ PfxPassword = 'D365EXOSYNC_SECRET_1' } }
        $run = Invoke-Entry -Request $request -Entry (Join-Path $layout 'Invoke-D365ExoSyncPhase.ps1') -Environment @{ D365EXOSYNC_SECRET_1 = 'probe-secret'; PROBE_FILE = $probe }
        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        Get-Content -LiteralPath $probe | Should -Be @('import=', 'run=;password=12')
    }
}

Describe "the sandbox's entry script (sandbox/powershell)" {
    It 'runs the module on the fake Windows server and says so in the result' {
        $request = @{ phase = 'install-certificate'; mode = 'plan'; parameters = @{ thumbprint = $script:Pfx.Thumbprint; keyReaders = @('CONTOSO\svc-crm-async') } }
        $run = Invoke-Entry -Request $request -Entry $script:SandboxEntry
        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $run.Result.phase | Should -Be 'install-certificate'
        $run.Result.mode | Should -Be 'plan'
        @($run.Result.warnings) | Should -Contain "the sandbox's fake Windows server and Exchange Online tenant were loaded: this run did not touch a real server"
        @($run.Fake.calls | ForEach-Object { $_.name }) | Should -Contain 'Get-D365MachineCertificate'
    }

    It 'keeps the exit code and the error of a failing phase' {
        $run = Invoke-Entry -Request @{ phase = 'install-certificate'; mode = 'apply'; parameters = @{ thumbprint = $script:Pfx.Thumbprint }; secretEnv = @{ PfxPassword = 'D365EXOSYNC_SECRET_9' } } -Entry $script:SandboxEntry
        $run.ExitCode | Should -Be 1
        $run.Result.error.step | Should -Be 'read-secrets'
        $run.Stderr | Should -Match 'D365EXOSYNC-ERROR'
    }
}
