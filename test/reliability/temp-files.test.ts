// No PFX and no key material left in the temp folders after a Windows phase, whatever happened: success, a failing
// PowerShell process, a timeout, a pipeline cancellation (SIGINT, SIGTERM) and a SIGKILL. The phases that hand the
// certificate to PowerShell (install-certificate, configure-crm) write it to a private folder for that one process;
// the run gets its own TMPDIR here so everything it leaves can be listed and scanned: for PKCS#12 files, for the
// PFX's bytes and base64 (whole and in PEM/MIME lines), the password, the private key's PEM lines and PEM armour.
//
// SIGKILL cannot be handled: what remains is the 0700 folder with a PFX encrypted under a one-time password that
// lived only in the killed processes (src/phases/windows/certificate.ts), so the test checks that this leftover
// holds nothing of the pipeline's secrets and does not open with its password.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import forge from 'node-forge';
import { ConfigSchema } from '../../src/config/schema.js';
import { loadPfx } from '../../src/cert/index.js';
import { createWindowsServices } from '../../src/phases/windows/powershell-service.js';
import { findPhase } from '../../src/phases/registry.js';
import { runPhase } from '../../src/phases/runner.js';
import { TestHost } from '../support/test-host.js';
import { FAKE_SERVER_MODULE_PATH } from '@d365-exo-sync/sandbox';
import { spawnCli, waitFor } from './support/processes.js';
import {
  COMPUTER,
  PFX_PASSWORD,
  PFX_PASSWORD_ENV,
  renewalCertificate,
  startWorld,
  type World,
} from './support/world.js';

/** A PKCS#12 file: SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data, ... }, ... }. */
function isPkcs12(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes[0] !== 0x30) return false;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')), false);
    const [version, authSafe] = asn1.value as forge.asn1.Asn1[];
    const oid = (authSafe?.value as forge.asn1.Asn1[] | undefined)?.[0];
    return (
      forge.asn1.derToInteger(forge.util.createBuffer(version!.value as string)) === 3 &&
      !!oid &&
      forge.asn1.derToOid(forge.util.createBuffer(oid.value as string)) === '1.2.840.113549.1.7.1'
    );
  } catch {
    return false;
  }
}

interface Leftover {
  path: string;
  why: string;
}

/** Every file under dir that is a PFX or holds the pipeline's key material in any form. */
function keyMaterial(dir: string): Leftover[] {
  const { cert, pfx } = renewalCertificate();
  const b64 = pfx.toString('base64');
  const forms = [
    PFX_PASSWORD,
    b64,
    pfx.toString('base64url'),
    ...[64, 76].flatMap((width) => b64.match(new RegExp(`.{${width}}`, 'g')) ?? []),
    ...cert.privateKeyPem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----')),
  ];
  const found: Leftover[] = [];
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = readFileSync(path);
    const text = bytes.toString('utf8');
    const where = relative(dir, path);
    if (isPkcs12(bytes)) found.push({ path: where, why: 'a PKCS#12 file' });
    if (bytes.includes(pfx)) found.push({ path: where, why: "the pipeline's PFX bytes" });
    if (forms.some((form) => text.includes(form))) found.push({ path: where, why: 'a secret in text form' });
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) found.push({ path: where, why: 'a PEM private key' });
  }
  return found;
}

const FAKE_PWSH = `#!/bin/sh
case "$FAKE_PWSH_MODE" in
  fail) echo "fake PowerShell: failing" >&2; exit 1 ;;
  *) exec sleep 30 ;;
esac
`;

describe('temp files: no PFX or key material left after success, failure, timeout or kill', () => {
  let world: World;
  let scratch: string;
  let fakePwsh: string;

  before(async () => {
    world = await startWorld();
    scratch = mkdtempSync(join(tmpdir(), 'd365-reliability-temp-'));
    fakePwsh = join(scratch, 'fake-pwsh');
    writeFileSync(fakePwsh, FAKE_PWSH);
    chmodSync(fakePwsh, 0o755);
  });
  after(async () => {
    await world?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const temp = (name: string) => mkdtempSync(join(scratch, `${name}-`));
  /** The private folders of PowerShell calls anywhere under dir (they sit in the host's own temp folder), relative. */
  const workspaces = (dir: string) => {
    try {
      return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
        (name) => basename(name).startsWith('d365-exo-sync-ps-') && statSync(join(dir, name)).isDirectory(),
      );
    } catch {
      return []; // a folder went away while it was listed: look again
    }
  };
  const pfx = () => ['--pfx', world.pfxFile, '--password-env', PFX_PASSWORD_ENV];

  /** The CLI in this process with its own TMPDIR (os.tmpdir() reads it on each call). */
  async function cliWithTemp(dir: string, argv: string[], env: NodeJS.ProcessEnv = {}) {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      return await world.cli(argv, { TMPDIR: dir, ...env });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  }

  for (const phase of ['install-certificate', 'configure-crm']) {
    it(`success: ${phase} with real PowerShell leaves its records and nothing else`, async () => {
      const dir = temp(`success-${phase}`);
      const run = await cliWithTemp(dir, ['run', '--config', world.configFile, '--phase', phase, ...pfx()]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stderr, /PowerShell process \d+ started/);
      assert.deepEqual(workspaces(dir), []);
      assert.deepEqual(keyMaterial(dir), []);
      // What is there: the CLI's own temp folder with the run record.
      assert.ok(
        readdirSync(dir).some((name) => name.startsWith('d365-exo-sync-')),
        'no run record was written',
      );
    });
  }

  it('failure: a PowerShell process that fails leaves nothing', async () => {
    const dir = temp('failure');
    const run = await cliWithTemp(
      dir,
      ['run', '--config', world.configFile, '--phase', 'install-certificate', ...pfx()],
      {
        D365_EXO_SYNC_PWSH: fakePwsh,
        FAKE_PWSH_MODE: 'fail',
      },
    );
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /PowerShell exited with code 1/);
    assert.deepEqual(workspaces(dir), []);
    assert.deepEqual(keyMaterial(dir), []);
  });

  it('timeout: a PowerShell process killed at its timeout leaves nothing', async () => {
    const dir = temp('timeout');
    const host = new TestHost();
    const windows = createWindowsServices(
      host,
      { ...process.env, TMPDIR: dir },
      {
        pwshPath: fakePwsh,
        timeoutMs: 1_000,
        tempRoot: dir,
        modulePath: FAKE_SERVER_MODULE_PATH,
        computerName: COMPUTER,
      },
    );
    const { pfx: bytes } = renewalCertificate();
    const result = await runPhase(
      findPhase('install-certificate')!,
      {
        config: ConfigSchema.parse(world.configDocument()),
        host,
        inputs: {},
        now: new Date(),
        certificate: { pfx: bytes, password: PFX_PASSWORD, source: 'the renewal certificate' },
        services: { windows },
      },
      { mode: 'apply', configHash: 'x', recordDir: join(dir, 'records') },
    );
    assert.equal(result.record.status, 'failed');
    assert.match(result.record.error!, /did not finish within 1000 ms/);
    assert.deepEqual(workspaces(dir), []);
    assert.deepEqual(keyMaterial(dir), []);
  });

  /** Starts install-certificate as a process with a PowerShell that hangs, and waits until the PFX is on disk. */
  async function startHanging(dir: string) {
    const child = spawnCli(
      ['run', '--config', world.configFile, '--phase', 'install-certificate', ...pfx()],
      { ...world.env, TMPDIR: dir, D365_EXO_SYNC_PWSH: fakePwsh, FAKE_PWSH_MODE: 'hang' },
      world.dir,
    );
    await waitFor(
      () => workspaces(dir).some((name) => existsSync(join(dir, name, 'parameters.json'))),
      'the PFX and the parameters of the PowerShell process',
    );
    return child;
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`kill: ${signal} (a cancelled pipeline run) while PowerShell runs leaves nothing`, async () => {
      const dir = temp(signal);
      const child = await startHanging(dir);
      child.child.kill(signal);
      const exit = await child.exited;
      assert.equal(exit.signal, signal, 'the process did not end as the signal asks');
      assert.deepEqual(workspaces(dir), []);
      assert.deepEqual(keyMaterial(dir), []);
    });
  }

  it('kill: SIGKILL leaves only a private folder whose PFX holds nothing of the pipeline and opens with none of its secrets', async () => {
    const dir = temp('SIGKILL');
    const child = await startHanging(dir);
    child.child.kill('SIGKILL');
    await child.exited;
    const left = workspaces(dir);
    assert.equal(left.length, 1);
    // Under the host's own temp folder (on a runner: RUNNER_TEMP / Agent.TempDirectory, emptied after every job).
    assert.match(left[0]!, /^d365-exo-sync-[^/\\]+[/\\]d365-exo-sync-ps-/);
    const folder = join(dir, left[0]!);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    for (const name of readdirSync(folder)) assert.equal(statSync(join(folder, name)).mode & 0o777, 0o600, name);
    const leftover = readFileSync(join(folder, 'certificate.pfx'));
    assert.ok(isPkcs12(leftover));
    assert.ok(!leftover.equals(renewalCertificate().pfx), "the pipeline's own PFX was written");
    assert.equal(loadPfx(leftover, PFX_PASSWORD).pfx, undefined, "the leftover opens with the pipeline's password");
    assert.equal(loadPfx(leftover, '').pfx, undefined, 'the leftover opens without a password');
    assert.deepEqual(
      keyMaterial(dir).filter((found) => found.why !== 'a PKCS#12 file'),
      [],
    );
    assert.doesNotMatch(
      readFileSync(join(folder, 'parameters.json'), 'utf8'),
      new RegExp(PFX_PASSWORD.replace(/[~.]/g, '\\$&')),
    );
  });
});
