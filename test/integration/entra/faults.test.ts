// Faults on the way to Entra and Graph: each is survived (bounded retries, Retry-After honoured) or the
// phase fails clean — a clear error and the key list exactly as it was. Retry delays are injected (a
// recording sleep) or a millisecond; nothing here sleeps for real beyond a short timeout.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { registerEntraPhase } from '../../../src/phases/register-entra.js';
import { DYNAMICS_APP_ID, type EntraEmulator, type FaultRule } from '@d365-exo-sync/sandbox/entra';
import { TestHost } from '../../support/test-host.js';
import { daysFromNow, FAST_HTTP, leakedSecrets, phaseContext, startSandbox, testCertificate } from './sandbox.js';

const current = testCertificate('faults-current', { notBefore: daysFromNow(-1), notAfter: daysFromNow(120) });
const theirs = testCertificate('faults-theirs', { notBefore: daysFromNow(-60), notAfter: daysFromNow(200) });

describe('register-entra under faults', () => {
  let emulator: EntraEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  /** A sandbox with someone else's key on the service principal, one fault rule, and a run of register-entra. */
  async function runWith(rule: FaultRule, http = {}) {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: theirs.cert.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const before = emulator.state.snapshot();
    const active = emulator.faults.add(rule);
    const host = new TestHost();
    const delays: number[] = [];
    const ctx = phaseContext(emulator, host, {
      certificate: current.input,
      services: {
        http: {
          ...FAST_HTTP,
          sleep: async (ms: number) => {
            delays.push(ms);
          },
          ...http,
        },
      },
    });
    const outcome = await registerEntraPhase.apply(ctx);
    return { outcome, before, active, host, delays, emulator };
  }

  /** The key list after a survived fault: theirs untouched, ours added once. */
  function assertAddedOnce(emulator: EntraEmulator, before: ReturnType<EntraEmulator['state']['snapshot']>) {
    const keys = emulator.state.dynamics().keyCredentials;
    assert.equal(keys.length, 2);
    assert.deepEqual(keys[0], before[0]!.keyCredentials[0]);
    assert.match(keys[1]!.displayName ?? '', new RegExp(`^d365-exo-sync ${current.cert.thumbprint} `));
  }

  it('429 with Retry-After on the PATCH: waits what Graph asks, then succeeds', async () => {
    const { outcome, before, active, host, delays } = await runWith(
      { endpoint: 'sp-patch', kind: 'status', status: 429, retryAfterSeconds: 7, times: 2 },
      { maxDelayMs: 60_000 },
    );
    assert.equal(outcome.results.find((r) => r.id === 'entra.key-credential')?.status, 'changed');
    assert.equal(active.hits, 2);
    assert.deepEqual(delays, [7_000, 7_000]);
    assert.ok(host.lines.some((l) => /HTTP 429; retry 1/.test(l)));
    assertAddedOnce(emulator!, before);
  });

  it('503 from the token endpoint (through MSAL and @azure/identity) is retried', async () => {
    const { outcome, before, active } = await runWith({ endpoint: 'token', kind: 'status', status: 503, times: 2 });
    assert.equal(active.hits, 2);
    assert.ok(
      outcome.results.every((r) => r.status !== 'failed'),
      JSON.stringify(outcome.results),
    );
    assertAddedOnce(emulator!, before);
  });

  it('503 on the organization read is retried', async () => {
    const { outcome, before } = await runWith({ endpoint: 'organization', kind: 'status', status: 503, times: 3 });
    assert.equal(outcome.outputs['tenant-id'], emulator!.tenantId);
    assertAddedOnce(emulator!, before);
  });

  it('a dropped connection on the key read is retried', async () => {
    const { outcome, before, active } = await runWith({ endpoint: 'sp-get', kind: 'reset', times: 2 });
    assert.equal(active.hits, 2);
    assert.equal(outcome.results.find((r) => r.id === 'entra.key-credential')?.status, 'changed');
    assertAddedOnce(emulator!, before);
  });

  it('the PATCH lands but its answer is lost: the retry replaces the collection again, no duplicate key', async () => {
    const { outcome, before, active } = await runWith({ endpoint: 'sp-patch', kind: 'reset', afterHandling: true });
    assert.equal(active.hits, 1);
    assert.equal(
      emulator!.requestsTo('sp-patch').filter((r) => r.json && 'keyCredentials' in (r.json as object)).length,
      2,
    );
    assert.equal(outcome.results.find((r) => r.id === 'entra.key-credential')?.status, 'changed');
    assertAddedOnce(emulator!, before);
  });

  it('a slow answer beyond the timeout is retried', async () => {
    const { outcome, before, active } = await runWith(
      { endpoint: 'sp-list', kind: 'slow', delayMs: 1_000 },
      { timeoutMs: 250 },
    );
    assert.equal(active.hits, 1);
    assert.equal(outcome.results.find((r) => r.id === 'entra.service-principal')?.status, 'unchanged');
    assertAddedOnce(emulator!, before);
  });

  it('a malformed (cut short) answer is read again', async () => {
    const { outcome, before, host } = await runWith({ endpoint: 'sp-get', kind: 'malformed' });
    assert.equal(outcome.results.find((r) => r.id === 'entra.key-credential')?.status, 'changed');
    assert.ok(host.lines.some((l) => /was not JSON; reading again/.test(l)));
    assertAddedOnce(emulator!, before);
  });

  it('503 that does not stop: fails clean with Graph code and request-id, the key list intact', async () => {
    const { outcome, before, host } = await runWith({ endpoint: 'sp-patch', kind: 'status', status: 503, times: 100 });
    const key = outcome.results.find((r) => r.id === 'entra.key-credential')!;
    assert.equal(key.status, 'failed');
    assert.match(key.error ?? '', /HTTP 503 serviceNotAvailable/);
    const last = emulator!.requestsTo('sp-patch').at(-1)!;
    assert.match(key.error ?? '', new RegExp(`request-id ${last.requestId}`));
    assert.equal(emulator!.requestsTo('sp-patch').length, FAST_HTTP.maxAttempts);
    assert.deepEqual(key.evidence, { keysReadAfterFailure: 1, previousKeysIntact: true });
    assert.deepEqual(emulator!.state.snapshot(), before);
    assert.deepEqual(outcome.outputs, {});
    assert.deepEqual(leakedSecrets(host, emulator!), []);
  });

  it('a token endpoint that keeps dropping the connection: fails clean as a sign-in error, nothing sent to Graph', async () => {
    const { outcome, before } = await runWith({ endpoint: 'token', kind: 'reset', times: 100 });
    const tenant = outcome.results.find((r) => r.id === 'entra.tenant')!;
    assert.equal(tenant.status, 'failed');
    assert.match(tenant.error ?? '', /Signing in to Entra ID failed for app 7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a/);
    assert.match(tenant.error ?? '', /oauth2\/v2\.0\/token got no answer: ECONNRESET/);
    assert.equal(emulator!.requestsTo('token').length, FAST_HTTP.maxAttempts);
    assert.equal(emulator!.requests.filter((r) => r.server === 'graph').length, 0);
    assert.deepEqual(emulator!.state.snapshot(), before);
  });

  it('answers that stay malformed: fails clean naming the call, the key list intact', async () => {
    const { outcome, before } = await runWith({ endpoint: 'sp-list', kind: 'malformed', times: 100 });
    const sp = outcome.results.find((r) => r.id === 'entra.service-principal')!;
    assert.equal(sp.status, 'failed');
    assert.match(
      sp.error ?? '',
      /answered GET \/v1\.0\/servicePrincipals\?\$filter=.* with HTTP 200 but the body is not the JSON object Graph documents/,
    );
    assert.equal(emulator!.requestsTo('sp-patch').length, 0);
    assert.deepEqual(emulator!.state.snapshot(), before);
  });
});
