// Alerts only add detail: when the tracelog read fails, configure-mailboxes and verify keep every mailbox row
// and show the failed read as a warning; when it works, the repeated alert (updated modifiedon) is found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { verifyPhase } from '../../../src/phases/verify.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock, windowsServices } from './support.js';

test('a failed alert read is a warning: the mailbox results stay, in configure-mailboxes and in verify', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 3,
    testAndEnable: { afterQueries: 1, failAll: 'ews-blocked' },
    faults: [{ kind: 'status', status: 500, match: { method: 'GET', path: 'tracelogs' }, times: 100 }],
  });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  for (const phase of [configureMailboxesPhase, verifyPhase]) {
    const host = new TestHost();
    const outcome = await phase.apply(contextFor(config, host, windowsServices(emulator, config, host, fakeClock())));
    const mailboxes = outcome.results.filter((r) => r.id.startsWith('mailbox.'));
    assert.equal(mailboxes.length, 3, `${phase.id} keeps every mailbox row`);
    assert.ok(mailboxes.every((r) => r.status === 'failed' && /EWS|Exchange/i.test(r.error ?? '')));
    const summary = outcome.results.find((r) => r.id === 'crm.mailboxes')!;
    assert.match((summary.warnings ?? []).join(' '), /the Alerts \(tracelogs\) could not be read/);
    assert.ok(!outcome.results.some((r) => r.id === 'crm.webapi'), `${phase.id} did not fail as a whole`);
  }
  assert.ok(emulator.requests.faultsFired >= 2);
});

test('with the alerts readable, the details of a repeated alert reach the mailbox row', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 1,
    testAndEnable: { afterQueries: 1, failAll: 'ews-blocked' },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  await configureMailboxesPhase.apply(contextFor(config, host, windowsServices(emulator, config, host, fakeClock())));
  const again = await verifyPhase.apply(contextFor(config, host, windowsServices(emulator, config, host, fakeClock())));
  const traces = [...emulator.state.tables.tracelogs!.values()];
  assert.equal(traces.length, 1, 'the repeated alert updated its row');
  const mailbox = again.results.find((r) => r.id.startsWith('mailbox.'))!;
  assert.equal(mailbox.status, 'failed');
  assert.ok(JSON.stringify(mailbox).includes(String(traces[0]!.errordetails ?? traces[0]!.text).slice(0, 30)));
});
