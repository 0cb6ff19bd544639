import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock, windowsServices } from './support.js';

const SEEDS = [
  { address: 'anna@contoso.com', name: 'Anna' },
  { address: 'ben@contoso.com', name: 'Ben', approval: 1 },
  { address: 'carla@contoso.com', name: 'Carla', incoming: 2, outgoing: 0, act: 2 },
  { address: 'sales@contoso.com', name: 'Sales', kind: 'queue' as const },
  { address: 'gone@contoso.com', name: 'Gone', disabled: true },
  { address: 'svc@contoso.com', name: 'Service', accessMode: 4 },
];

test('first setup: profile as the UI sets it, every active user on server-side sync, approved, tested; a rerun writes nothing', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: SEEDS, testAndEnable: { afterQueries: 2 } });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const clock = fakeClock();

  // plan reads only.
  const planHost = new TestHost();
  const steps = await configureMailboxesPhase.plan(
    contextFor(config, planHost, windowsServices(emulator, config, planHost, clock)),
  );
  assert.equal(emulator.requests.writes, 0);
  assert.equal(steps.find((s) => s.id === 'crm.email-server-profile')?.action, 'create');
  assert.deepEqual(
    steps.filter((s) => s.id.startsWith('mailbox.')).map((s) => [s.target, s.action]),
    [
      ['anna@contoso.com', 'update'],
      ['ben@contoso.com', 'update'],
      ['carla@contoso.com', 'update'],
    ],
  );

  const host = new TestHost();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, clock)),
  );
  const byId = new Map(outcome.results.map((r) => [r.id, r]));
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );

  // The profile, read from D365 itself.
  const profiles = [...emulator.state.tables.emailserverprofiles!.values()];
  assert.equal(profiles.length, 1);
  const profile = profiles[0]!;
  assert.equal(profile.name, 'Exchange Online (Hybrid)');
  assert.equal(profile.servertype, 3);
  assert.equal(profile.incomingcredentialretrieval, 2);
  assert.equal(profile.usesamesettingsforoutgoingconnections, true);
  assert.equal(profile.useautodiscover, true);
  assert.equal(profile.usedefaulttenantid, true);
  assert.equal(profile.exchangeonlinetenantid, '11111111-2222-3333-4444-555555555555');
  assert.equal(profile.maxconcurrentconnections, 27);
  assert.equal(outcome.outputs['email-server-profile-id'], profile.emailserverprofileid);
  assert.equal(outcome.outputs['organization-id'], emulator.state.organizationId);
  const org = emulator.state.tables.organizations!.get(emulator.state.organizationId)!;
  assert.equal(org._defaultemailserverprofileid_value, profile.emailserverprofileid);

  // Mailboxes: the three active Read-Write users, not the queue, the disabled or the non-interactive user.
  const mailboxes = [...emulator.state.tables.mailboxes!.values()];
  for (const address of ['anna@contoso.com', 'ben@contoso.com', 'carla@contoso.com']) {
    const mailbox = mailboxes.find((m) => m.emailaddress === address)!;
    assert.deepEqual(
      [
        mailbox.incomingemaildeliverymethod,
        mailbox.outgoingemaildeliverymethod,
        mailbox.actdeliverymethod,
        mailbox._emailserverprofile_value,
      ],
      [2, 2, 1, profile.emailserverprofileid],
      address,
    );
    assert.deepEqual([mailbox.incomingemailstatus, mailbox.outgoingemailstatus, mailbox.actstatus], [1, 1, 1], address);
    const user = emulator.state.tables.systemusers!.get(mailbox._regardingobjectid_value as string)!;
    assert.equal(user.emailrouteraccessapproval, 1, `${address} approved on the user, where D365 keeps it`);
    assert.equal(byId.get(`mailbox.${address}`)?.status, 'changed');
  }
  for (const address of ['sales@contoso.com', 'gone@contoso.com', 'svc@contoso.com']) {
    const mailbox = mailboxes.find((m) => m.emailaddress === address)!;
    assert.notEqual(mailbox.incomingemaildeliverymethod, 2, address);
    assert.equal(byId.has(`mailbox.${address}`), false, address);
  }

  // One PATCH per mailbox, all in one $batch; status read with one query per round.
  assert.equal(emulator.requests.batches, 1);
  assert.equal(emulator.requests.writesBySet.mailboxes, 3);
  const anna = byId.get('mailbox.anna@contoso.com')!;
  assert.deepEqual(anna.before, {
    incoming: 'Dynamics 365 for Outlook',
    outgoing: 'Dynamics 365 for Outlook',
    act: 'Dynamics 365 for Outlook',
    profile: '(none)',
    approval: 'Pending Approval',
  });
  assert.deepEqual(anna.after, {
    incoming: 'Server-Side Synchronization',
    outgoing: 'Server-Side Synchronization',
    act: 'Server-Side Synchronization',
    profile: 'Exchange Online (Hybrid)',
    approval: 'Approved',
  });
  assert.deepEqual((anna.evidence as { test: Record<string, unknown> }).test.incoming, 'Success');

  // Progress and the per-mailbox table.
  assert.ok(
    host.lines.some((l) => /Test & Enable: 3 of 3 mailboxes have a result \(round 2\)/.test(l)),
    host.lines.join('\n'),
  );
  assert.ok(host.lines.some((l) => /waiting for 3/.test(l)));
  assert.match(host.summary, /\| Address \| Incoming \| Outgoing \| ACT \| Approval \| Error \|/);
  assert.ok(host.summary.includes('| anna@contoso.com | Success | Success | Success | Approved |  |'), host.summary);
  assert.equal(outcome.outputs['mailboxes-failed'], '0');
  assert.equal(outcome.outputs['mailboxes-succeeded'], '3');
  // The fake clock slept one poll interval per round; nothing waited for real.
  assert.deepEqual(clock.sleeps, [30_000, 30_000]);

  // Rerun: reads only.
  emulator.requests.reset();
  const again = new TestHost();
  const second = await configureMailboxesPhase.apply(
    contextFor(config, again, windowsServices(emulator, config, again, clock)),
  );
  assert.equal(emulator.requests.writes, 0, JSON.stringify(emulator.requests.log));
  assert.equal(emulator.requests.batches, 0);
  assert.deepEqual([...new Set(second.results.map((r) => r.status))], ['unchanged']);
  assert.equal(second.results.filter((r) => r.id.startsWith('mailbox.')).length, 3);
  assert.deepEqual(
    (
      await configureMailboxesPhase.plan(contextFor(config, again, windowsServices(emulator, config, again, clock)))
    ).filter((s) => s.action !== 'none' && s.action !== 'check'),
    [],
  );
});

test('explicit EWS locations when autodiscover is off; an existing profile is updated only where it differs; a different-type profile is not converted', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: [{ address: 'anna@contoso.com' }],
    profiles: [
      {
        name: 'Exchange Online (Hybrid)',
        servertype: 3,
        incomingcredentialretrieval: 2,
        useautodiscover: true,
        maxconcurrentconnections: 40,
      },
    ],
    testAndEnable: { afterQueries: 1 },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator, {
    email: {
      profile: {
        name: 'Exchange Online (Hybrid)',
        autodiscover: false,
        incomingServerLocation: 'https://outlook.office365.com/EWS/Exchange.asmx',
        outgoingServerLocation: 'https://outlook.office365.com/EWS/Exchange.asmx',
      },
    },
  });
  const host = new TestHost();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, fakeClock())),
  );
  const step = outcome.results.find((r) => r.id === 'crm.email-server-profile')!;
  assert.equal(step.status, 'changed');
  const changed = (step.evidence as { changed: Record<string, unknown> }).changed;
  // exchangeonlinetenantid is never written: with usedefaulttenantid D365 keeps the deployment's S2STenantId there.
  assert.deepEqual(Object.keys(changed).sort(), [
    'incomingserverlocation',
    'outgoingserverlocation',
    'useautodiscover',
  ]);
  const profile = [...emulator.state.tables.emailserverprofiles!.values()][0]!;
  assert.equal(profile.useautodiscover, false);
  assert.equal(profile.incomingserverlocation, 'https://outlook.office365.com/EWS/Exchange.asmx');
  assert.equal(profile.maxconcurrentconnections, 40, 'an admin’s tuning is kept');

  const other = await startD365Emulator({
    mailboxes: 1,
    profiles: [{ name: 'Exchange Online (Hybrid)', servertype: 0 }],
  });
  t.after(() => other.close());
  const otherConfig = configFor(other);
  const otherHost = new TestHost();
  const refused = await configureMailboxesPhase.apply(
    contextFor(otherConfig, otherHost, windowsServices(other, otherConfig, otherHost, fakeClock())),
  );
  const refusedStep = refused.results.find((r) => r.id === 'crm.email-server-profile')!;
  assert.equal(refusedStep.status, 'failed');
  assert.match(refusedStep.error!, /is of type Exchange Server, not Exchange Online \(Hybrid\)/);
  assert.equal(other.requests.writes, 0);
});

test('select: addresses and select: filter; an address without a mailbox is reported', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: [
      { address: 'anna@contoso.com' },
      { address: 'ben@contoso.com' },
      { address: 'sales@contoso.com', kind: 'queue' },
    ],
    testAndEnable: { afterQueries: 1 },
  });
  t.after(() => emulator.close());
  const byAddress = configFor(emulator, {
    email: {
      mailboxes: { select: 'addresses', addresses: ['Anna@contoso.com', 'sales@contoso.com', 'nobody@contoso.com'] },
    },
  });
  const host = new TestHost();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(byAddress, host, windowsServices(emulator, byAddress, host, fakeClock())),
  );
  const statuses = Object.fromEntries(
    outcome.results.filter((r) => r.id.startsWith('mailbox.')).map((r) => [r.target, r.status]),
  );
  assert.deepEqual(statuses, {
    'anna@contoso.com': 'changed',
    'sales@contoso.com': 'changed',
    'nobody@contoso.com': 'failed',
  });
  const queue = [...emulator.state.tables.queues!.values()][0]!;
  assert.equal(queue.emailrouteraccessapproval, 1, 'the queue’s address approved');
  const salesBox = [...emulator.state.tables.mailboxes!.values()].find((m) => m.emailaddress === 'sales@contoso.com')!;
  assert.equal(salesBox.actdeliverymethod, 2, 'ACT untouched for a queue');

  const byFilter = configFor(emulator, {
    email: { mailboxes: { select: 'filter', filter: "startswith(emailaddress,'ben')" } },
  });
  const filterHost = new TestHost();
  const filtered = await configureMailboxesPhase.apply(
    contextFor(byFilter, filterHost, windowsServices(emulator, byFilter, filterHost, fakeClock())),
  );
  assert.deepEqual(
    filtered.results.filter((r) => r.id.startsWith('mailbox.')).map((r) => [r.target, r.status]),
    [['ben@contoso.com', 'changed']],
  );
});

test('App for Outlook: scheduled for users whose incoming email passed; one without the privilege is named; installed ones are left alone next time', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: [
      { address: 'anna@contoso.com' },
      { address: 'ben@contoso.com' },
      { address: 'sales@contoso.com', kind: 'queue' },
    ],
    officeApps: { withoutPrivilege: ['ben@contoso.com'] },
    testAndEnable: { afterQueries: 1 },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator, {
    email: {
      mailboxes: {
        select: 'addresses',
        addresses: ['anna@contoso.com', 'ben@contoso.com', 'sales@contoso.com'],
        outlookApp: true,
      },
    },
  });
  const host = new TestHost();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, fakeClock())),
  );
  const byTarget = new Map(outcome.results.filter((r) => r.id.startsWith('mailbox.')).map((r) => [r.target, r]));
  const mailbox = (address: string) =>
    [...emulator.state.tables.mailboxes!.values()].find((m) => m.emailaddress === address)!;
  assert.equal(mailbox('anna@contoso.com').officeappsdeploymentstatus, 1);
  assert.equal(mailbox('sales@contoso.com').officeappsdeploymentstatus, 0, 'queues do not get the app');
  assert.match(byTarget.get('ben@contoso.com')!.warnings!.join(' '), /UseOfficeApps privilege.*prvUseOfficeApps/);
  assert.ok(
    host.lines.some((l) => /App for Outlook: 2 of 2 mailboxes have a result \(1 failed\)/.test(l)),
    host.lines.join('\n'),
  );

  emulator.requests.reset();
  const again = new TestHost();
  await configureMailboxesPhase.apply(contextFor(config, again, windowsServices(emulator, config, again, fakeClock())));
  // Only Ben's failed install is tried again; Anna's installed app is left alone.
  assert.equal(emulator.requests.writes, 1);
});
