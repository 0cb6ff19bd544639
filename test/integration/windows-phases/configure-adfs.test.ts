// configure-adfs through the CLI (in-process), real pwsh, the module and the fake AD FS server: the organization id
// is required for the App for Outlook client, plan changes nothing, apply registers and reads back, a second apply
// changes nothing, the optional SSL certificate needs install-certificate on the AD FS server first (a failure that
// names it), and the phase runs only on adfs.server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertNowhere,
  leftoverWorkspaces,
  makeWorkspace,
  newCertificate,
  ORG_ID,
  PFX_PASSWORD,
  requirePwsh,
  runPhaseCli,
  statuses,
  suiteOptions,
  TEST_TIMEOUT,
  type Workspace,
} from './support.js';

const REDIRECT = 'https://crm.contoso.com/crmmailapp/code_auth.aspx';
const IFD_IDENTIFIER = 'https://auth.contoso.com:444/';

describe('configure-adfs through the CLI with real pwsh and the fake AD FS server', suiteOptions(), () => {
  let ws: Workspace;
  let config: string;

  before(() => {
    requirePwsh();
    ws = makeWorkspace();
    config = ws.config('contoso.yml');
  });

  after(() => ws?.remove());

  it('needs the organization id for the App for Outlook client, and says where it comes from', async () => {
    const run = await runPhaseCli(ws, {
      phase: 'configure-adfs',
      config,
      server: ws.server('ADFS01'),
      env: { COMPUTERNAME: 'ADFS01' },
    });
    assert.equal(run.code, 1);
    assert.match(
      run.record.error!,
      /needs the D365 organization id.*--set organization-id=GUID.*adfs\.outlookApp: false/,
    );
    assert.equal(run.spawned, 0);
  });

  it('runs only on adfs.server', async () => {
    const run = await runPhaseCli(ws, {
      phase: 'configure-adfs',
      config,
      server: ws.server('ADFS01'),
      set: { 'organization-id': ORG_ID },
      env: { COMPUTERNAME: 'CRMAPP01' },
    });
    assert.equal(run.code, 1);
    assert.match(run.record.error!, /adfs\.server: ADFS01\), but CRMAPP01 \(this computer's name\) is not it/);
    assert.equal(run.spawned, 0);
  });

  it(
    'plan changes nothing; apply enables forms authentication, registers the client, grants the permission; again: nothing',
    { timeout: TEST_TIMEOUT },
    async () => {
      const server = ws.server('ADFS01');
      const options = {
        phase: 'configure-adfs' as const,
        config,
        server,
        set: { 'organization-id': ORG_ID.toUpperCase() },
        env: { COMPUTERNAME: 'adfs01' },
      };
      const plan = await runPhaseCli(ws, { ...options, plan: true });
      assert.equal(plan.code, 0, plan.stderr);
      assert.deepEqual(statuses(plan), {
        'adfs.adfs-module': 'check',
        'adfs.forms-authentication': 'update',
        'adfs.outlook-client': 'create',
        'adfs.application-permission': 'update',
        'adfs.adfs-certificate': 'none',
        'adfs.relying-party-trusts': 'none',
        'adfs.restart-services': 'update',
      });
      const client = plan.record.steps.find((s) => s.id === 'adfs.outlook-client')!;
      assert.deepEqual(client.before, null);
      assert.deepEqual((client.after as { redirectUri: string[] }).redirectUri, [REDIRECT]);
      assert.match(
        plan.record.steps.find((s) => s.id === 'adfs.adfs-certificate')!.note!,
        /adfs\.updateSslCertificate: false/,
      );
      let state = server.read();
      assert.deepEqual(state.adfs.clients, []);
      assert.deepEqual(state.adfs.intranet, ['WindowsAuthentication']);
      assert.equal(plan.spawned, 1);

      const run = await runPhaseCli(ws, options);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.record.outputs, { 'outlook-client-id': ORG_ID, 'outlook-redirect-uri': REDIRECT });
      state = server.read();
      assert.deepEqual(state.adfs.intranet, ['WindowsAuthentication', 'FormsAuthentication']);
      assert.deepEqual(
        state.adfs.clients.map((c) => [c.clientId, c.redirectUri]),
        [[ORG_ID, [REDIRECT]]],
      );
      assert.deepEqual(
        (state.adfs as unknown as { permissions: { client: string; server: string }[] }).permissions.map((p) => [
          p.client,
          p.server,
        ]),
        [[ORG_ID, IFD_IDENTIFIER]],
      );
      assert.deepEqual(
        server.calls('Restart-Service').map((c) => c.args.Name),
        [['adfssrv']],
      );
      assert.equal(run.spawned, 1);

      const again = await runPhaseCli(ws, options);
      assert.equal(again.code, 0, again.stderr);
      assert.ok(
        again.record.steps.every((s) => s.status === 'unchanged' || s.status === 'skipped'),
        JSON.stringify(statuses(again)),
      );
      assert.equal(server.calls('Add-AdfsClient').length, 1);
      assert.equal(server.calls('Restart-Service').length, 1);
      assert.equal(server.processes(), 3);
    },
  );

  it(
    'the SSL certificate: a failure names install-certificate; after it ran on the AD FS server, AD FS uses the certificate',
    { timeout: TEST_TIMEOUT },
    async () => {
      const sslConfig = ws.config('ssl.yml', (doc) => {
        doc.adfs.updateSslCertificate = true;
      });
      const cert = newCertificate('adfs-ssl');
      const server = ws.server('ADFS01-ssl');
      const adfs = {
        phase: 'configure-adfs' as const,
        config: sslConfig,
        server,
        set: { server: 'ADFS01', 'organization-id': ORG_ID, thumbprint: cert.thumbprint },
      };
      const early = await runPhaseCli(ws, adfs);
      assert.equal(early.code, 1);
      assert.deepEqual(
        early.record.steps.map((s) => [s.id, s.status]),
        [
          ['adfs.adfs-module', 'unchanged'],
          ['adfs.forms-authentication', 'changed'],
          ['adfs.outlook-client', 'changed'],
          ['adfs.application-permission', 'changed'],
          ['adfs.adfs-certificate', 'failed'],
          ['adfs.relying-party-trusts', 'skipped'],
          ['adfs.restart-services', 'skipped'],
        ],
      );
      const failed = early.record.steps.find((s) => s.status === 'failed')!;
      assert.match(
        failed.error!,
        /is not in LocalMachine\\My on this AD FS server: install it first \(install-certificate\)/,
      );
      assert.match(early.record.error!, /install it first/);
      assert.equal(early.spawned, 1);

      const install = await runPhaseCli(ws, {
        phase: 'install-certificate',
        config: sslConfig,
        server,
        pfx: ws.pfx('adfs.pfx', cert),
        set: { server: 'adfs01' },
      });
      assert.equal(install.code, 0, install.stderr);
      assert.deepEqual(statuses(install), {
        'server.certificate': 'changed',
        'server.chain': 'unchanged',
        'server.key-access': 'changed',
        'server.iis-binding': 'skipped',
        'server.remove-older': 'skipped',
        'server.restart-services': 'skipped',
      });
      assert.deepEqual(install.record.steps.find((s) => s.id === 'server.key-access')!.after, {
        'NT SERVICE\\adfssrv': 'allowed',
      });
      assert.equal(install.record.outputs.thumbprint, cert.thumbprint);

      const run = await runPhaseCli(ws, adfs);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(statuses(run)['adfs.adfs-certificate'], 'changed');
      const state = server.read();
      assert.equal((state.adfs as unknown as { serviceCommunications: string }).serviceCommunications, cert.thumbprint);
      assert.deepEqual(
        (state.adfs as unknown as { ssl: { hash: string }[] }).ssl.map((b) => b.hash),
        [cert.thumbprint],
      );
      assert.equal(run.spawned, 1);
      assert.equal(server.processes(), 3, 'one PowerShell process per run on this server');
    },
  );

  it('without an adfs section there is nothing to do, and no PowerShell starts', async () => {
    const noAdfs = ws.config('no-adfs.yml', (doc) => {
      delete doc.adfs;
    });
    for (const plan of [true, false]) {
      const run = await runPhaseCli(ws, { phase: 'configure-adfs', config: noAdfs, server: ws.server('NONE'), plan });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(
        run.record.steps.map((s) => [s.id, s.status ?? s.action]),
        [['adfs.configuration', plan ? 'none' : 'skipped']],
      );
      assert.equal(run.spawned, 0);
    }
  });

  it('the PFX password is in no output, record or temporary file, and no private folder is left', () => {
    assertNowhere(ws, PFX_PASSWORD, 'the PFX password');
    assert.deepEqual(leftoverWorkspaces(ws), []);
  });
});
