// Both cloud phases through the command line, as a pipeline runs them:
//   d365-exo-sync run --config FILE --phase register-entra --pfx FILE --password-env VAR
//   d365-exo-sync run --config FILE --phase retire-previous --set thumbprint=… --set verified=true
// against the sandbox, trusting its CA through D365_EXO_SYNC_EXTRA_CA. Each test asserts the sandbox's
// final state, the exit code, and that no secret reached stdout, stderr or the run record.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findPhase } from '../../../src/phases/registry.js';
import { DYNAMICS_APP_ID, type EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { runCli, type CliRun } from '../../support/cli.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  daysFromNow,
  PFX_PASSWORD,
  sandboxTls,
  scratch,
  SECRET_ENV,
  startSandbox,
  TENANT_ID,
  testCertificate,
} from './sandbox.js';

const wired = findPhase('register-entra') && findPhase('retire-previous');
const skip = wired
  ? false
  : 'register-entra and retire-previous are not in src/phases/registry.ts yet (the CLI wiring of issue 4)';

const current = testCertificate('cli-current', { notBefore: daysFromNow(-1), notAfter: daysFromNow(150) });
const previous = testCertificate('cli-previous', { notBefore: daysFromNow(-200), notAfter: daysFromNow(20) });
const foreign = testCertificate('cli-foreign', { notBefore: daysFromNow(-20), notAfter: daysFromNow(300) });

describe('cloud phases through the CLI', { skip }, () => {
  let emulator: EntraEmulator;
  let files: ReturnType<typeof scratch>;
  let env: NodeJS.ProcessEnv;
  let pfxFile: string;

  before(() => {
    files = scratch();
    pfxFile = join(files.dir, 'new.pfx');
    writeFileSync(pfxFile, current.input.pfx, { mode: 0o600 });
    env = {
      [SECRET_ENV]: CLIENT_SECRET,
      PFX_PASSWORD_VAR: PFX_PASSWORD,
      D365_EXO_SYNC_EXTRA_CA: files.file('sandbox-ca.pem', sandboxTls().caPem),
    };
  });
  after(() => files.remove());
  afterEach(() => emulator?.close());

  function writeConfig(name: string, tenant: Record<string, unknown> = {}): string {
    return files.file(
      name,
      stringify({
        deployment: {
          url: 'https://crm.contoso.com/contoso',
          organization: 'contoso',
          servers: [{ name: 'CRMAPP01', roles: ['web', 'async', 'deployment-tools'] }],
          serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
        },
        tenant: {
          id: TENANT_ID,
          rootDomain: 'contoso.com',
          auth: { method: 'client-secret', clientId: CLIENT_ID, secretEnv: SECRET_ENV },
          endpoints: { authority: emulator.authority, graph: emulator.graph },
          ...tenant,
        },
      }),
    );
  }

  const records = (dir: string) => readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));

  function assertNoSecrets(run: CliRun, recordDir: string) {
    const bearers = emulator.requests
      .map((r) => /^Bearer\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1])
      .filter((t): t is string => !!t);
    assert.ok(bearers.length > 0);
    const everything = [run.stdout, run.stderr, ...records(recordDir)].join('\n');
    for (const secret of [CLIENT_SECRET, PFX_PASSWORD, ...bearers])
      assert.ok(!everything.includes(secret), 'a secret reached the output');
  }

  it('register-entra: first setup, then a rerun that sends nothing', async () => {
    emulator = await startSandbox();
    const config = writeConfig('first.yml');
    const recordDir = join(files.dir, 'records-first');
    const first = await runCli(
      [
        'run',
        '--config',
        config,
        '--phase',
        'register-entra',
        '--pfx',
        pfxFile,
        '--password-env',
        'PFX_PASSWORD_VAR',
        '--json',
        '--record-dir',
        recordDir,
      ],
      env,
    );
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const record = JSON.parse(first.stdout) as { status: string; outputs: Record<string, string> };
    const keys = emulator.state.dynamics().keyCredentials;
    assert.equal(keys.length, 1);
    assert.deepEqual(record.outputs, {
      'tenant-id': TENANT_ID,
      'key-id': keys[0]!.keyId,
      thumbprint: current.cert.thumbprint,
    });
    assert.deepEqual(emulator.state.dynamics().servicePrincipalNames, [
      DYNAMICS_APP_ID,
      `${DYNAMICS_APP_ID}/*.contoso.com`,
    ]);
    assertNoSecrets(first, recordDir);

    const patches = emulator.requestsTo('sp-patch').length;
    const again = await runCli(
      [
        'run',
        '--config',
        config,
        '--phase',
        'register-entra',
        '--pfx',
        pfxFile,
        '--password-env',
        'PFX_PASSWORD_VAR',
        '--record-dir',
        recordDir,
      ],
      env,
    );
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal(emulator.requestsTo('sp-patch').length, patches);
    assert.equal(emulator.state.dynamics().keyCredentials.length, 1);
  });

  it('run: the output fits 80 and 100 columns; the record and --json have every cell in full', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: foreign.cert.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const config = writeConfig('fit.yml');
    const recordDir = join(files.dir, 'records-fit');
    const args = (...more: string[]) => [
      'run',
      '--config',
      config,
      '--phase',
      'register-entra',
      '--pfx',
      pfxFile,
      '--password-env',
      'PFX_PASSWORD_VAR',
      '--record-dir',
      recordDir,
      ...more,
    ];
    const outputs: Record<string, string> = {};
    for (const columns of ['80', '100']) {
      const run = await runCli(args(), { ...env, COLUMNS: columns });
      assert.equal(run.code, 0, run.stderr + run.stdout);
      for (const line of run.stdout.split('\n'))
        assert.ok([...line].length <= Number(columns), `${columns} columns: ${line}`);
      outputs[columns] = run.stdout;
    }
    assert.match(outputs['80']!, /step +target +status/);
    const wide = await runCli(args('--wide'), { ...env, COLUMNS: '80' });
    assert.ok(
      wide.stdout.split('\n').some((line) => line.length > 100),
      '--wide does not fit the table to the terminal',
    );
    const json = await runCli(args('--json'), env);
    const record = JSON.parse(json.stdout) as { steps: Array<{ title: string; before: unknown; after: unknown }> };
    const saved = readdirSync(recordDir).map(
      (f) => JSON.parse(readFileSync(join(recordDir, f), 'utf8')) as typeof record,
    );
    // A cell the table shortens (the key list) is whole in --json and in the record.
    const step = record.steps.find((s) => JSON.stringify(s.after).length > 100);
    assert.ok(step, 'a step with a long value');
    assert.ok(outputs['100']!.includes('…'), 'the long value is shortened on the terminal');
    assert.ok(saved.some((r) => r.steps.some((s) => JSON.stringify(s.after) === JSON.stringify(step.after))));
  });

  it('register-entra --plan shows the diff and changes nothing', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: foreign.cert.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const before = emulator.state.snapshot();
    const run = await runCli(
      [
        'run',
        '--config',
        writeConfig('plan.yml'),
        '--phase',
        'register-entra',
        '--plan',
        '--pfx',
        pfxFile,
        '--password-env',
        'PFX_PASSWORD_VAR',
        '--json',
        '--record-dir',
        join(files.dir, 'records-plan'),
      ],
      env,
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const record = JSON.parse(run.stdout) as { steps: { id: string; action: string }[] };
    assert.equal(record.steps.find((s) => s.id === 'entra.key-credential')?.action, 'create');
    assert.deepEqual(emulator.state.snapshot(), before);
    assert.equal(emulator.requestsTo('sp-patch').length, 0);
  });

  it('renewal, then retire-previous after verify: the old key of ours goes, the key of someone else stays', async () => {
    emulator = await startSandbox();
    const old = emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: previous.cert.x509,
      displayName: `d365-exo-sync ${previous.cert.thumbprint} 2026-05-01`,
    });
    const theirs = emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: foreign.cert.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const config = writeConfig('renew.yml');
    const recordDir = join(files.dir, 'records-renew');
    const register = await runCli(
      [
        'run',
        '--config',
        config,
        '--phase',
        'register-entra',
        '--pfx',
        pfxFile,
        '--password-env',
        'PFX_PASSWORD_VAR',
        '--record-dir',
        recordDir,
      ],
      env,
    );
    assert.equal(register.code, 0, register.stderr + register.stdout);
    assert.equal(emulator.state.dynamics().keyCredentials.length, 3);

    const notVerified = await runCli(
      [
        'run',
        '--config',
        config,
        '--phase',
        'retire-previous',
        '--set',
        `thumbprint=${current.cert.thumbprint}`,
        '--record-dir',
        recordDir,
      ],
      env,
    );
    assert.equal(notVerified.code, 1);
    assert.match(notVerified.stdout + notVerified.stderr, /only after a passing verify/);
    assert.equal(emulator.state.dynamics().keyCredentials.length, 3);

    const retire = await runCli(
      [
        'run',
        '--config',
        config,
        '--phase',
        'retire-previous',
        '--set',
        `thumbprint=${current.cert.thumbprint}`,
        '--set',
        'verified=true',
        '--json',
        '--record-dir',
        recordDir,
      ],
      env,
    );
    assert.equal(retire.code, 0, retire.stderr + retire.stdout);
    const keys = emulator.state.dynamics().keyCredentials;
    assert.deepEqual(
      keys.map((k) => k.keyId),
      [theirs.keyId, keys[1]!.keyId],
    );
    assert.ok(!keys.some((k) => k.keyId === old.keyId));
    assert.equal(
      (JSON.parse(retire.stdout) as { outputs: Record<string, string> }).outputs['removed-key-ids'],
      old.keyId,
    );
    assertNoSecrets(retire, recordDir);
  });

  it('survives a 429 with Retry-After from Graph', async () => {
    emulator = await startSandbox();
    emulator.faults.add({ endpoint: 'sp-patch', kind: 'status', status: 429, retryAfterSeconds: 0, times: 2 });
    const run = await runCli(
      [
        'run',
        '--config',
        writeConfig('throttled.yml'),
        '--phase',
        'register-entra',
        '--pfx',
        pfxFile,
        '--password-env',
        'PFX_PASSWORD_VAR',
        '--record-dir',
        join(files.dir, 'records-429'),
      ],
      env,
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(emulator.state.dynamics().keyCredentials.length, 1);
    assert.equal(emulator.requestsTo('sp-patch').filter((r) => r.status === 429).length, 2);
  });

  it('missing permission and wrong tenant: exit 1, the reason named, nothing changed', async () => {
    emulator = await startSandbox({ roles: ['Application.Read.All', 'Organization.Read.All'] });
    const before = emulator.state.snapshot();
    const denied = await runCli(
      [
        'run',
        '--config',
        writeConfig('denied.yml'),
        '--phase',
        'register-entra',
        '--pfx',
        pfxFile,
        '--password-env',
        'PFX_PASSWORD_VAR',
        '--record-dir',
        join(files.dir, 'records-denied'),
      ],
      env,
    );
    assert.equal(denied.code, 1);
    assert.match(denied.stdout + denied.stderr, /Application\.ReadWrite\.All/);
    assert.deepEqual(emulator.state.snapshot(), before);
    await emulator.close();

    const other = '99999999-8888-7777-6666-555555555555';
    emulator = await startSandbox({ tenantAliases: [other] });
    const wrong = await runCli(
      [
        'run',
        '--config',
        writeConfig('wrong.yml', { id: other }),
        '--phase',
        'register-entra',
        '--pfx',
        pfxFile,
        '--password-env',
        'PFX_PASSWORD_VAR',
        '--record-dir',
        join(files.dir, 'records-wrong'),
      ],
      env,
    );
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout + wrong.stderr, /wrong tenant/);
    assert.equal(emulator.state.dynamics().keyCredentials.length, 0);
  });
});
