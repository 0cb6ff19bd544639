// Which PowerShell the invoker starts (no PowerShell needed for these).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PowerShellUnavailableError, resolvePowerShell } from '../../../src/powershell/index.js';

const made: string[] = [];

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ps-resolve-'));
  made.push(dir);
  return dir;
}

describe('resolvePowerShell', () => {
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it('uses 64-bit Windows PowerShell 5.1 on Windows, through Sysnative from a 32-bit Node', () => {
    const env = { SystemRoot: 'C:\\Windows' };
    const x64 = resolvePowerShell({ platform: 'win32', arch: 'x64', env });
    assert.equal(x64.command, 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.equal(x64.kind, 'windows-powershell');
    assert.deepEqual(x64.prefixArgs, []);
    const ia32 = resolvePowerShell({ platform: 'win32', arch: 'ia32', env });
    assert.equal(ia32.command, 'C:\\Windows\\Sysnative\\WindowsPowerShell\\v1.0\\powershell.exe');
  });

  it('takes an explicit path (option first, then D365_EXO_SYNC_PWSH); a pwsh.dll runs under dotnet', () => {
    assert.equal(
      resolvePowerShell({ pwshPath: '/opt/pwsh/pwsh', platform: 'linux', env: { D365_EXO_SYNC_PWSH: '/other' } })
        .command,
      '/opt/pwsh/pwsh',
    );
    assert.equal(
      resolvePowerShell({ platform: 'linux', env: { D365_EXO_SYNC_PWSH: '/other/pwsh' } }).command,
      '/other/pwsh',
    );
    const dll = resolvePowerShell({ platform: 'linux', env: { D365_EXO_SYNC_PWSH: '/tools/pwsh.dll' } });
    assert.equal(dll.command, 'dotnet');
    assert.deepEqual(dll.prefixArgs, ['/tools/pwsh.dll']);
  });

  it('finds the pinned dotnet tool in the NuGet packages folder and runs its pwsh.dll directly (one process)', () => {
    const project = folder();
    mkdirSync(join(project, '.config'));
    writeFileSync(
      join(project, '.config', 'dotnet-tools.json'),
      JSON.stringify({ version: 1, isRoot: true, tools: { powershell: { version: '7.6.9', commands: ['pwsh'] } } }),
    );
    const packages = folder();
    const tool = join(packages, 'powershell', '7.6.9', 'tools', 'net10.0', 'any', 'unix');
    mkdirSync(tool, { recursive: true });
    writeFileSync(join(tool, 'pwsh.dll'), '');
    const bin = folder();
    writeFileSync(join(bin, 'dotnet'), '');
    chmodSync(join(bin, 'dotnet'), 0o755);
    const resolved = resolvePowerShell({
      platform: 'linux',
      env: { NUGET_PACKAGES: packages, PATH: bin },
      searchFrom: [join(project, 'sub')],
    });
    assert.equal(resolved.command, 'dotnet');
    assert.deepEqual(resolved.prefixArgs, [join(tool, 'pwsh.dll')]);
  });

  it('falls back to pwsh on PATH, and says what to do when there is none', () => {
    const bin = folder();
    writeFileSync(join(bin, 'pwsh'), '');
    const empty = folder();
    assert.equal(
      resolvePowerShell({ platform: 'linux', env: { PATH: bin, NUGET_PACKAGES: empty }, searchFrom: [empty] }).command,
      join(bin, 'pwsh'),
    );
    assert.throws(
      () => resolvePowerShell({ platform: 'linux', env: { PATH: empty, NUGET_PACKAGES: empty }, searchFrom: [empty] }),
      (error: unknown) => error instanceof PowerShellUnavailableError && /dotnet tool restore/.test(error.message),
    );
  });
});
