// retire-previous against the sandbox: only after a passing verify, only keys this toolkit added for
// other certificates (and expired keys of others when configured), never the last valid key.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retirePreviousPhase } from '../../../src/phases/retire-previous.js';
import { DYNAMICS_APP_ID, type EntraEmulator, type StoredKeyCredential } from '@d365-exo-sync/sandbox/entra';
import { TestHost } from '../../support/test-host.js';
import { daysFromNow, leakedSecrets, phaseContext, sandboxConfig, startSandbox, testCertificate } from './sandbox.js';

const current = testCertificate('retire-current', { notBefore: daysFromNow(-1), notAfter: daysFromNow(180) });
const previous = testCertificate('retire-previous', { notBefore: daysFromNow(-190), notAfter: daysFromNow(10) });
const older = testCertificate('retire-older', { notBefore: daysFromNow(-400), notAfter: daysFromNow(-30) });
const foreign = testCertificate('retire-foreign', { notBefore: daysFromNow(-30), notAfter: daysFromNow(300) });
const foreignExpired = testCertificate('retire-foreign-expired', {
  notBefore: daysFromNow(-500),
  notAfter: daysFromNow(-100),
});
const future = testCertificate('retire-future', { notBefore: daysFromNow(5), notAfter: daysFromNow(200) });

const ours = (thumbprint: string) => `d365-exo-sync ${thumbprint} 2026-05-20`;

describe('retire-previous', () => {
  let emulator: EntraEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  /** A service principal after a renewal: our old and older keys, the current one, and two keys of someone else. */
  async function renewedTenant() {
    emulator = await startSandbox();
    const add = (cert: typeof current, displayName: string | null) =>
      emulator!.state.addKeyCredential(DYNAMICS_APP_ID, { certificate: cert.cert.x509, displayName });
    const keys = {
      older: add(older, ours(older.cert.thumbprint)),
      previous: add(previous, ours(previous.cert.thumbprint)),
      foreign: add(foreign, 'CN=crm.contoso.com'),
      foreignExpired: add(foreignExpired, null),
      current: add(current, ours(current.cert.thumbprint)),
    };
    return { emulator, keys };
  }
  const ids = (keys: StoredKeyCredential[]) => keys.map((k) => k.keyId);
  const inputs = { thumbprint: current.cert.thumbprint, verified: 'true' };

  it('without a passing verify nothing is read or removed', async () => {
    const { emulator } = await renewedTenant();
    const before = emulator.state.snapshot();
    for (const verified of [undefined, 'false']) {
      const outcome = await retirePreviousPhase.apply(
        phaseContext(emulator, new TestHost(), { inputs: { thumbprint: current.cert.thumbprint, verified } }),
      );
      assert.equal(outcome.results[0]!.status, 'failed');
      assert.match(outcome.results[0]!.error ?? '', /only after a passing verify: pass verified=true/);
    }
    const mismatch = await retirePreviousPhase.apply(
      phaseContext(emulator, new TestHost(), {
        inputs: { ...inputs, 'verified-thumbprint': previous.cert.thumbprint },
      }),
    );
    assert.match(mismatch.results[0]!.error ?? '', /verify passed for .*, not for the current certificate/);
    assert.equal(emulator.requests.length, 0);
    assert.deepEqual(emulator.state.snapshot(), before);
  });

  it('after verify: removes exactly our superseded keys, keeps the current one and every key of others', async () => {
    const { emulator, keys } = await renewedTenant();
    const host = new TestHost();
    const outcome = await retirePreviousPhase.apply(phaseContext(emulator, host, { inputs }));
    const step = outcome.results.find((r) => r.id === 'entra.retire-keys')!;
    assert.equal(step.status, 'changed');
    assert.deepEqual(
      ids(emulator.state.dynamics().keyCredentials),
      ids([keys.foreign, keys.foreignExpired, keys.current]),
    );
    assert.deepEqual(emulator.state.dynamics().keyCredentials, [keys.foreign, keys.foreignExpired, keys.current]);
    assert.deepEqual(outcome.outputs, {
      'removed-key-ids': `${keys.older.keyId},${keys.previous.keyId}`,
      thumbprint: current.cert.thumbprint,
    });
    // The PATCH resends the kept keys without key and displayName.
    const sent = (emulator.requestsTo('sp-patch')[0]!.json as { keyCredentials: Record<string, unknown>[] })
      .keyCredentials;
    assert.deepEqual(
      sent.map((k) => k.keyId),
      ids([keys.foreign, keys.foreignExpired, keys.current]),
    );
    assert.ok(sent.every((k) => !('key' in k) && !('displayName' in k)));
    assert.deepEqual(leakedSecrets(host, emulator), []);
  });

  it('with retire.expiredKeys it also removes expired keys of others, never valid ones', async () => {
    const { emulator, keys } = await renewedTenant();
    const config = sandboxConfig(emulator, {}, { expiredKeys: true, serverCertificates: false });
    await retirePreviousPhase.apply(phaseContext(emulator, new TestHost(), { config, inputs }));
    assert.deepEqual(ids(emulator.state.dynamics().keyCredentials), ids([keys.foreign, keys.current]));
  });

  it('plan lists exactly what would go and why, and sends nothing', async () => {
    const { emulator, keys } = await renewedTenant();
    const steps = await retirePreviousPhase.plan(
      phaseContext(emulator, new TestHost(), { inputs: { thumbprint: current.cert.thumbprint } }),
    );
    const step = steps.find((s) => s.id === 'entra.retire-keys')!;
    assert.equal(step.action, 'delete');
    assert.deepEqual(
      (step.after as { keyId: string }[]).map((k) => k.keyId),
      ids([keys.foreign, keys.foreignExpired, keys.current]),
    );
    assert.match(
      step.note ?? '',
      new RegExp(`removes ${keys.older.keyId} \\(added by d365-exo-sync for ${older.cert.thumbprint}`),
    );
    assert.match(step.note ?? '', new RegExp(`${keys.previous.keyId} \\(added by d365-exo-sync`));
    assert.match(step.note ?? '', /apply: retire-previous removes keys only after a passing verify/);
    assert.equal(emulator.requestsTo('sp-patch').length, 0);
  });

  it('rerun: nothing left to remove, nothing sent', async () => {
    const { emulator } = await renewedTenant();
    await retirePreviousPhase.apply(phaseContext(emulator, new TestHost(), { inputs }));
    const state = emulator.state.snapshot();
    const patches = emulator.requestsTo('sp-patch').length;
    const again = await retirePreviousPhase.apply(phaseContext(emulator, new TestHost(), { inputs }));
    assert.equal(again.results.find((r) => r.id === 'entra.retire-keys')?.status, 'unchanged');
    assert.equal(emulator.requestsTo('sp-patch').length, patches);
    assert.deepEqual(emulator.state.snapshot(), state);
    assert.deepEqual(again.outputs, { 'removed-key-ids': '', thumbprint: current.cert.thumbprint });
  });

  it('refuses when the current certificate is not on the service principal: never leaves it without a valid key', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: previous.cert.x509,
      displayName: ours(previous.cert.thumbprint),
    });
    const before = emulator.state.snapshot();
    const outcome = await retirePreviousPhase.apply(phaseContext(emulator, new TestHost(), { inputs }));
    const step = outcome.results.find((r) => r.id === 'entra.retire-keys')!;
    assert.equal(step.status, 'failed');
    assert.match(
      step.error ?? '',
      /not among the key credentials: run register-entra for it first; nothing is removed/,
    );
    assert.deepEqual(emulator.state.snapshot(), before);
    assert.equal(emulator.requestsTo('sp-patch').length, 0);
  });

  it('refuses when the current key is not valid yet', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: previous.cert.x509,
      displayName: ours(previous.cert.thumbprint),
    });
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: future.cert.x509,
      displayName: ours(future.cert.thumbprint),
    });
    const before = emulator.state.snapshot();
    const outcome = await retirePreviousPhase.apply(
      phaseContext(emulator, new TestHost(), { inputs: { thumbprint: future.cert.thumbprint, verified: 'true' } }),
    );
    assert.match(outcome.results.find((r) => r.id === 'entra.retire-keys')?.error ?? '', /is not valid now/);
    assert.deepEqual(emulator.state.snapshot(), before);
  });

  it('the current certificate can come from the PFX instead of the thumbprint input', async () => {
    const { emulator, keys } = await renewedTenant();
    await retirePreviousPhase.apply(
      phaseContext(emulator, new TestHost(), { certificate: current.input, inputs: { verified: 'true' } }),
    );
    assert.deepEqual(
      ids(emulator.state.dynamics().keyCredentials),
      ids([keys.foreign, keys.foreignExpired, keys.current]),
    );
  });

  it('missing Application.ReadWrite.All: the removal is refused with the permission named, the keys intact', async () => {
    const { emulator } = await renewedTenant();
    emulator.state.setRoles('7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a', ['Application.Read.All', 'Organization.Read.All']);
    const before = emulator.state.snapshot();
    const outcome = await retirePreviousPhase.apply(phaseContext(emulator, new TestHost(), { inputs }));
    const step = outcome.results.find((r) => r.id === 'entra.retire-keys')!;
    assert.equal(step.status, 'failed');
    assert.match(step.error ?? '', /Application\.ReadWrite\.All/);
    assert.equal((step.after as unknown[]).length, 5);
    assert.deepEqual(emulator.state.snapshot(), before);
  });

  it('a bad thumbprint input is named', async () => {
    emulator = await startSandbox();
    const outcome = await retirePreviousPhase.apply(
      phaseContext(emulator, new TestHost(), { inputs: { thumbprint: 'ABC', verified: 'true' } }),
    );
    assert.match(outcome.results[0]!.error ?? '', /thumbprint ABC is not a SHA-1 thumbprint/);
  });
});
