import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailboxChange, mailboxPatch, hasWrites } from '../../../src/phases/mailboxes/changes.js';
import { testFinished, thresholdAfter } from '../../../src/phases/mailboxes/poll.js';
import type { MailboxRecord } from '../../../src/phases/mailboxes/select.js';
import { mailbox, PROFILE, settings } from '../support/mailboxes.js';

const NOW = new Date('2026-11-26T11:00:00Z');
const AT = '2026-11-26T10:55:00.000Z';

// Profile ids compare without case: the records here carry it upper-case.
const record = (overrides: Partial<MailboxRecord> = {}): MailboxRecord =>
  mailbox({ profileId: PROFILE.toUpperCase(), ...overrides });

test('a mailbox that is set, approved and tested OK needs nothing (profile ids compare without case)', () => {
  const change = mailboxChange(record(), { profileId: PROFILE, settings, canApprove: true, now: NOW });
  assert.equal(hasWrites(change), false);
  assert.equal(change.awaitTest, false);
});

test('a legacy mailbox gets one PATCH: delivery methods, profile, approval and the test flags', () => {
  const change = mailboxChange(
    record({
      incoming: 1,
      outgoing: 1,
      act: 0,
      profileId: null,
      approval: 2,
      incomingStatus: 0,
      outgoingStatus: 0,
      actStatus: 0,
    }),
    {
      profileId: PROFILE,
      settings,
      canApprove: true,
      now: NOW,
    },
  );
  assert.deepEqual(mailboxPatch(change, settings, AT), {
    incomingemaildeliverymethod: 2,
    outgoingemaildeliverymethod: 2,
    actdeliverymethod: 1,
    'emailserverprofile@odata.bind': `/emailserverprofiles(${PROFILE})`,
    emailrouteraccessapproval: 1,
    testemailconfigurationscheduled: true,
    postponetestemailconfigurationuntil: AT,
    incomingemailstatus: 0,
    outgoingemailstatus: 0,
    actstatus: 0,
  });
});

test('ACT is left alone when not configured and for queues; approval is not sent without the privilege', () => {
  const noAct = { ...settings, appointmentsContactsTasks: false };
  assert.ok(
    !(
      'actdeliverymethod' in
      mailboxChange(record({ act: 0, actStatus: 0 }), {
        profileId: PROFILE,
        settings: noAct,
        canApprove: true,
        now: NOW,
      }).settings
    ),
  );
  assert.ok(
    !(
      'actdeliverymethod' in
      mailboxChange(record({ ownerType: 'queue', act: 2 }), {
        profileId: PROFILE,
        settings,
        canApprove: true,
        now: NOW,
      }).settings
    ),
  );
  const blocked = mailboxChange(record({ approval: 2 }), { profileId: PROFILE, settings, canApprove: false, now: NOW });
  assert.equal(blocked.approve, false);
  assert.equal(blocked.approvalBlocked, true);
  assert.ok(!('emailrouteraccessapproval' in mailboxPatch(blocked, settings, AT)));
});

test('a failed or disabled mailbox is tested again; one already scheduled and due is only waited for', () => {
  const failed = mailboxChange(record({ outgoingStatus: 2 }), {
    profileId: PROFILE,
    settings,
    canApprove: true,
    now: NOW,
  });
  assert.equal(failed.test, true);
  const disabled = mailboxChange(record({ enabledIncoming: false }), {
    profileId: PROFILE,
    settings,
    canApprove: true,
    now: NOW,
  });
  assert.equal(disabled.test, true);
  // A null postpone time is never picked up by D365's scheduler: such a mailbox is scheduled again.
  const stuck = mailboxChange(record({ incomingStatus: 0, scheduled: true, postponeUntil: null }), {
    profileId: PROFILE,
    settings,
    canApprove: true,
    now: NOW,
  });
  assert.deepEqual([stuck.test, stuck.awaitTest], [true, true]);
  const due = mailboxChange(record({ incomingStatus: 0, scheduled: true, postponeUntil: '2026-11-26T10:59:00Z' }), {
    profileId: PROFILE,
    settings,
    canApprove: true,
    now: NOW,
  });
  assert.deepEqual([due.test, due.awaitTest, hasWrites(due)], [false, true, false]);
  const postponed = mailboxChange(
    record({ incomingStatus: 2, scheduled: true, postponeUntil: '2026-11-26T12:00:00Z' }),
    { profileId: PROFILE, settings, canApprove: true, now: NOW },
  );
  assert.equal(postponed.test, true);
  const custom = {
    ...settings,
    testFields: { scheduled: 'x_scheduled', postponeUntil: 'x_postpone', completedOn: 'x_done' },
  };
  assert.deepEqual(
    mailboxPatch(
      mailboxChange(record({ incomingStatus: 2 }), {
        profileId: PROFILE,
        settings: custom,
        canApprove: true,
        now: NOW,
      }),
      custom,
      AT,
    ),
    { x_scheduled: true, x_postpone: AT, incomingemailstatus: 0, outgoingemailstatus: 0, actstatus: 0 },
  );
});

test('a test is finished when it completed at or after its threshold and every tested direction has a result; a Failure ends it early', () => {
  const before = '2026-11-20T10:00:00Z';
  // Scheduled before the run: only a newer completion counts.
  assert.equal(testFinished(record({ completedOn: before }), thresholdAfter(before), settings), false);
  assert.equal(testFinished(record({ completedOn: '2026-11-26T10:00:00Z' }), thresholdAfter(before), settings), true);
  // Scheduled by this run at AT: an earlier completion with Success everywhere is a result left from an older test.
  assert.equal(testFinished(record({ completedOn: '2026-11-26T10:54:59Z' }), AT, settings), false);
  assert.equal(testFinished(record({ completedOn: AT }), AT, settings), true);
  assert.equal(testFinished(record({ completedOn: '2026-11-26T11:00:00Z', actStatus: 0 }), AT, settings), false);
  assert.equal(
    testFinished(record({ completedOn: '2026-11-26T11:00:00Z', actStatus: 0, incomingStatus: 2 }), AT, settings),
    true,
  );
  assert.equal(
    testFinished(record({ completedOn: '2026-11-26T11:00:00Z', actStatus: 0 }), AT, {
      ...settings,
      appointmentsContactsTasks: false,
    }),
    true,
  );
  assert.equal(testFinished(record({ completedOn: null }), null, settings), false);
});
