// configure-mailboxes's decisions without the Web API: the profile, the organization default, each mailbox and
// which Test & Enable result to wait for.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EmailServerProfileRow } from '../../../src/crm/entities.js';
import {
  diffMailboxes,
  diffProfile,
  NO_TENANT_ID_WARNING,
  organizationDefaultNeeded,
  outlookAppNeeded,
  PROFILE_TO_CREATE,
} from '../../../src/phases/mailboxes/diff.js';
import { wantedProfile } from '../../../src/phases/mailboxes/profile.js';
import { mailbox, PROFILE, settings, TENANT } from '../support/mailboxes.js';

const NOW = new Date('2026-11-26T11:00:00Z');
const TEST_AT = '2026-11-26T10:55:00.000Z';

function profileRow(overrides: Partial<EmailServerProfileRow> = {}): EmailServerProfileRow {
  return {
    emailserverprofileid: PROFILE,
    name: settings.profileName,
    exchangeonlinetenantid: TENANT,
    ...(wantedProfile(settings) as Partial<EmailServerProfileRow>),
    ...overrides,
  } as EmailServerProfileRow;
}

const wanted = { profileId: PROFILE, settings, canApprove: true };

describe('configure-mailboxes diff: the email server profile', () => {
  it('creates the profile when none has the name, and warns when no tenant id was given', () => {
    const change = diffProfile(settings, [], undefined);
    assert.equal(change.plan.kind, 'create');
    assert.deepEqual(change.warnings, [NO_TENANT_ID_WARNING]);
  });

  it('changes nothing on a profile that matches, and names only what differs on one that does not', () => {
    assert.equal(diffProfile(settings, [profileRow()], TENANT).plan.kind, 'unchanged');
    const change = diffProfile(settings, [profileRow({ useautodiscover: false })], TENANT);
    assert.equal(change.plan.kind, 'update');
    assert.deepEqual(Object.keys(change.plan.kind === 'update' ? change.plan.differences : {}), ['useautodiscover']);
    assert.deepEqual(change.warnings, []);
  });

  it('refuses two profiles of the same name, and a profile of another server type', () => {
    const two = diffProfile(settings, [profileRow(), profileRow({ emailserverprofileid: 'other' })], TENANT);
    assert.equal(two.plan.kind, 'conflict');
    const exchange = diffProfile(settings, [profileRow({ servertype: 0 })], TENANT);
    assert.match(exchange.plan.kind === 'conflict' ? exchange.plan.message : '', /not Exchange Online \(Hybrid\)/);
  });

  it('names a profile whose tenant is not the Exchange Online tenant (tenant ids compare without case)', () => {
    assert.equal(diffProfile(settings, [profileRow()], TENANT.toUpperCase()).tenantProblem, undefined);
    const other = diffProfile(
      settings,
      [profileRow({ exchangeonlinetenantid: 'ffffffff-0000-0000-0000-000000000000' })],
      TENANT,
    );
    assert.match(other.tenantProblem!, /run configure-crm, which sets S2STenantId/);
    assert.deepEqual(other.warnings, [other.tenantProblem]);
  });
});

describe('configure-mailboxes diff: the organization default profile', () => {
  it('is set when it is another profile or none, left when it is the profile, and set for a profile still to create', () => {
    assert.equal(organizationDefaultNeeded(`{${PROFILE.toUpperCase()}}`, PROFILE), false);
    assert.equal(organizationDefaultNeeded(null, PROFILE), true);
    assert.equal(organizationDefaultNeeded('bbbbbbbb-0000-4000-8000-000000000002', PROFILE), true);
    assert.equal(organizationDefaultNeeded(null, PROFILE_TO_CREATE), true);
  });
});

describe('configure-mailboxes diff: the mailboxes', () => {
  it('writes nothing and waits for nothing for a mailbox already set, approved and enabled', () => {
    const diff = diffMailboxes([mailbox({ profileId: PROFILE.toUpperCase() })], wanted, NOW);
    const change = diff.changes.get('m1')!;
    assert.deepEqual(change, { settings: {}, approve: false, approvalBlocked: false, test: false, awaitTest: false });
    assert.equal(diff.tests, 0);
    assert.equal(diff.baselines.size, 0);
  });

  it('sets a legacy mailbox, approves it, schedules its test and waits for a result after the postpone time', () => {
    const diff = diffMailboxes(
      [mailbox({ incoming: 1, outgoing: 1, act: 0, profileId: null, approval: 2 })],
      wanted,
      NOW,
    );
    const change = diff.changes.get('m1')!;
    assert.deepEqual(Object.keys(change.settings).sort(), [
      'actdeliverymethod',
      'emailserverprofile@odata.bind',
      'incomingemaildeliverymethod',
      'outgoingemaildeliverymethod',
    ]);
    assert.equal(change.approve, true);
    assert.equal(change.test, true);
    assert.equal(diff.testAt, TEST_AT);
    assert.equal(diff.baselines.get('m1'), TEST_AT);
    assert.equal(diff.tests, 1);
  });

  it('binds every mailbox to the profile plan is about to create', () => {
    const diff = diffMailboxes([mailbox()], { ...wanted, profileId: PROFILE_TO_CREATE }, NOW);
    assert.ok('emailserverprofile@odata.bind' in diff.changes.get('m1')!.settings);
  });

  it('does not approve without the privilege, and says so', () => {
    const change = diffMailboxes([mailbox({ approval: 2 })], { ...wanted, canApprove: false }, NOW).changes.get('m1')!;
    assert.equal(change.approve, false);
    assert.equal(change.approvalBlocked, true);
  });

  it('only waits for a test scheduled earlier and due, from just after its last completion', () => {
    const diff = diffMailboxes(
      [mailbox({ incomingStatus: 2, scheduled: true, postponeUntil: '2026-11-26T10:00:00Z' })],
      wanted,
      NOW,
    );
    assert.equal(diff.changes.get('m1')!.test, false);
    assert.equal(diff.tests, 0);
    assert.equal(diff.baselines.get('m1'), '2026-11-20T10:00:00.001Z');
  });

  it('schedules again a test whose postpone time is null (never picked up)', () => {
    const diff = diffMailboxes([mailbox({ incomingStatus: 2, scheduled: true, postponeUntil: null })], wanted, NOW);
    assert.equal(diff.changes.get('m1')!.test, true);
    assert.equal(diff.baselines.get('m1'), TEST_AT);
  });

  it('decides each mailbox on its own: one to change among many that are right', () => {
    const records = [mailbox({ id: 'a' }), mailbox({ id: 'b', outgoing: 0 }), mailbox({ id: 'c' })];
    const diff = diffMailboxes(records, wanted, NOW);
    assert.deepEqual(
      [...diff.changes].filter(([, c]) => c.test).map(([id]) => id),
      ['b'],
    );
  });

  it('with Test & Enable off, writes the settings and schedules no test', () => {
    const diff = diffMailboxes(
      [mailbox({ outgoing: 0 })],
      { ...wanted, settings: { ...settings, testAndEnable: false } },
      NOW,
    );
    assert.equal(diff.changes.get('m1')!.test, false);
    assert.equal(diff.baselines.size, 0);
    assert.ok('outgoingemaildeliverymethod' in diff.changes.get('m1')!.settings);
  });
});

describe('configure-mailboxes diff: the App for Outlook', () => {
  it('is scheduled only for users whose incoming email passed and who have it neither installed nor scheduled', () => {
    assert.equal(outlookAppNeeded(mailbox()), true);
    assert.equal(outlookAppNeeded(mailbox({ ownerType: 'queue' })), false);
    assert.equal(outlookAppNeeded(mailbox({ incomingStatus: 2 })), false);
    assert.equal(outlookAppNeeded(mailbox({ enabledIncoming: false })), false);
    assert.equal(outlookAppNeeded(mailbox({ officeScheduled: true })), false);
    assert.equal(outlookAppNeeded(mailbox({ officeStatus: 1 })), false);
  });
});
