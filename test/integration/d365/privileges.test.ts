// The privileges the mailbox work needs, as D365 checks them: depth (a Basic-depth Write on Mailbox reaches only
// the caller's own records) and the Append / Append To pair that setting the profile lookup needs. The caller
// step names each gap before any mailbox fails on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock, windowsServices } from './support.js';

test('Basic depth and a missing Append are named on the caller step, and the mailboxes fail with D365’s privilege error', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 2,
    caller: { depths: { prvWriteMailbox: 'Basic' }, missingPrivileges: ['prvAppendToEmailServerProfile'] },
    testAndEnable: { afterQueries: 1 },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const clock = fakeClock();
  const plan = await configureMailboxesPhase.plan(
    contextFor(config, host, windowsServices(emulator, config, host, clock)),
  );
  assert.match(
    plan.find((s) => s.id === 'crm.caller')?.note ?? '',
    /prvAppendToEmailServerProfile.*prvWriteMailbox at Basic depth/,
  );
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, clock)),
  );
  const caller = outcome.results.find((r) => r.id === 'crm.caller')!;
  const warnings = (caller.warnings ?? []).join('\n');
  assert.match(warnings, /lacks prvAppendToEmailServerProfile/);
  assert.match(warnings, /prvWriteMailbox .* at Basic depth only/);
  assert.equal((caller.evidence as { depths: Record<string, string> }).depths.prvWriteMailbox, 'Basic');
  const mailboxes = outcome.results.filter((r) => r.id.startsWith('mailbox.'));
  assert.equal(mailboxes.length, 2);
  for (const mailbox of mailboxes) {
    assert.equal(mailbox.status, 'failed');
    assert.match(mailbox.error ?? '', /0x80040220|privilege/i);
  }
});
