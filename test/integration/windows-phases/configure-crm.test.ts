// configure-crm through the CLI (in-process), real pwsh, the module and the fake Windows server (CRM snap-in, the
// fake CertificateReconfiguration.ps1 in the fake server's Tools folder): plan changes nothing, apply sets and reads
// back every value, a second apply changes nothing, the Deployment Administrator check fails the run naming the
// account, the server must have the deployment-tools role, and the password the script receives is masked.
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
  TENANT_ID,
  TEST_TIMEOUT,
  type Workspace,
} from './support.js';
import type { TestCertificate } from '../../support/certs.js';

const METADATA_URL = 'https://accounts.accesscontrol.windows.net/metadata/json/1';

describe('configure-crm through the CLI with real pwsh and the fake Windows server', suiteOptions(), () => {
  let ws: Workspace;
  let config: string;
  let cert: TestCertificate;
  let pfx: string;

  before(() => {
    requirePwsh();
    ws = makeWorkspace();
    config = ws.config('contoso.yml');
    cert = newCertificate('crm');
    pfx = ws.pfx('new.pfx', cert);
  });

  after(() => ws?.remove());

  it('plan shows each step with before and after and changes nothing', { timeout: TEST_TIMEOUT }, async () => {
    const server = ws.server('CRMAPP01');
    const run = await runPhaseCli(ws, {
      phase: 'configure-crm',
      config,
      server,
      plan: true,
      pfx,
      env: { COMPUTERNAME: 'CRMAPP01' },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(statuses(run), {
      'crm.snap-in': 'check',
      'crm.deployment-administrator': 'check',
      'crm.s2s-certificate': 'create',
      'crm.server-settings': 'update',
      'crm.organization-tenant': 'update',
      'crm.oauth-claims': 'update',
      'crm.restart-services': 'update',
      'crm.read-back': 'check',
    });
    const settings = run.record.steps.find((s) => s.id === 'crm.server-settings')!;
    assert.deepEqual(settings.after, {
      S2SDefaultAuthorizationServerPrincipalId: '00000001-0000-0000-c000-000000000000',
      S2SDefaultAuthorizationServerMetadataUrl: METADATA_URL,
    });
    assert.deepEqual(run.record.steps.find((s) => s.id === 'crm.s2s-certificate')!.after, {
      thumbprints: [cert.thumbprint],
    });
    const state = server.read();
    assert.deepEqual(state.crm.certificates, []);
    assert.deepEqual(state.crm.serverSettings, {});
    assert.equal(state.crm.oauthClaims, false);
    assert.equal(server.calls('CertificateReconfiguration.ps1').length, 0);
    assert.equal(run.spawned, 1);
    assert.equal(server.processes(), 1);
  });

  it(
    'apply runs CertificateReconfiguration.ps1 once, sets everything, reads it back and outputs it; a second apply changes nothing',
    { timeout: TEST_TIMEOUT },
    async () => {
      const server = ws.server('CRMAPP01');
      const first = await runPhaseCli(ws, {
        phase: 'configure-crm',
        config,
        server,
        pfx,
        set: { server: 'CRMAPP01', 'tenant-id': TENANT_ID, thumbprint: cert.thumbprint.toLowerCase() },
      });
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(first.record.outputs, {
        thumbprint: cert.thumbprint,
        'organization-id': ORG_ID,
        'tenant-id': TENANT_ID,
      });
      assert.equal(statuses(first)['crm.s2s-certificate'], 'changed');
      const reconfiguration = server.calls('CertificateReconfiguration.ps1');
      assert.equal(reconfiguration.length, 1);
      assert.deepEqual(
        { ...reconfiguration[0]!.args, certificateFile: undefined },
        {
          certificateFile: undefined,
          certificateType: 'S2STokenIssuer',
          serviceAccount: 'CONTOSO\\svc-crm-async',
          updateCrm: true,
          storeFindType: 'FindBySubjectDistinguishedName',
        },
      );
      const state = server.read();
      assert.equal(state.crm.serverSettings.S2SDefaultAuthorizationServerMetadataUrl, METADATA_URL);
      assert.equal(state.crm.orgSettings[ORG_ID]!.S2STenantId, TENANT_ID);
      assert.equal(state.crm.oauthClaims, true);
      // The script echoed the password it got, through the host and straight to the console: both lines masked.
      assert.match(first.stderr, /CertificateReconfiguration: Installing certificate from .* with password \*\*\*/);
      assert.match(first.stderr, /^certutil-like output: -p \*\*\*$/m);
      assert.equal(first.spawned, 1);

      const second = await runPhaseCli(ws, {
        phase: 'configure-crm',
        config,
        server,
        pfx,
        set: { server: 'CRMAPP01' },
      });
      assert.equal(second.code, 0, second.stderr);
      assert.ok(
        second.record.steps.every((s) => s.status === 'unchanged' || s.status === 'skipped'),
        JSON.stringify(statuses(second)),
      );
      assert.equal(server.calls('CertificateReconfiguration.ps1').length, 1, 'the script ran once');
      assert.deepEqual(second.record.outputs, first.record.outputs);

      // Without the PFX, the thumbprint of register-entra is enough while nothing needs the script.
      const check = await runPhaseCli(ws, {
        phase: 'configure-crm',
        config,
        server,
        set: { server: 'CRMAPP01', thumbprint: cert.thumbprint },
      });
      assert.equal(check.code, 0, check.stderr);
      assert.equal(statuses(check)['crm.s2s-certificate'], 'unchanged');
      assert.equal(server.processes(), 4);
    },
  );

  it(
    'the tenant id comes from the tenant-id input when the config names the tenant by domain',
    { timeout: TEST_TIMEOUT },
    async () => {
      const byDomain = ws.config('by-domain.yml', (doc) => {
        delete doc.tenant.id;
        doc.tenant.domain = 'contoso.onmicrosoft.com';
      });
      const server = ws.server('CRMDOMAIN');
      const missing = await runPhaseCli(ws, {
        phase: 'configure-crm',
        config: byDomain,
        server,
        pfx,
        set: { server: 'CRMAPP01' },
      });
      assert.equal(missing.code, 1);
      assert.match(missing.record.error!, /needs the Entra tenant id: pass tenant-id .*--set tenant-id=GUID/);
      assert.equal(missing.spawned, 0);

      const other = '99999999-8888-7777-6666-555555555555';
      const run = await runPhaseCli(ws, {
        phase: 'configure-crm',
        config: byDomain,
        server,
        pfx,
        set: { server: 'CRMAPP01', 'tenant-id': other },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.record.outputs['tenant-id'], other);
      assert.equal(server.read().crm.orgSettings[ORG_ID]!.S2STenantId, other);
    },
  );

  it('refuses a tenant-id other than the configured one, and a thumbprint that is not the PFX', async () => {
    const server = ws.server('CRMAPP01');
    const tenant = await runPhaseCli(ws, {
      phase: 'configure-crm',
      config,
      server,
      pfx,
      set: { server: 'CRMAPP01', 'tenant-id': '99999999-8888-7777-6666-555555555555' },
    });
    assert.equal(tenant.code, 1);
    assert.match(tenant.record.error!, /is not the configured tenant\.id 11111111/);
    const thumbprint = await runPhaseCli(ws, {
      phase: 'configure-crm',
      config,
      server,
      pfx,
      set: { server: 'CRMAPP01', thumbprint: 'AB'.repeat(20) },
    });
    assert.equal(thumbprint.code, 1);
    assert.match(thumbprint.record.error!, /is not the certificate given/);
    assert.equal(tenant.spawned + thumbprint.spawned, 0);
  });

  it('refuses a server without the deployment-tools role and names the one that has it', async () => {
    const run = await runPhaseCli(ws, {
      phase: 'configure-crm',
      config,
      server: ws.server('CRMASYNC01'),
      pfx,
      env: { COMPUTERNAME: 'CRMASYNC01' },
    });
    assert.equal(run.code, 1);
    assert.match(
      run.record.error!,
      /deployment-tools role \(CRMAPP01\); CRMASYNC01 has the role\(s\) async: run it on CRMAPP01/,
    );
    assert.equal(run.spawned, 0);
  });

  it(
    'a caller who is not a Deployment Administrator fails plan and apply, naming the account, before anything changes',
    { timeout: TEST_TIMEOUT },
    async () => {
      const server = ws.server('CRMNOADMIN');
      const options = { phase: 'configure-crm' as const, config, server, pfx, set: { server: 'CRMAPP01' } };
      const plan = await runPhaseCli(ws, { ...options, plan: true });
      assert.equal(plan.code, 0, plan.stderr);
      server.edit((state) => {
        state.identity = 'CONTOSO\\svc-runner';
      });
      const planAgain = await runPhaseCli(ws, { ...options, plan: true });
      assert.equal(planAgain.code, 1);
      assert.match(
        planAgain.record.error!,
        /'CONTOSO\\svc-runner' running this step is not a Dynamics 365 Deployment Administrator/,
      );

      const run = await runPhaseCli(ws, options);
      assert.equal(run.code, 1);
      assert.equal(run.record.status, 'failed');
      const failed = run.record.steps.find((s) => s.status === 'failed')!;
      assert.equal(failed.id, 'crm.deployment-administrator');
      assert.match(
        failed.error!,
        /'CONTOSO\\svc-runner' running this step is not a Dynamics 365 Deployment Administrator/,
      );
      assert.match(failed.error!, /New-CrmDeploymentAdministrator -Name 'CONTOSO\\svc-runner'/);
      assert.match(run.record.error!, /not a Dynamics 365 Deployment Administrator/);
      assert.deepEqual(
        run.record.steps.map((s) => s.status),
        ['unchanged', 'failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped'],
      );
      const state = server.read();
      assert.deepEqual(state.crm.certificates, []);
      assert.deepEqual(state.crm.serverSettings, {});
      assert.equal(server.calls('CertificateReconfiguration.ps1').length, 0);
      assert.equal(run.spawned, 1);
    },
  );

  it('the PFX password is in no output, record or temporary file, and no private folder is left', () => {
    assertNowhere(ws, PFX_PASSWORD, 'the PFX password');
    assert.deepEqual(leftoverWorkspaces(ws), []);
  });
});
