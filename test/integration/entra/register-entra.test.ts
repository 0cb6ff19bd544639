// register-entra against the sandbox: each test asserts the sandbox's final key list and names, the
// requests sent (shapes per microsoft-facts §1.7 and the Addendum), and that no secret reached the output.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { registerEntraPhase } from '../../../src/phases/register-entra.js';
import { DYNAMICS_APP_ID, type EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { TestHost } from '../../support/test-host.js';
import {
  daysFromNow,
  leakedSecrets,
  phaseContext,
  sandboxConfig,
  startSandbox,
  testCertificate,
  TENANT_ID,
} from './sandbox.js';

const current = testCertificate('reg-current', { notBefore: daysFromNow(-1), notAfter: daysFromNow(180) });
const previous = testCertificate('reg-previous', { notBefore: daysFromNow(-190), notAfter: daysFromNow(10) });
const foreign = testCertificate('reg-foreign', { notBefore: daysFromNow(-30), notAfter: daysFromNow(300) });
const expired = testCertificate('reg-expired', { notBefore: daysFromNow(-400), notAfter: daysFromNow(-20) });
const DOMAIN_SPN = `${DYNAMICS_APP_ID}/*.contoso.com`;

const patches = (emulator: EntraEmulator) => emulator.requestsTo('sp-patch');
const thumbprintOf = (key: { key: string }) =>
  createHash('sha1').update(Buffer.from(key.key, 'base64')).digest('hex').toUpperCase();

describe('register-entra', () => {
  let emulator: EntraEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it('first setup with no keys: adds the certificate with explicit dates and our mark, ensures both names', async () => {
    emulator = await startSandbox();
    const host = new TestHost();
    const ctx = phaseContext(emulator, host, { certificate: current.input });
    const outcome = await registerEntraPhase.apply(ctx);

    assert.deepEqual(
      outcome.results.map((r) => [r.id, r.status]),
      [
        ['entra.tenant', 'unchanged'],
        ['entra.service-principal', 'unchanged'],
        ['entra.key-credential', 'changed'],
        ['entra.service-principal-names', 'changed'],
      ],
    );
    const sp = emulator.state.dynamics();
    assert.equal(sp.keyCredentials.length, 1);
    const key = sp.keyCredentials[0]!;
    assert.equal(thumbprintOf(key), current.cert.thumbprint);
    assert.equal(key.type, 'AsymmetricX509Cert');
    assert.equal(key.usage, 'Verify');
    assert.equal(
      Buffer.from(key.customKeyIdentifier!, 'base64').toString('hex').toUpperCase(),
      current.cert.thumbprint,
    );
    assert.equal(
      Date.parse(key.startDateTime),
      Math.floor(new Date(current.cert.x509.validFrom).getTime() / 1000) * 1000,
    );
    assert.equal(Date.parse(key.endDateTime), Math.floor(new Date(current.cert.x509.validTo).getTime() / 1000) * 1000);
    assert.match(key.displayName ?? '', new RegExp(`^d365-exo-sync ${current.cert.thumbprint} \\d{4}-\\d\\d-\\d\\d$`));
    assert.deepEqual(sp.servicePrincipalNames, [DYNAMICS_APP_ID, DOMAIN_SPN]);
    assert.deepEqual(outcome.outputs, {
      'tenant-id': TENANT_ID,
      'key-id': key.keyId,
      thumbprint: current.cert.thumbprint,
    });

    // Request shapes: the key PATCH carries exactly the documented fields, no keyId; names go separately.
    const [keyPatch, namePatch] = patches(emulator);
    const body = keyPatch!.json as { keyCredentials: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(body), ['keyCredentials']);
    assert.deepEqual(Object.keys(body.keyCredentials[0]!).sort(), [
      'customKeyIdentifier',
      'displayName',
      'endDateTime',
      'key',
      'startDateTime',
      'type',
      'usage',
    ]);
    assert.match(String(body.keyCredentials[0]!.endDateTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(namePatch!.json, { servicePrincipalNames: [DYNAMICS_APP_ID, DOMAIN_SPN] });
    assert.equal(keyPatch!.headers['content-type'], 'application/json');
    assert.match(keyPatch!.headers['client-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    // The service principal is found by $filter, verified by the single-object read that returns `key`.
    const list = emulator.requestsTo('sp-list')[0]!;
    assert.equal(list.query.$filter, `appId eq '${DYNAMICS_APP_ID}'`);
    const reads = emulator.requestsTo('sp-get').filter((r) => r.seq > keyPatch!.seq && r.seq < namePatch!.seq);
    assert.ok(reads.length >= 1);
    assert.equal(reads[0]!.query.$select, 'keyCredentials');
    assert.equal(emulator.requestsTo('organization').length, 1);
    assert.deepEqual(leakedSecrets(host, emulator), []);
  });

  it('renewal with one old key: keeps it exactly as it was (resent without key and displayName) and adds the new one', async () => {
    emulator = await startSandbox({
      servicePrincipals: [{ appId: DYNAMICS_APP_ID, servicePrincipalNames: [DYNAMICS_APP_ID, DOMAIN_SPN] }],
    });
    const old = emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: previous.cert.x509,
      displayName: `d365-exo-sync ${previous.cert.thumbprint} 2026-05-20`,
    });
    const before = structuredClone(old);
    const host = new TestHost();
    const outcome = await registerEntraPhase.apply(phaseContext(emulator, host, { certificate: current.input }));

    const keys = emulator.state.dynamics().keyCredentials;
    assert.equal(keys.length, 2);
    assert.deepEqual(keys[0], before);
    assert.equal(thumbprintOf(keys[1]!), current.cert.thumbprint);
    const sent = (patches(emulator)[0]!.json as { keyCredentials: Record<string, unknown>[] }).keyCredentials;
    assert.deepEqual(sent[0], {
      customKeyIdentifier: before.customKeyIdentifier,
      endDateTime: before.endDateTime,
      keyId: before.keyId,
      startDateTime: before.startDateTime,
      type: 'AsymmetricX509Cert',
      usage: 'Verify',
    });
    // Names were already right: one PATCH only, the key one.
    assert.equal(patches(emulator).length, 1);
    assert.equal(outcome.results.find((r) => r.id === 'entra.service-principal-names')?.status, 'unchanged');
    assert.equal(outcome.outputs['key-id'], keys[1]!.keyId);
  });

  it('rerun: the same certificate is found by its key, nothing is sent, the outputs are the same', async () => {
    emulator = await startSandbox();
    const first = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { certificate: current.input }),
    );
    const sentBefore = patches(emulator).length;
    const state = emulator.state.snapshot();
    const host = new TestHost();
    const second = await registerEntraPhase.apply(phaseContext(emulator, host, { certificate: current.input }));
    assert.equal(patches(emulator).length, sentBefore);
    assert.deepEqual(emulator.state.snapshot(), state);
    assert.ok(second.results.every((r) => r.status === 'unchanged'));
    assert.deepEqual(second.outputs, first.outputs);
  });

  it('a key added by someone else is left alone, also one for the same certificate stored in another form', async () => {
    emulator = await startSandbox();
    const theirs = emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: foreign.cert.x509,
      displayName: 'CN=crm.contoso.com, O=Contoso',
    });
    const theirsBefore = structuredClone(theirs);
    await registerEntraPhase.apply(phaseContext(emulator, new TestHost(), { certificate: current.input }));
    const keys = emulator.state.dynamics().keyCredentials;
    assert.deepEqual(keys[0], theirsBefore);
    assert.equal(keys.length, 2);

    // Microsoft's script (or the how-to page) already added the current certificate, with the hex text as identifier.
    await emulator.close();
    emulator = await startSandbox();
    const same = emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: current.cert.x509,
      displayName: 'CN=crm.contoso.com',
      customKeyIdentifier: current.cert.thumbprint,
    });
    const outcome = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { certificate: current.input }),
    );
    assert.equal(
      emulator.requestsTo('sp-patch').filter((r) => r.json && 'keyCredentials' in (r.json as object)).length,
      0,
    );
    assert.equal(emulator.state.dynamics().keyCredentials.length, 1);
    assert.equal(outcome.outputs['key-id'], same.keyId);
  });

  it('an expired key of someone else is kept (register never drops a key)', async () => {
    emulator = await startSandbox();
    const old = emulator.state.addKeyCredential(DYNAMICS_APP_ID, { certificate: expired.cert.x509 });
    await registerEntraPhase.apply(phaseContext(emulator, new TestHost(), { certificate: current.input }));
    const ids = emulator.state.dynamics().keyCredentials.map((k) => k.keyId);
    assert.ok(ids.includes(old.keyId));
    assert.equal(ids.length, 2);
  });

  it('an expired new certificate is refused before anything is sent', async () => {
    emulator = await startSandbox();
    const outcome = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { certificate: expired.input }),
    );
    const key = outcome.results.find((r) => r.id === 'entra.key-credential')!;
    assert.equal(key.status, 'failed');
    assert.match(key.error ?? '', /expired on/);
    assert.equal(emulator.requests.length, 0);
    assert.deepEqual(outcome.outputs, {});
  });

  it('wrong tenant: stops before any change and names both tenants', async () => {
    const other = '99999999-8888-7777-6666-555555555555';
    emulator = await startSandbox({ tenantAliases: [other] });
    const config = sandboxConfig(emulator, { id: other });
    const outcome = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { config, certificate: current.input }),
    );
    const tenant = outcome.results.find((r) => r.id === 'entra.tenant')!;
    assert.equal(tenant.status, 'failed');
    assert.match(
      tenant.error ?? '',
      new RegExp(
        `wrong tenant: the config names tenant.id ${other}, but Microsoft Graph answers for tenant ${TENANT_ID}`,
      ),
    );
    assert.ok(outcome.results.filter((r) => r.id !== 'entra.tenant').every((r) => r.status === 'skipped'));
    assert.equal(patches(emulator).length, 0);
    assert.equal(emulator.state.dynamics().keyCredentials.length, 0);

    const byDomain = sandboxConfig(emulator, { id: undefined, domain: 'fabrikam.onmicrosoft.com' });
    await emulator.close();
    emulator = await startSandbox({ tenantAliases: ['fabrikam.onmicrosoft.com'] });
    const again = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), {
        config: sandboxConfig(emulator, { id: undefined, domain: 'fabrikam.onmicrosoft.com' }),
        certificate: current.input,
      }),
    );
    assert.ok(byDomain.tenant.domain);
    assert.match(
      again.results.find((r) => r.id === 'entra.tenant')?.error ?? '',
      /fabrikam\.onmicrosoft\.com, which is not a verified domain/,
    );
    assert.equal(patches(emulator).length, 0);
  });

  it('missing Application.ReadWrite.All: the PATCH is refused, the message names the permission, the keys are intact', async () => {
    emulator = await startSandbox({ roles: ['Application.Read.All', 'Organization.Read.All'] });
    const theirs = emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: foreign.cert.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const before = emulator.state.snapshot();
    const host = new TestHost();
    const outcome = await registerEntraPhase.apply(phaseContext(emulator, host, { certificate: current.input }));
    const key = outcome.results.find((r) => r.id === 'entra.key-credential')!;
    assert.equal(key.status, 'failed');
    assert.match(key.error ?? '', /HTTP 403 Authorization_RequestDenied/);
    assert.match(key.error ?? '', /needs the application permission Application\.ReadWrite\.All/);
    assert.match(key.error ?? '', /carries Application\.Read\.All, Organization\.Read\.All/);
    const patch = patches(emulator)[0]!;
    assert.match(key.error ?? '', new RegExp(`request-id ${patch.requestId}`));
    assert.deepEqual(key.evidence, { keysReadAfterFailure: 1, previousKeysIntact: true });
    assert.deepEqual(emulator.state.snapshot(), before);
    assert.equal(emulator.state.dynamics().keyCredentials[0]!.keyId, theirs.keyId);
    assert.deepEqual(outcome.outputs, {});
    assert.deepEqual(leakedSecrets(host, emulator), []);
  });

  it('missing Organization.Read.All: the tenant read is refused and the message names it', async () => {
    emulator = await startSandbox({ roles: ['Application.ReadWrite.All'] });
    const outcome = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { certificate: current.input }),
    );
    const tenant = outcome.results.find((r) => r.id === 'entra.tenant')!;
    assert.equal(tenant.status, 'failed');
    assert.match(tenant.error ?? '', /read the organization/);
    assert.match(tenant.error ?? '', /Organization\.Read\.All/);
    assert.equal(patches(emulator).length, 0);
  });

  it('no Dynamics CRM service principal in the tenant: fails clearly, changes nothing', async () => {
    emulator = await startSandbox({ servicePrincipals: [] });
    const outcome = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { certificate: current.input }),
    );
    const sp = outcome.results.find((r) => r.id === 'entra.service-principal')!;
    assert.equal(sp.status, 'failed');
    assert.match(sp.error ?? '', /has no service principal for Dynamics CRM/);
    assert.equal(patches(emulator).length, 0);
  });

  it('ensureDomainSpn off: only the bare app id is ensured', async () => {
    emulator = await startSandbox({ servicePrincipals: [{ appId: DYNAMICS_APP_ID, servicePrincipalNames: [] }] });
    const config = sandboxConfig(emulator, { ensureDomainSpn: false });
    await registerEntraPhase.apply(phaseContext(emulator, new TestHost(), { config, certificate: current.input }));
    assert.deepEqual(emulator.state.dynamics().servicePrincipalNames, [DYNAMICS_APP_ID]);
  });

  it('plan shows the current keys (who added them) and the diff, and sends nothing', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: foreign.cert.x509,
      displayName: 'CN=crm.contoso.com',
    });
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: previous.cert.x509,
      displayName: `d365-exo-sync ${previous.cert.thumbprint} 2026-05-20`,
    });
    const steps = await registerEntraPhase.plan(phaseContext(emulator, new TestHost(), { certificate: current.input }));
    const key = steps.find((s) => s.id === 'entra.key-credential')!;
    assert.equal(key.action, 'create');
    const before = key.before as { thumbprint: string; addedBy: string; state: string }[];
    assert.deepEqual(
      before.map((k) => [k.thumbprint, k.addedBy, k.state]),
      [
        [foreign.cert.thumbprint, 'someone else', 'valid'],
        [previous.cert.thumbprint, 'd365-exo-sync', 'valid'],
      ],
    );
    const after = key.after as { thumbprint: string; keyId: string }[];
    assert.equal(after.length, 3);
    assert.equal(after[2]!.thumbprint, current.cert.thumbprint);
    assert.match(key.note ?? '', /keeps the 2 existing key\(s\)/);
    assert.equal(steps.find((s) => s.id === 'entra.service-principal-names')?.action, 'update');
    assert.equal(patches(emulator).length, 0);
  });

  it('without a PFX, a thumbprint input is confirmed when its key is there, and refused when it is not', async () => {
    emulator = await startSandbox();
    const key = emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: current.cert.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const present = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { inputs: { thumbprint: current.cert.thumbprint.toLowerCase() } }),
    );
    assert.equal(present.results.find((r) => r.id === 'entra.key-credential')?.status, 'unchanged');
    assert.equal(present.outputs['key-id'], key.keyId);
    const absent = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { inputs: { thumbprint: previous.cert.thumbprint } }),
    );
    assert.match(
      absent.results.find((r) => r.id === 'entra.key-credential')?.error ?? '',
      /not among the key credentials and no certificate was given/,
    );
    const neither = await registerEntraPhase.apply(phaseContext(emulator, new TestHost()));
    assert.match(
      neither.results.find((r) => r.id === 'entra.key-credential')?.error ?? '',
      /needs the new certificate: pass the PFX/,
    );
    assert.equal(
      emulator.requestsTo('sp-patch').filter((r) => r.json && 'keyCredentials' in (r.json as object)).length,
      0,
    );
    assert.equal(emulator.state.dynamics().keyCredentials.length, 1);
  });

  it('plans from the same decision apply makes: a thumbprint input without a PFX is confirmed, not asked for', async () => {
    const tenant = (emulator = await startSandbox());
    const key = tenant.state.addKeyCredential(DYNAMICS_APP_ID, { certificate: current.cert.x509 });
    const keyStep = async (inputs: Record<string, string>) =>
      (await registerEntraPhase.plan(phaseContext(tenant, new TestHost(), { inputs }))).find(
        (s) => s.id === 'entra.key-credential',
      )!;
    const present = await keyStep({ thumbprint: current.cert.thumbprint });
    assert.equal(present.action, 'none');
    assert.equal(present.note, `${current.cert.thumbprint} is already key ${key.keyId}: nothing to send`);
    const absent = await keyStep({ thumbprint: previous.cert.thumbprint });
    assert.equal(absent.action, 'check');
    assert.match(absent.note ?? '', /not among the key credentials and no certificate was given/);
    assert.match((await keyStep({})).note ?? '', /needs the new certificate: pass the PFX/);
    assert.equal(tenant.requestsTo('sp-patch').length, 0);
  });

  it('fails clearly when the run has no Entra service', async () => {
    emulator = await startSandbox();
    const ctx = phaseContext(emulator, new TestHost(), { certificate: current.input, withoutEntra: true });
    await assert.rejects(registerEntraPhase.apply(ctx), /register-entra needs the Entra ID service/);
    await assert.rejects(registerEntraPhase.plan(ctx), /createEntraServices/);
  });
});
