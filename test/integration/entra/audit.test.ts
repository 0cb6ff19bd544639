// What the Graph audit asked for, against the sandbox: a tenant that refuses existing keys resent by keyId alone
// (register-entra and retire-previous fall back to resending them with their certificates, once, and record it),
// one access token per phase run with every sign-in method, and Retry-After honoured within the time budget.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { registerEntraPhase } from '../../../src/phases/register-entra.js';
import { retirePreviousPhase } from '../../../src/phases/retire-previous.js';
import { DYNAMICS_APP_ID, type EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { TestHost } from '../../support/test-host.js';
import { makeLeaf } from '../../support/certs.js';
import {
  CLIENT_ID,
  daysFromNow,
  FAST_HTTP,
  FULL_ROLES,
  leakedSecrets,
  phaseContext,
  sandboxConfig,
  startSandbox,
  testCertificate,
} from './sandbox.js';

const current = testCertificate('audit-current', { notBefore: daysFromNow(-1), notAfter: daysFromNow(180) });
const previous = testCertificate('audit-previous', { notBefore: daysFromNow(-190), notAfter: daysFromNow(10) });
const foreign = testCertificate('audit-foreign', { notBefore: daysFromNow(-30), notAfter: daysFromNow(300) });
const thumbprintOf = (key: { key: string }) =>
  createHash('sha1').update(Buffer.from(key.key, 'base64')).digest('hex').toUpperCase();

describe('Graph audit', () => {
  let emulator: EntraEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it('register-entra: when Graph refuses the keyId resend, the keys go again with their certificates, once, and the record says so', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: foreign.cert.x509,
      displayName: 'someone else',
    });
    emulator.state.refuseKeyIdOnlyResend = true;
    const host = new TestHost();
    const outcome = await registerEntraPhase.apply(phaseContext(emulator, host, { certificate: current.input }));
    const step = outcome.results.find((r) => r.id === 'entra.key-credential')!;
    assert.equal(step.status, 'changed', step.error);
    assert.match(String((step.evidence as Record<string, unknown>).existingKeysResentBy), /key bytes/);
    const patches = emulator.requestsTo('sp-patch').filter((r) => 'keyCredentials' in (r.json as object));
    assert.equal(patches.length, 2);
    assert.equal(patches[0]!.status, 400);
    const second = (patches[1]!.json as { keyCredentials: Record<string, unknown>[] }).keyCredentials;
    assert.deepEqual(Object.keys(second[0]!).sort(), ['endDateTime', 'key', 'startDateTime', 'type', 'usage']);
    const prints = emulator.state.dynamics().keyCredentials.map(thumbprintOf).sort();
    assert.deepEqual(prints, [current.cert.thumbprint, foreign.cert.thumbprint].sort());
    assert.match(host.allText(), /Graph refused the existing keys resent by keyId/);
    assert.deepEqual(leakedSecrets(host, emulator), []);
  });

  it('retire-previous: the same fallback; the superseded key goes, the current and foreign ones stay', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: previous.cert.x509,
      displayName: `d365-exo-sync ${previous.cert.thumbprint} 2026-05-20`,
    });
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, { certificate: foreign.cert.x509, displayName: null });
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: current.cert.x509,
      displayName: `d365-exo-sync ${current.cert.thumbprint} 2026-11-20`,
    });
    emulator.state.refuseKeyIdOnlyResend = true;
    const outcome = await retirePreviousPhase.apply(
      phaseContext(emulator, new TestHost(), { inputs: { thumbprint: current.cert.thumbprint, verified: 'true' } }),
    );
    const step = outcome.results.find((r) => r.id === 'entra.retire-keys')!;
    assert.equal(step.status, 'changed', step.error);
    assert.match(String((step.evidence as Record<string, unknown>).existingKeysResentBy), /key bytes/);
    assert.deepEqual(
      emulator.state.dynamics().keyCredentials.map(thumbprintOf).sort(),
      [current.cert.thumbprint, foreign.cert.thumbprint].sort(),
    );
  });

  it('retire.serverCertificates does nothing but warn, on the retire step', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, { certificate: current.cert.x509, displayName: null });
    const config = sandboxConfig(emulator, {}, { expiredKeys: false, serverCertificates: true });
    const host = new TestHost();
    const outcome = await retirePreviousPhase.apply(
      phaseContext(emulator, host, { config, inputs: { thumbprint: current.cert.thumbprint, verified: 'true' } }),
    );
    const step = outcome.results.find((r) => r.id === 'entra.retire-keys')!;
    assert.equal(step.status, 'unchanged');
    assert.match((step.warnings ?? []).join(' '), /retire\.serverCertificates has no effect/);
  });

  it('a tenant that refuses both forms fails the step with both of Graph’s answers and leaves the keys as they were', async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, { certificate: foreign.cert.x509, displayName: null });
    emulator.state.refuseKeyIdOnlyResend = true;
    const before = emulator.state.snapshot();
    emulator.faults.add({ endpoint: 'sp-patch', kind: 'status', status: 400, times: 2 });
    const outcome = await registerEntraPhase.apply(
      phaseContext(emulator, new TestHost(), { certificate: current.input }),
    );
    const step = outcome.results.find((r) => r.id === 'entra.key-credential')!;
    assert.equal(step.status, 'failed');
    assert.match(step.error ?? '', /refused both ways/);
    assert.deepEqual(emulator.state.snapshot(), before);
  });

  for (const method of ['client-secret', 'client-certificate', 'workload-identity'] as const) {
    it(`one Graph token for a whole register-entra run (${method})`, async () => {
      const appCert = makeLeaf({ keySlot: 'entra-app-auth', commonName: 'd365-exo-sync app' });
      emulator = await startSandbox(
        method === 'client-certificate'
          ? { clients: [{ clientId: CLIENT_ID, certificatePem: appCert.pem, roles: FULL_ROLES }] }
          : {},
      );
      let env: Record<string, string> | undefined;
      let config = sandboxConfig(emulator);
      if (method === 'client-certificate') {
        config = sandboxConfig(emulator, {
          auth: { method, clientId: CLIENT_ID, certificateEnv: 'APP_CERT_PEM' },
        });
        env = { APP_CERT_PEM: appCert.pem + appCert.privateKeyPem };
      } else if (method === 'workload-identity') {
        emulator.state.clients.set(CLIENT_ID, {
          clientId: CLIENT_ID,
          roles: FULL_ROLES,
          federated: [{ issuer: emulator.github.issuer, subject: emulator.github.subject }],
        });
        config = sandboxConfig(emulator, { auth: { method, clientId: CLIENT_ID } });
        env = {
          ACTIONS_ID_TOKEN_REQUEST_URL: emulator.github.requestUrl,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: emulator.github.requestToken,
        };
      }
      const outcome = await registerEntraPhase.apply(
        phaseContext(emulator, new TestHost(), { config, certificate: current.input, ...(env ? { env } : {}) }),
      );
      assert.deepEqual(
        outcome.results.filter((r) => r.status === 'failed'),
        [],
      );
      assert.ok(emulator.requests.filter((r) => r.server === 'graph').length >= 4, 'several Graph calls');
      assert.equal(emulator.requestsTo('token').length, 1, 'one token for the run');
      if (method === 'workload-identity') assert.ok(emulator.requestsTo('github-oidc').length <= 2);
    });
  }

  it('Retry-After is waited out as given within the budget; a longer one fails at once, naming the wait', async () => {
    emulator = await startSandbox();
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    emulator.faults.add({ endpoint: 'organization', kind: 'status', status: 429, retryAfterSeconds: 90 });
    const ok = phaseContext(emulator, new TestHost(), { services: { http: { ...FAST_HTTP, sleep } } });
    await ok.services.entra!.graph.getOrganization();
    assert.deepEqual(waits, [90_000], 'not capped at maxDelayMs');

    const config = sandboxConfig(emulator, { graphTimeBudgetMinutes: 1 });
    emulator.faults.add({ endpoint: 'organization', kind: 'status', status: 429, retryAfterSeconds: 600 });
    const tight = phaseContext(emulator, new TestHost(), { config, services: { http: { ...FAST_HTTP, sleep } } });
    await assert.rejects(tight.services.entra!.graph.getOrganization(), (error: Error) => {
      assert.match(error.message, /Retry-After 600 s/);
      assert.match(error.message, /tenant\.graphTimeBudgetMinutes/);
      return true;
    });
    assert.deepEqual(waits, [90_000]);
  });
});
