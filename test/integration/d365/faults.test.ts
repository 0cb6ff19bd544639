import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { createCrmServices } from '../../../src/crm/client-factory.js';
import { sandboxWindowsTransport } from '@d365-exo-sync/sandbox/d365';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock } from './support.js';

async function run(emulatorFaults: Parameters<typeof startD365Emulator>[0], timeoutMs = 10_000) {
  const emulator = await startD365Emulator({ mailboxes: 6, testAndEnable: { afterQueries: 1 }, ...emulatorFaults });
  const config = configFor(emulator, { webApi: { batchSize: 4 } });
  const host = new TestHost();
  const clock = fakeClock();
  const retrySleeps: number[] = [];
  const services = createCrmServices(
    config,
    host,
    {},
    {
      clock,
      transport: sandboxWindowsTransport(emulator, {
        timeoutMs,
        retry: { sleep: async (ms) => void retrySleeps.push(ms), baseDelayMs: 5, maxDelayMs: 60_000 },
      }),
    },
  );
  const outcome = await configureMailboxesPhase.apply(contextFor(config, host, services));
  return { emulator, outcome, host, retrySleeps };
}

function allConfigured(emulator: Awaited<ReturnType<typeof startD365Emulator>>): boolean {
  return [...emulator.state.tables.mailboxes!.values()].every(
    (m) => m.incomingemaildeliverymethod === 2 && m.incomingemailstatus === 1,
  );
}

test('429 with Retry-After and 503 on $batch: waited as told, sent again, nothing lost', async (t) => {
  const { emulator, outcome, retrySleeps } = await run({
    faults: [
      { kind: 'status', status: 429, retryAfterSeconds: 7, match: { path: '$batch' } },
      { kind: 'status', status: 503, match: { path: '$batch' }, skip: 1 },
      { kind: 'status', status: 429, retryAfterSeconds: 2, match: { method: 'GET', path: 'mailboxes' }, skip: 1 },
    ],
  });
  t.after(() => emulator.close());
  assert.equal(emulator.requests.faultsFired, 3);
  assert.ok(retrySleeps.includes(7000), `slept ${retrySleeps}`);
  assert.ok(retrySleeps.includes(2000), `slept ${retrySleeps}`);
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );
  assert.ok(allConfigured(emulator));
});

test('connections dropped before and after D365 processed a batch, and a slow answer: the writes are repeated safely', async (t) => {
  const { emulator, outcome } = await run(
    {
      faults: [
        { kind: 'reset', match: { path: '$batch' } },
        { kind: 'reset', match: { path: '$batch' }, afterProcessing: true },
        { kind: 'slow', delayMs: 1500, match: { path: '$batch' }, afterProcessing: true },
      ],
    },
    1000,
  );
  t.after(() => emulator.close());
  assert.equal(emulator.requests.faultsFired, 3);
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );
  assert.ok(allConfigured(emulator));
});

test('a cut-off $batch answer and a garbled GET are read again', async (t) => {
  const { emulator, outcome, host } = await run({
    faults: [
      { kind: 'malformed', match: { path: '$batch' }, afterProcessing: true },
      { kind: 'malformed', match: { method: 'GET', path: 'emailserverprofiles' } },
    ],
  });
  t.after(() => emulator.close());
  assert.equal(emulator.requests.faultsFired, 2);
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );
  assert.ok(allConfigured(emulator));
  assert.ok(host.lines.some((l) => /not readable JSON|could not be read/.test(l)));
});

test('the answer to creating the profile is lost after D365 created it: no second profile', async (t) => {
  const { emulator, outcome } = await run({
    faults: [{ kind: 'reset', match: { method: 'POST', path: 'emailserverprofiles' }, afterProcessing: true }],
  });
  t.after(() => emulator.close());
  assert.equal(emulator.requests.faultsFired, 1);
  assert.equal(emulator.state.tables.emailserverprofiles!.size, 1);
  assert.equal(outcome.results.find((r) => r.id === 'crm.email-server-profile')?.status, 'changed');
  assert.ok(allConfigured(emulator));
});

test('a POST refused with 503 before processing is sent again; no duplicate', async (t) => {
  const { emulator, outcome } = await run({
    faults: [
      { kind: 'status', status: 503, retryAfterSeconds: 1, match: { method: 'POST', path: 'emailserverprofiles' } },
    ],
  });
  t.after(() => emulator.close());
  assert.equal(emulator.state.tables.emailserverprofiles!.size, 1);
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );
});
