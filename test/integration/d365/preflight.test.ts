import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { d365PreflightCheck } from '../../../src/phases/preflight/d365-checks.js';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { createCrmServices } from '../../../src/crm/client-factory.js';
import { HttpsTransport, staticAuth } from '../../../src/crm/https-transport.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock, windowsServices } from './support.js';

test('preflight D365: WhoAmI, System Administrator, the email privileges, and the organization id as output', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1 });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const ctx = contextFor(config, host, windowsServices(emulator, config, host, fakeClock()));
  assert.equal(d365PreflightCheck.applies(ctx), true);
  assert.equal(d365PreflightCheck.applies(contextFor(config, host, undefined)), false);
  assert.deepEqual(
    d365PreflightCheck.plan(ctx).map((s) => s.id),
    ['d365.whoami', 'd365.system-administrator', 'd365.email-privileges', 'd365.organization-id'],
  );
  const outcome = await d365PreflightCheck.run(ctx);
  assert.deepEqual(
    outcome.results.map((r) => r.status),
    ['unchanged', 'unchanged', 'unchanged', 'unchanged'],
  );
  assert.deepEqual(outcome.outputs, { 'organization-id': emulator.state.organizationId });
  assert.equal(emulator.requests.writes, 0);
});

test('preflight D365: a missing privilege and a missing System Administrator role are failures that name what to grant', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 1,
    caller: { systemAdministrator: false, missingPrivileges: ['prvApproveRejectEmailAddress', 'prvWriteMailbox'] },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const outcome = await d365PreflightCheck.run(
    contextFor(config, host, windowsServices(emulator, config, host, fakeClock())),
  );
  const byId = new Map(outcome.results.map((r) => [r.id, r]));
  assert.equal(byId.get('d365.system-administrator')!.status, 'failed');
  assert.match(byId.get('d365.system-administrator')!.error!, /System Administrator/);
  assert.equal(byId.get('d365.email-privileges')!.status, 'failed');
  assert.match(
    byId.get('d365.email-privileges')!.error!,
    /prvApproveRejectEmailAddress \(Approve Email Addresses for Users or Queues.*prvWriteMailbox \(Write on Mailbox\)/,
  );
});

test('preflight D365: credentials D365 does not accept; and a phase without services says how to get them', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1 });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const transport = new HttpsTransport({
    auth: staticAuth('windows-stand-in', 'Negotiate d3Jvbmc='),
    timeoutMs: 5000,
    ca: emulator.caPem,
  });
  const outcome = await d365PreflightCheck.run(
    contextFor(config, host, createCrmServices(config, host, {}, { transport })),
  );
  assert.equal(outcome.results[0]!.status, 'failed');
  assert.match(outcome.results[0]!.error!, /HTTP 401.*did not accept the credentials/);
  await assert.rejects(
    configureMailboxesPhase.apply(contextFor(config, host, undefined)),
    /createCrmServices\(config, host, process\.env\)/,
  );
});
