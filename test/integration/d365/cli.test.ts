// configure-mailboxes and verify through the command line, as a pipeline runs them:
//   d365-exo-sync run --config FILE --phase configure-mailboxes
//   d365-exo-sync run --config FILE --phase verify
// against the D365 emulator with AD FS (adfs-password; the Windows transport needs a Windows runner),
// trusting the sandbox CA through D365_EXO_SYNC_EXTRA_CA. Runs once the lead registers the phases
// (src/phases/registry.ts) and passes services.crm = createCrmServices(config, host, env, …).
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findPhase } from '../../../src/phases/registry.js';
import { makeSandboxTls } from '@d365-exo-sync/sandbox/tls';
import { startD365Emulator, type D365Emulator } from '@d365-exo-sync/sandbox/d365';
import { runCli, type CliRun } from '../../support/cli.js';

const wired = findPhase('configure-mailboxes') && findPhase('verify');
const skip = wired
  ? false
  : 'configure-mailboxes and verify are not in src/phases/registry.ts yet (the CLI wiring of issue 5)';

describe('D365 mailbox phases through the CLI', { skip }, () => {
  const tls = makeSandboxTls();
  let dir: string;
  let emulator: D365Emulator;
  let env: NodeJS.ProcessEnv;
  let configFile: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'd365-cli-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => emulator?.close());

  async function start(options: Parameters<typeof startD365Emulator>[0]) {
    emulator = await startD365Emulator({ tls, auth: { mode: 'bearer' }, testAndEnable: { delayMs: 0 }, ...options });
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, tls.caPem, { mode: 0o600 });
    env = {
      CRM_SYNC_USER: emulator.users[0]!.username,
      CRM_SYNC_PASSWORD: emulator.users[0]!.password,
      D365_EXO_SYNC_EXTRA_CA: caFile,
    };
    configFile = join(dir, 'config.yml');
    writeFileSync(
      configFile,
      stringify({
        deployment: {
          url: 'https://crm.contoso.com/contoso',
          organization: 'contoso',
          servers: [{ name: 'CRMAPP01', roles: ['web', 'async', 'deployment-tools'] }],
          serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
          webApi: {
            auth: 'adfs-password',
            url: emulator.url,
            tokenEndpoint: emulator.tokenEndpoint,
            clientId: emulator.clientId,
            resource: emulator.resource,
            usernameEnv: 'CRM_SYNC_USER',
            passwordEnv: 'CRM_SYNC_PASSWORD',
          },
        },
        tenant: {
          id: '11111111-2222-3333-4444-555555555555',
          rootDomain: 'contoso.com',
          auth: { method: 'workload-identity', clientId: '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a' },
        },
        email: { mailboxes: { poll: { intervalSeconds: 1, timeoutMinutes: 2 } } },
      }),
    );
  }

  function assertNoSecrets(run: CliRun, recordDir: string) {
    const records = readdirSync(recordDir).map((f) => readFileSync(join(recordDir, f), 'utf8'));
    const text = [run.stdout, run.stderr, ...records].join('\n');
    for (const secret of [emulator.users[0]!.password, ...emulator.issuedTokens])
      assert.ok(!text.includes(secret), 'a secret reached the output or the run record');
  }

  it('first setup, then a rerun that writes nothing, then verify', async () => {
    await start({ mailboxes: 5 });
    const records = join(dir, 'records-1');
    const first = await runCli(
      ['run', '--config', configFile, '--phase', 'configure-mailboxes', '--record-dir', records],
      env,
    );
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /configure-mailboxes \(apply\): succeeded/);
    assert.match(first.stdout, /output organization-id=/);
    assert.equal(emulator.requests.writesBySet.mailboxes, 5);
    assertNoSecrets(first, records);

    emulator.requests.reset();
    const second = await runCli(
      ['run', '--config', configFile, '--phase', 'configure-mailboxes', '--record-dir', records, '--json'],
      env,
    );
    assert.equal(second.code, 0, second.stderr);
    assert.equal(emulator.requests.writes, 0);
    const record = JSON.parse(second.stdout) as { steps: Array<{ status: string }> };
    assert.ok(record.steps.every((s) => s.status === 'unchanged'));

    const verify = await runCli(['run', '--config', configFile, '--phase', 'verify', '--record-dir', records], env);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    assertNoSecrets(verify, records);
  });

  it('partial failures and an EWS-blocked mailbox: exit 1, the others configured, the fix in the record', async () => {
    await start({ mailboxes: 4, testAndEnable: { delayMs: 0, failures: { 'user0002@contoso.com': 'ews-blocked' } } });
    const records = join(dir, 'records-2');
    const run = await runCli(
      ['run', '--config', configFile, '--phase', 'configure-mailboxes', '--record-dir', records, '--json'],
      env,
    );
    assert.equal(run.code, 1);
    const record = JSON.parse(run.stdout) as { steps: Array<{ id: string; status: string; error?: string }> };
    const mailboxes = record.steps.filter((s) => s.id.startsWith('mailbox.'));
    assert.deepEqual(
      mailboxes.filter((s) => s.status === 'failed').map((s) => s.id),
      ['mailbox.user0002@contoso.com'],
    );
    assert.match(mailboxes.find((s) => s.status === 'failed')!.error!, /EwsAllowedAppIDs/);
    assert.equal(mailboxes.filter((s) => s.status === 'changed').length, 3);
    assertNoSecrets(run, records);
  });
});
