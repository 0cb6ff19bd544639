// Preflight's Entra part against the sandbox: read-only, names the missing roles, reports the days
// left on the key in use, on the new certificate and until 2027-04-01.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPreflightPhase } from '../../../src/phases/preflight/preflight-phase.js';
import { entraCheck } from '../../../src/phases/preflight/entra-checks.js';
import { DYNAMICS_APP_ID, type EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { TestHost } from '../../support/test-host.js';
import {
  daysFromNow,
  FULL_ROLES,
  leakedSecrets,
  phaseContext,
  startSandbox,
  TENANT_ID,
  testCertificate,
} from './sandbox.js';

const inUse = testCertificate('pre-in-use', { notBefore: daysFromNow(-300), notAfter: daysFromNow(12) });
const next = testCertificate('pre-next', { notBefore: daysFromNow(-1), notAfter: daysFromNow(199) });

describe('preflight: Entra ID checks', () => {
  let emulator: EntraEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it('all good: signs in, roles present, tenant right, the key in use expiring soon is warned about', async () => {
    emulator = await startSandbox();
    const key = emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: inUse.cert.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const before = emulator.state.snapshot();
    const host = new TestHost();
    const now = new Date();
    const ctx = phaseContext(emulator, host, { certificate: next.input, now });
    assert.equal(entraCheck.applies(ctx), true);
    const { results, outputs } = await entraCheck.run(ctx);
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    assert.deepEqual(
      results.map((r) => [r.id, r.status]),
      [
        ['entra.sign-in', 'unchanged'],
        ['entra.permissions', 'unchanged'],
        ['entra.tenant', 'unchanged'],
        ['entra.service-principal', 'unchanged'],
        ['entra.key-expiry', 'unchanged'],
        // Policy.Read.All is optional and not granted here.
        ['entra.app-management-policy', 'not-checked'],
      ],
    );
    assert.deepEqual(outputs, { 'tenant-id': TENANT_ID });
    const expiry = byId['entra.key-expiry']!;
    assert.equal((expiry.after as { currentKey: { keyId: string } }).currentKey.keyId, key.keyId);
    assert.equal(
      (expiry.after as { newCertificate: { alreadyRegistered: boolean } }).newCertificate.alreadyRegistered,
      false,
    );
    assert.ok(expiry.warnings?.some((w) => new RegExp(`the current key ${key.keyId} expires in \\d+ days?`).test(w)));
    assert.ok(
      byId['entra.service-principal']!.warnings?.some((w) => w.includes(`${DYNAMICS_APP_ID}/*.contoso.com missing`)),
    );
    assert.deepEqual(emulator.state.snapshot(), before);
    assert.equal(emulator.requestsTo('sp-patch').length, 0);
    assert.deepEqual(leakedSecrets(host, emulator), []);
  });

  it('names the missing application permissions from the roles claim', async () => {
    emulator = await startSandbox({ roles: ['Application.Read.All'] });
    const { results } = await entraCheck.run(phaseContext(emulator, new TestHost()));
    const permissions = results.find((r) => r.id === 'entra.permissions')!;
    assert.equal(permissions.status, 'failed');
    assert.match(
      permissions.error ?? '',
      /lacks the application permission\(s\) Application\.ReadWrite\.All \(to update the key credentials/,
    );
    assert.match(permissions.error ?? '', /Organization\.Read\.All \(to read the organization/);
    assert.match(permissions.error ?? '', /its token carries Application\.Read\.All/);
    assert.equal(results.find((r) => r.id === 'entra.tenant')?.status, 'failed');
    assert.equal(results.find((r) => r.id === 'entra.service-principal')?.status, 'unchanged');
  });

  it('a failed sign-in: the Graph checks are not checked (never unchanged)', async () => {
    emulator = await startSandbox();
    const { results } = await entraCheck.run(
      phaseContext(emulator, new TestHost(), { env: { CRM_SYNC_CLIENT_SECRET: 'wrong-secret-value' } }),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['failed', 'not-checked', 'not-checked', 'not-checked', 'not-checked', 'not-checked'],
    );
    assert.match(results[0]!.error ?? '', /AADSTS7000215/);
    assert.equal(emulator.requests.filter((r) => r.server === 'graph').length, 0);
  });

  it('the tenant app management policy: not checked without Policy.Read.All; with it, a key restriction the new certificate breaks is warned about', async () => {
    emulator = await startSandbox();
    const without = await entraCheck.run(phaseContext(emulator, new TestHost()));
    const notChecked = without.results.find((r) => r.id === 'entra.app-management-policy')!;
    assert.equal(notChecked.status, 'not-checked');
    assert.match(notChecked.reason ?? '', /Policy\.Read\.All \(or .*\) \(optional\)/);
    assert.equal(emulator.requestsTo('app-management-policy').length, 0);
    await emulator.close();

    emulator = await startSandbox({ roles: [...FULL_ROLES, 'Policy.Read.All'] });
    emulator.state.defaultAppManagementPolicy = {
      ...emulator.state.defaultAppManagementPolicy,
      isEnabled: true,
      servicePrincipalRestrictions: {
        passwordCredentials: [],
        keyCredentials: [
          {
            restrictionType: 'asymmetricKeyLifetime',
            maxLifetime: 'P90D',
            state: 'enabled',
            restrictForAppsCreatedAfterDateTime: null,
          },
          {
            restrictionType: 'trustedCertificateAuthority',
            state: 'enabled',
            certificateBasedApplicationConfigurationIds: ['eec5ba11-2fc0-4113-83a2-ed986ed13743'],
          },
        ],
      },
    };
    const { results } = await entraCheck.run(phaseContext(emulator, new TestHost(), { certificate: next.input }));
    const policy = results.find((r) => r.id === 'entra.app-management-policy')!;
    assert.equal(policy.status, 'unchanged');
    const warnings = (policy.warnings ?? []).join('\n');
    assert.match(warnings, /at most P90D, the new one lives \d+ days.*register-entra would be refused/);
    assert.match(warnings, /trusted certificate authorities .*eec5ba11/);
    assert.equal(emulator.requestsTo('app-management-policy').length, 1);
  });

  it('no valid key on the service principal is a warning', async () => {
    emulator = await startSandbox();
    const after = new Date(Date.parse('2027-04-04T00:00:00Z'));
    const { results } = await entraCheck.run(phaseContext(emulator, new TestHost(), { now: after }));
    assert.ok(
      results.find((r) => r.id === 'entra.key-expiry')?.warnings?.some((w) => /no valid key credential/.test(w)),
    );
  });

  it('runs inside the preflight phase; its plan is offline', async () => {
    emulator = await startSandbox();
    const phase = createPreflightPhase([entraCheck]);
    const ctx = phaseContext(emulator, new TestHost());
    const steps = await phase.plan(ctx);
    assert.deepEqual(
      steps.map((s) => s.id),
      [
        'entra.sign-in',
        'entra.permissions',
        'entra.tenant',
        'entra.service-principal',
        'entra.key-expiry',
        'entra.app-management-policy',
      ],
    );
    assert.equal(emulator.requests.length, 0);
    const outcome = await phase.apply(ctx);
    assert.equal(outcome.outputs['tenant-id'], TENANT_ID);
    assert.equal(entraCheck.applies(phaseContext(emulator, new TestHost(), { withoutEntra: true })), false);
  });
});
