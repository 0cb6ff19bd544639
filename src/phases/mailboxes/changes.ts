// What a mailbox needs: server-side sync for incoming and outgoing email (and appointments, contacts
// and tasks when configured), the profile, an approved address, and a Test & Enable when anything
// changed or the last test did not pass. Nothing is written for a mailbox that is already right.
import {
  ACT_DELIVERY,
  APPROVAL,
  INCOMING_DELIVERY,
  OUTGOING_DELIVERY,
  sameId,
  TEST_STATUS,
} from '../../crm/entities.js';
import type { MailboxRecord } from './select.js';
import type { MailboxSettings } from './settings.js';

export interface MailboxChange {
  /** Attribute changes of the mailbox itself (delivery methods, profile binding). */
  settings: Record<string, unknown>;
  /** The address needs approving and the runner may approve it. */
  approve: boolean;
  /** The address needs approving but the runner lacks prvApproveRejectEmailAddress. */
  approvalBlocked: boolean;
  /** Schedule Test & Enable. */
  test: boolean;
  /** Wait for a Test & Enable result (scheduled now, or already scheduled before this run). */
  awaitTest: boolean;
}

export interface ChangeContext {
  profileId: string | undefined;
  settings: MailboxSettings;
  /** Whether the runner holds prvApproveRejectEmailAddress. */
  canApprove: boolean;
  /** Now, on the runner's clock (whether a test scheduled earlier is due). */
  now: Date;
}

/** The runner's clock may run ahead of D365's: the postpone time written is this much before now. */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

/** When a test scheduled now becomes due: now, less the clock-skew allowance (ISO, UTC). */
export function testScheduleTime(now: Date): string {
  return new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS).toISOString();
}

/**
 * The attributes that schedule Test & Enable: the flag, a postpone time in the past (the scheduler only picks
 * a test whose postpone time is at or before the moment it dequeues; null never is), and every direction's
 * status back to Not Run, so that only this test's results count.
 */
export function testSchedulePatch(settings: MailboxSettings, at: string): Record<string, unknown> {
  return {
    [settings.testFields.scheduled]: true,
    [settings.testFields.postponeUntil]: at,
    incomingemailstatus: TEST_STATUS.notRun,
    outgoingemailstatus: TEST_STATUS.notRun,
    actstatus: TEST_STATUS.notRun,
  };
}

/** Which directions are synchronised and therefore tested. */
export function wantedDirections(
  record: MailboxRecord,
  settings: MailboxSettings,
): { incoming: boolean; outgoing: boolean; act: boolean } {
  return {
    incoming: true,
    outgoing: true,
    act: settings.appointmentsContactsTasks && record.ownerType === 'systemuser',
  };
}

/** Every synchronised direction passed its last test and is enabled. */
export function healthy(record: MailboxRecord, settings: MailboxSettings): boolean {
  const wanted = wantedDirections(record, settings);
  return (
    record.incomingStatus === TEST_STATUS.success &&
    record.enabledIncoming !== false &&
    record.outgoingStatus === TEST_STATUS.success &&
    record.enabledOutgoing !== false &&
    (!wanted.act || (record.actStatus === TEST_STATUS.success && record.enabledAct !== false))
  );
}

export function mailboxChange(record: MailboxRecord, context: ChangeContext): MailboxChange {
  const { settings } = context;
  const changes: Record<string, unknown> = {};
  if (record.incoming !== INCOMING_DELIVERY.serverSideSync)
    changes.incomingemaildeliverymethod = INCOMING_DELIVERY.serverSideSync;
  if (record.outgoing !== OUTGOING_DELIVERY.serverSideSync)
    changes.outgoingemaildeliverymethod = OUTGOING_DELIVERY.serverSideSync;
  if (wantedDirections(record, settings).act && record.act !== ACT_DELIVERY.serverSideSync) {
    changes.actdeliverymethod = ACT_DELIVERY.serverSideSync;
  }
  if (context.profileId && !sameId(record.profileId, context.profileId)) {
    changes['emailserverprofile@odata.bind'] = `/emailserverprofiles(${context.profileId})`;
  }
  const needsApproval = settings.approve && record.approval !== APPROVAL.approved;
  const approve = needsApproval && context.canApprove;
  const changed = Object.keys(changes).length > 0 || approve;
  const needsTest = settings.testAndEnable && (changed || !healthy(record, settings));
  // A test already scheduled and due is only waited for, unless the mailbox is written anyway. A null postpone
  // time never becomes due, so such a test is scheduled again.
  const alreadyDue =
    record.scheduled === true &&
    !!record.postponeUntil &&
    Date.parse(record.postponeUntil) <= context.now.getTime() + CLOCK_SKEW_ALLOWANCE_MS;
  const test = needsTest && (changed || !alreadyDue);
  return {
    settings: changes,
    approve,
    approvalBlocked: needsApproval && !context.canApprove,
    test,
    awaitTest: needsTest,
  };
}

/** The PATCH body for a mailbox (one operation: D365 forwards the approval to the user or queue). */
export function mailboxPatch(
  change: MailboxChange,
  settings: MailboxSettings,
  testAt: string,
  withApproval = true,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...change.settings };
  if (change.approve && withApproval) body.emailrouteraccessapproval = APPROVAL.approved;
  if (change.test) Object.assign(body, testSchedulePatch(settings, testAt));
  return body;
}

export function hasWrites(change: MailboxChange): boolean {
  return Object.keys(change.settings).length > 0 || change.approve || change.test;
}

const INCOMING_LABELS: Record<number, string> = {
  0: 'None',
  1: 'Dynamics 365 for Outlook',
  2: 'Server-Side Synchronization',
  3: 'Forward Mailbox',
};
const OUTGOING_LABELS: Record<number, string> = {
  0: 'None',
  1: 'Dynamics 365 for Outlook',
  2: 'Server-Side Synchronization',
};
const ACT_LABELS: Record<number, string> = {
  0: 'Dynamics 365 for Outlook',
  1: 'Server-Side Synchronization',
  2: 'None',
};
const APPROVAL_LABELS: Record<number, string> = { 0: 'Empty', 1: 'Approved', 2: 'Pending Approval', 3: 'Rejected' };
const TEST_LABELS: Record<number, string> = { 0: 'Not Run', 1: 'Success', 2: 'Failure' };

const label = (labels: Record<number, string>, value: number | null) =>
  value === null ? '(none)' : (labels[value] ?? String(value));

export const labels = {
  incoming: (v: number | null) => label(INCOMING_LABELS, v),
  outgoing: (v: number | null) => label(OUTGOING_LABELS, v),
  act: (v: number | null) => label(ACT_LABELS, v),
  approval: (v: number | null) => label(APPROVAL_LABELS, v),
  test: (v: number | null) => label(TEST_LABELS, v),
};

/** Profile id → words, for before/after: the configured profile by name, another by its id. */
export function profileNamer(profileId: string | undefined, settings: MailboxSettings) {
  return (id: string | null) =>
    !id ? '(none)' : profileId && sameId(id, profileId) ? settings.profileName : `another profile (${id})`;
}

/** The settings of a mailbox in words, for before/after in the run record. */
export function describeSettings(
  record: MailboxRecord,
  profileName: (id: string | null) => string,
): Record<string, string> {
  return {
    incoming: labels.incoming(record.incoming),
    outgoing: labels.outgoing(record.outgoing),
    act: labels.act(record.act),
    profile: profileName(record.profileId),
    approval: labels.approval(record.approval),
  };
}
