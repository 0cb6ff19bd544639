import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { verifyPhase } from '../../../src/phases/verify.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock, windowsServices } from './support.js';

async function setUp(t: { after(fn: () => unknown): void }, options: Parameters<typeof startD365Emulator>[0] = {}) {
  const emulator = await startD365Emulator({ mailboxes: 4, testAndEnable: { afterQueries: 1 }, ...options });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  await configureMailboxesPhase.apply(contextFor(config, host, windowsServices(emulator, config, host, fakeClock())));
  emulator.requests.reset();
  return { emulator, config };
}

test('verify after a setup: profile and default as configured, every mailbox re-tested OK; only the test flag is written', async (t) => {
  const { emulator, config } = await setUp(t);
  const host = new TestHost();
  const outcome = await verifyPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, fakeClock())),
  );
  assert.deepEqual(
    outcome.results.filter((r) => r.status !== 'unchanged'),
    [],
  );
  assert.equal(outcome.results.filter((r) => r.id.startsWith('mailbox.')).length, 4);
  assert.equal(emulator.requests.writesBySet.mailboxes, 4);
  assert.deepEqual(Object.keys(emulator.requests.writesBySet), ['mailboxes']);
  const summary = outcome.results.find((r) => r.id === 'crm.mailboxes')!;
  assert.equal((summary.evidence as { retested: number }).retested, 4);
  assert.match(host.summary, /Test & Enable run again on 4 mailboxes/);
});

test('verify with retest false writes nothing; an EWS block that appeared since is diagnosed; profile drift is named', async (t) => {
  const { emulator, config } = await setUp(t);
  // The tenant gets blocked; the next test of every mailbox fails.
  emulator.state.testAndEnable.failAll = 'ews-disabled';
  const profile = [...emulator.state.tables.emailserverprofiles!.values()][0]!;
  profile.useautodiscover = false;

  const host = new TestHost({ retest: 'true' });
  const outcome = await verifyPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, fakeClock())),
  );
  const profileStep = outcome.results.find((r) => r.id === 'crm.email-server-profile')!;
  assert.equal(profileStep.status, 'failed');
  assert.match(profileStep.error!, /differs from the configuration in useautodiscover: run configure-mailboxes/);
  const mailboxes = outcome.results.filter((r) => r.id.startsWith('mailbox.'));
  assert.ok(
    mailboxes.every(
      // "EWS is disabled for this user or tenant": the EwsEnabled switch, not the app-id list.
      (r) => r.status === 'failed' && (r.evidence as { diagnosis: { id: string } }).diagnosis.id === 'ews-disabled',
    ),
  );
  assert.equal(profile.useautodiscover, false, 'verify repaired nothing');

  emulator.requests.reset();
  const quiet = new TestHost({ retest: 'false' });
  const readOnly = await verifyPhase.apply(
    contextFor(config, quiet, windowsServices(emulator, config, quiet, fakeClock())),
  );
  assert.equal(emulator.requests.writes, 0);
  assert.ok(readOnly.results.filter((r) => r.id.startsWith('mailbox.')).every((r) => r.status === 'failed'));
});

test('readbacks of other phases: from services and from readback-<phase> inputs, collected into one report', async (t) => {
  const { emulator, config } = await setUp(t);
  const host = new TestHost({ retest: 'false' });
  const ctx = contextFor(config, host, windowsServices(emulator, config, host, fakeClock()), {
    'readback-install-certificate': JSON.stringify([
      {
        id: 'server.CRMAPP01.thumbprint',
        title: 'Thumbprint',
        target: 'CRMAPP01',
        status: 'unchanged',
        before: 'AB',
        after: 'AB',
      },
    ]),
    'readback-configure-crm': 'not json',
  });
  ctx.services.verifyReadbacks = [
    {
      id: 'entra.key',
      title: 'Entra key credential',
      collect: async () => [
        { id: 'readback.entra.key', title: 'Entra key', target: 'sp', status: 'unchanged', before: null, after: null },
      ],
    },
  ];
  const outcome = await verifyPhase.apply(ctx);
  const ids = outcome.results.map((r) => [r.id, r.status]);
  assert.deepEqual(
    ids.filter(([id]) => String(id).startsWith('readback.')),
    [
      ['readback.entra.key', 'unchanged'],
      ['readback.install-certificate.server.CRMAPP01.thumbprint', 'unchanged'],
      ['readback.configure-crm', 'failed'],
    ],
  );
  const steps = await verifyPhase.plan(ctx);
  assert.ok(steps.some((s) => s.id === 'readback.entra.key'));
});

test('verify without a D365 client still collects the other readbacks and names what is missing', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1 });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const ctx = contextFor(config, host, undefined);
  ctx.services.verifyReadbacks = [
    {
      id: 'entra',
      title: 'Entra',
      collect: async () => [
        { id: 'entra.key-present', title: 'Key', target: 'sp', status: 'unchanged', before: null, after: null },
      ],
    },
  ];
  const outcome = await verifyPhase.apply(ctx);
  assert.deepEqual(
    outcome.results.map((r) => [r.id, r.status]),
    [
      ['crm.webapi', 'failed'],
      ['entra.key-present', 'unchanged'],
    ],
  );
  assert.match(outcome.results[0]!.error!, /createCrmServices/);
});
