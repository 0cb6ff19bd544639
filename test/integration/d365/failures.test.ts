import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import type { StepResult } from '../../../src/phases/phase.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock, windowsServices } from './support.js';

const mailboxSteps = (results: StepResult[]) =>
  new Map(results.filter((r) => r.id.startsWith('mailbox.')).map((r) => [r.target, r]));

test('one mailbox failing to write, one failing its test: both reported with D365’s words, the others set and tested', async (t) => {
  const sqlError =
    'Generic SQL error. Transaction (Process ID 64) was deadlocked on lock resources with another process and has been chosen as the deadlock victim.';
  const emulator = await startD365Emulator({
    mailboxes: 12,
    writeFailures: { 'user0004@contoso.com': { status: 500, code: '', message: sqlError } },
    testAndEnable: { afterQueries: 1, failures: { 'user0009@contoso.com': 'location' } },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator, { webApi: { batchSize: 5 } });
  const host = new TestHost();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, fakeClock())),
  );
  const steps = mailboxSteps(outcome.results);
  assert.equal(steps.size, 12);
  const writeFailed = steps.get('user0004@contoso.com')!;
  assert.equal(writeFailed.status, 'failed');
  assert.ok(writeFailed.error!.includes(sqlError), writeFailed.error);
  assert.match(writeFailed.error!, /^PATCH mailboxes\(.+\) failed: HTTP 500/);
  const testFailed = steps.get('user0009@contoso.com')!;
  assert.equal(testFailed.status, 'failed');
  assert.match(testFailed.error!, /The location of the mailbox User 9 could not be determined/);
  assert.equal((testFailed.evidence as { diagnosis: { id: string } }).diagnosis.id, 'mailbox-location');
  for (const [address, step] of steps) {
    if (address === 'user0004@contoso.com' || address === 'user0009@contoso.com') continue;
    assert.equal(step.status, 'changed', address);
    assert.deepEqual((step.evidence as { test: Record<string, string> }).test.incoming, 'Success', address);
  }
  const failedMailbox = [...emulator.state.tables.mailboxes!.values()].find(
    (m) => m.emailaddress === 'user0004@contoso.com',
  )!;
  assert.equal(failedMailbox.incomingemaildeliverymethod, 1, 'the failed change set was rolled back');
  assert.ok(emulator.requests.maxBatchOperations <= 5);
  assert.equal(outcome.outputs['mailboxes-failed'], '2');
  assert.match(host.summary, /What to fix/);
  // Failures first in the table.
  const table = host.summary.slice(host.summary.indexOf('| Address'));
  assert.ok(
    table.indexOf('user0004') < table.indexOf('user0001') && table.indexOf('user0009') < table.indexOf('user0001'),
  );
});

test('an EWS-blocked tenant: every mailbox fails with the policy reason, and the fix names EwsAllowedAppIDs and the Dynamics app id', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 4,
    testAndEnable: { afterQueries: 1, failAll: 'ews-blocked', keepScheduledOnFailure: true },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const clock = fakeClock();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, clock)),
  );
  const steps = [...mailboxSteps(outcome.results).values()];
  assert.equal(steps.length, 4);
  for (const step of steps) {
    assert.equal(step.status, 'failed');
    const evidence = step.evidence as { diagnosis: { id: string; fix: string }; alertDetails: string };
    assert.equal(evidence.diagnosis.id, 'ews-blocked');
    assert.match(evidence.alertDetails, /X-EWS-Policy-Reason: EWS is blocked by policy for this user or tenant/);
    assert.match(step.error!, /configure-exchange/);
    assert.match(step.error!, /EwsAllowedAppIDs "<those ids>,00000007-0000-0000-c000-000000000000"/);
  }
  // D365 keeps failed mailboxes scheduled for retries: the wait still ends at the first Failure.
  assert.equal(clock.sleeps.length, 1);
  assert.match(host.summary, /Exchange Online refused EWS .*\(4 mailboxes\).*EwsAllowedAppIDs.*24 hours/);
  assert.match(host.summary, /not documented by Microsoft/);
});

test('without prvApproveRejectEmailAddress: addresses are not approved, the privilege is named, everything else is still set', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 3,
    requireApproval: false,
    caller: { missingPrivileges: ['prvApproveRejectEmailAddress'] },
    testAndEnable: { afterQueries: 1 },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, fakeClock())),
  );
  const steps = [...mailboxSteps(outcome.results).values()];
  for (const step of steps) {
    assert.equal(step.status, 'changed');
    assert.match(
      step.warnings!.join(' '),
      /not approved: the runner lacks prvApproveRejectEmailAddress \(Approve Email Addresses for Users or Queues/,
    );
  }
  assert.ok(host.lines.some((l) => l.startsWith('warning:') && l.includes('prvApproveRejectEmailAddress')));
  assert.ok(
    [...emulator.state.tables.mailboxes!.values()]
      .filter((m) => m.emailaddress)
      .every((m) => m.incomingemaildeliverymethod === 2),
  );
  assert.ok(
    [...emulator.state.tables.systemusers!.values()]
      .filter((u) => u.internalemailaddress)
      .every((u) => u.emailrouteraccessapproval === 2),
  );
});

test('when D365 refuses the approval although the privilege check passed, the mailbox is written without it once, and approval is left out for the rest', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 6,
    requireApproval: false,
    testAndEnable: { afterQueries: 1 },
  });
  t.after(() => emulator.close());
  // The privilege disappears after the check (a role changed meanwhile, or a business-unit depth).
  const config = configFor(emulator);
  const host = new TestHost();
  const services = windowsServices(emulator, config, host, fakeClock());
  const original = services.client.executeChangeSets.bind(services.client);
  services.client.executeChangeSets = (units, options) => {
    emulator.state.callerPrivileges.delete('prvApproveRejectEmailAddress');
    return original(units, options);
  };
  const outcome = await configureMailboxesPhase.apply(contextFor(config, host, services));
  const steps = [...mailboxSteps(outcome.results).values()];
  assert.equal(steps.length, 6);
  assert.ok(
    steps.every((s) => s.status === 'changed'),
    JSON.stringify(steps.map((s) => [s.target, s.status, s.error])),
  );
  assert.ok(steps.every((s) => /prvApproveRejectEmailAddress/.test(s.warnings?.join(' ') ?? '')));
  // One refusal, not one per mailbox: 1 batch refused at the first unit, then the rest without approval.
  assert.ok(emulator.requests.batches <= 3, `${emulator.requests.batches} batches`);
});

test('a mailbox whose test never finishes times out on its own; the others have their results', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 3,
    testAndEnable: { afterQueries: 1, never: ['user0002@contoso.com'] },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator, { email: { mailboxes: { poll: { intervalSeconds: 60, timeoutMinutes: 5 } } } });
  const host = new TestHost();
  const clock = fakeClock();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, clock)),
  );
  const steps = mailboxSteps(outcome.results);
  assert.equal(steps.get('user0002@contoso.com')!.status, 'failed');
  assert.match(steps.get('user0002@contoso.com')!.error!, /did not finish in time/);
  assert.equal(steps.get('user0001@contoso.com')!.status, 'changed');
  assert.equal(steps.get('user0003@contoso.com')!.status, 'changed');
  assert.equal(
    clock.sleeps.reduce((a, b) => a + b, 0),
    5 * 60_000,
  );
  assert.match(host.summary, /\| user0002@contoso\.com \| Pending \| Pending \| Pending \|/);
  assert.match(host.summary, /Asynchronous Processing Service/);
});
