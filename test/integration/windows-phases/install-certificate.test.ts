// install-certificate through the CLI (in-process), real pwsh, the module and the fake Windows server: plan changes
// nothing, apply installs and reads back, a second apply changes nothing, a renewal removes the older certificate,
// failures fail the run with the module's message, one PowerShell process per run per server, and the PFX password
// is nowhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertNowhere,
  leftoverWorkspaces,
  makeWorkspace,
  newCertificate,
  PFX_PASSWORD,
  requirePwsh,
  runPhaseCli,
  statuses,
  suiteOptions,
  TEST_TIMEOUT,
  type Workspace,
} from './support.js';
import type { TestCertificate } from '../../support/certs.js';
import { FAKE_SERVER_WARNING } from '@d365-exo-sync/sandbox';

const ASYNC_SID = 'S-1-5-21-1004336348-1177238915-682003330-1101';
const WEB_SID = 'S-1-5-21-1004336348-1177238915-682003330-1102';

describe('install-certificate through the CLI with real pwsh and the fake Windows server', suiteOptions(), () => {
  let ws: Workspace;
  let config: string;
  let cert: TestCertificate;
  let pfx: string;

  before(() => {
    requirePwsh();
    ws = makeWorkspace();
    config = ws.config('contoso.yml');
    cert = newCertificate('install-first');
    pfx = ws.pfx('new.pfx', cert);
  });

  after(() => ws?.remove());

  it(
    'plan shows every step with before and after, changes nothing, in one PowerShell process',
    { timeout: TEST_TIMEOUT },
    async () => {
      const server = ws.server('CRMAPP01');
      const run = await runPhaseCli(ws, {
        phase: 'install-certificate',
        config,
        server,
        plan: true,
        pfx,
        set: { server: 'crmapp01' },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.record.mode, 'plan');
      assert.deepEqual(statuses(run), {
        'server.certificate': 'create',
        'server.chain': 'none',
        'server.key-access': 'update',
        'server.iis-binding': 'update',
        'server.remove-older': 'none',
        'server.restart-services': 'update',
      });
      const certificate = run.record.steps[0]!;
      assert.equal(certificate.target, 'CRMAPP01');
      assert.deepEqual((certificate.before as { present: boolean }).present, false);
      assert.deepEqual((certificate.after as { key: { keySpec: string } }).key.keySpec, 'Exchange');
      // The sandbox's entry script marks every result: the record says no real server was touched.
      assert.ok((certificate.note ?? '').includes(FAKE_SERVER_WARNING), certificate.note);
      assert.deepEqual(run.record.steps.find((step) => step.id === 'server.key-access')!.before, {
        'CONTOSO\\svc-crm-async': 'missing',
        'CONTOSO\\svc-crm-web': 'missing',
      });
      assert.deepEqual(run.record.outputs, {});
      // Nothing changed on the server.
      const state = server.read();
      assert.deepEqual(state.store, []);
      assert.equal(state.webBindings[0]!.certificateHash, '');
      assert.equal(server.calls('Restart-Service').length, 0);
      assert.equal(run.spawned, 1);
      assert.equal(server.processes(), 1);
    },
  );

  it(
    'apply imports, grants Read, rebinds IIS, restarts, outputs the thumbprint read back; a second apply changes nothing',
    { timeout: TEST_TIMEOUT },
    async () => {
      const server = ws.server('CRMAPP01');
      const options = { phase: 'install-certificate' as const, config, server, pfx, set: { server: 'CRMAPP01' } };
      const first = await runPhaseCli(ws, options);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.record.status, 'succeeded');
      assert.deepEqual(statuses(first), {
        'server.certificate': 'changed',
        'server.chain': 'unchanged',
        'server.key-access': 'changed',
        'server.iis-binding': 'changed',
        'server.remove-older': 'unchanged',
        'server.restart-services': 'changed',
      });
      assert.deepEqual(first.record.outputs, { thumbprint: cert.thumbprint, 'removed-thumbprints': '' });
      const state = server.read();
      assert.deepEqual(
        state.store.map((entry) => entry.thumbprint),
        [cert.thumbprint],
      );
      const sids = state.store[0]!.rules.map((rule) => rule.sid);
      assert.ok(sids.includes(ASYNC_SID) && sids.includes(WEB_SID), sids.join(', '));
      assert.equal(state.webBindings[0]!.certificateHash, cert.thumbprint);
      const restarted = server.calls('Restart-Service').map((call) => call.args.Name);
      assert.deepEqual(restarted, [['MSCRMAsyncService'], ['MSCRMAsyncService$maintenance']]);
      assert.equal(first.spawned, 1);
      assert.equal(server.processes(), 2);

      const second = await runPhaseCli(ws, options);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(statuses(second), {
        'server.certificate': 'unchanged',
        'server.chain': 'unchanged',
        'server.key-access': 'unchanged',
        'server.iis-binding': 'unchanged',
        'server.remove-older': 'unchanged',
        'server.restart-services': 'skipped',
      });
      assert.ok(second.record.steps.every((step) => step.status !== 'changed'));
      assert.equal(server.calls('Restart-Service').length, 2, 'nothing restarted on the second run');
      assert.equal(server.calls('Add-D365MachineCertificate').length, 1, 'imported once');
      assert.equal(second.record.outputs.thumbprint, cert.thumbprint);
      assert.equal(second.spawned, 1);
      assert.equal(server.processes(), 3);
    },
  );

  it(
    'a renewal with the same subject removes the older certificate and names it in removed-thumbprints',
    { timeout: TEST_TIMEOUT },
    async () => {
      const server = ws.server('CRMAPP01');
      const renewed = newCertificate('install-renewed');
      const plan = await runPhaseCli(ws, {
        phase: 'install-certificate',
        config,
        server,
        plan: true,
        pfx: ws.pfx('renewed.pfx', renewed),
        set: { server: 'CRMAPP01' },
      });
      assert.equal(plan.code, 0, plan.stderr);
      assert.equal(statuses(plan)['server.remove-older'], 'delete');
      assert.deepEqual(
        (plan.record.steps.find((s) => s.id === 'server.remove-older')!.before as { thumbprint: string }[]).map(
          (c) => c.thumbprint,
        ),
        [cert.thumbprint],
      );
      const run = await runPhaseCli(ws, {
        phase: 'install-certificate',
        config,
        server,
        pfx: ws.pfx('renewed.pfx', renewed),
        set: { server: 'CRMAPP01' },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(statuses(run)['server.remove-older'], 'changed');
      assert.deepEqual(run.record.outputs, { thumbprint: renewed.thumbprint, 'removed-thumbprints': cert.thumbprint });
      assert.deepEqual(
        server.read().store.map((entry) => entry.thumbprint),
        [renewed.thumbprint],
      );
      assert.equal(server.read().webBindings[0]!.certificateHash, renewed.thumbprint);
    },
  );

  it(
    'on the other server, named by COMPUTERNAME: its own process, no IIS binding without the web role',
    { timeout: TEST_TIMEOUT },
    async () => {
      const server = ws.server('CRMASYNC01');
      const run = await runPhaseCli(ws, {
        phase: 'install-certificate',
        config,
        server,
        pfx,
        env: { COMPUTERNAME: 'crmasync01' },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.record.steps[0]!.target, 'CRMASYNC01');
      assert.equal(statuses(run)['server.iis-binding'], 'skipped');
      assert.match(
        JSON.stringify(run.record.steps.find((s) => s.id === 'server.iis-binding')!.evidence),
        /CRMASYNC01 has no web role/,
      );
      assert.equal(server.read().webBindings[0]!.certificateHash, '');
      assert.deepEqual(
        server.read().store.map((entry) => entry.thumbprint),
        [cert.thumbprint],
      );
      assert.equal(run.spawned, 1);
      assert.equal(server.processes(), 1);
      assert.equal(ws.server('CRMAPP01').processes(), 5, 'the other server saw no process of this run');
    },
  );

  it('refuses a server the config does not list, with the fix, before any PowerShell starts', async () => {
    const server = ws.server('WEB99');
    const run = await runPhaseCli(ws, { phase: 'install-certificate', config, server, pfx, set: { server: 'web99' } });
    assert.equal(run.code, 1);
    assert.match(run.record.error!, /WEB99 \(the input server\) is not one of them/);
    assert.match(run.record.error!, /CRMAPP01, CRMASYNC01/);
    assert.match(run.record.error!, /--set server=NAME/);
    assert.equal(run.spawned, 0);
    assert.equal(server.exists(), false);
  });

  it('refuses to run without the PFX', async () => {
    const run = await runPhaseCli(ws, {
      phase: 'install-certificate',
      config,
      server: ws.server('CRMAPP01'),
      set: { server: 'CRMAPP01' },
    });
    assert.equal(run.code, 1);
    assert.match(run.record.error!, /needs the new certificate: pass the PFX/);
    assert.equal(run.spawned, 0);
  });

  it(
    'a key that lands in CNG fails the run with the module message, and the certificate is not left behind',
    { timeout: TEST_TIMEOUT },
    async () => {
      const server = ws.server('CRMCNG01');
      const cngConfig = ws.config('cng.yml', (doc) => {
        doc.deployment.servers.push({ name: 'CRMCNG01', roles: ['web'] });
      });
      const plan = await runPhaseCli(ws, {
        phase: 'install-certificate',
        config: cngConfig,
        server,
        plan: true,
        pfx,
        set: { server: 'CRMCNG01' },
      });
      assert.equal(plan.code, 0, plan.stderr);
      server.edit((state) => {
        state.pfxKey = { provider: 'Microsoft Software Key Storage Provider', providerType: 0, keyNumber: 'None' };
      });
      const run = await runPhaseCli(ws, {
        phase: 'install-certificate',
        config: cngConfig,
        server,
        pfx,
        set: { server: 'CRMCNG01' },
      });
      assert.equal(run.code, 1);
      assert.equal(run.record.status, 'failed');
      assert.match(run.stderr, /Invalid provider type specified/);
      const failed = run.record.steps.find((s) => s.status === 'failed')!;
      assert.equal(failed.id, 'server.certificate');
      assert.match(failed.error!, /Invalid provider type specified.*removed from LocalMachine\\My again/s);
      assert.match(run.record.error!, /Invalid provider type specified/);
      assert.deepEqual(
        run.record.steps.slice(1).map((s) => s.status),
        ['skipped', 'skipped', 'skipped', 'skipped', 'skipped'],
      );
      assert.deepEqual(server.read().store, []);
      assert.deepEqual(run.record.outputs, {});
      assert.equal(run.spawned, 1);
    },
  );

  it('the PFX password is in no output, record or temporary file, and no private folder is left', () => {
    assert.ok(ws.transcripts.length >= 16);
    assertNowhere(ws, PFX_PASSWORD, 'the PFX password');
    assert.deepEqual(leftoverWorkspaces(ws), []);
  });
});
