// configure-mailboxes's decisions, made once for plan and apply: what to do with the email server profile, the
// organization's default profile, each selected mailbox (settings, approval, Test & Enable, which result to wait
// for) and the App for Outlook. Pure: no Web API call and no clock read (`now` is passed); plan renders these
// changes, apply executes them and reads back. How many writes go in one $batch is the client's concern.
import { INCOMING_DELIVERY, OFFICE_APPS_STATUS, sameId, TEST_STATUS } from '../../crm/entities.js';
import type { EmailServerProfileRow } from '../../crm/entities.js';
import { mailboxChange, testScheduleTime, type MailboxChange } from './changes.js';
import { thresholdAfter } from './poll.js';
import { planProfile, tenantWarning, type ProfilePlan } from './profile.js';
import type { MailboxRecord } from './select.js';
import type { MailboxSettings } from './settings.js';

export const NO_TENANT_ID_WARNING =
  'no tenant id (tenant.id, or the tenant-id output of register-entra): the profile relies on the deployment’s S2STenantId, unchecked';

export interface ProfileChange {
  /** create, update (with the differences), unchanged, or conflict (nothing may be done). */
  plan: ProfilePlan;
  /** The profile's tenant is not the Exchange Online tenant (configure-crm fixes it). */
  tenantProblem?: string;
  /** What the run record carries as warnings of the profile step. */
  warnings: string[];
}

/** The profile change from the profiles found by name and the tenant the run was given. */
export function diffProfile(
  settings: MailboxSettings,
  found: EmailServerProfileRow[],
  tenantId: string | undefined,
): ProfileChange {
  const tenantProblem = found.length === 1 ? tenantWarning(found[0], tenantId) : undefined;
  return {
    plan: planProfile(settings, found),
    ...(tenantProblem ? { tenantProblem } : {}),
    warnings: [...(tenantId ? [] : [NO_TENANT_ID_WARNING]), ...(tenantProblem ? [tenantProblem] : [])],
  };
}

/** Stands for the profile's id in plan while the profile is still to be created: every mailbox gets bound to it. */
export const PROFILE_TO_CREATE = '(the profile to create)';

/** Whether the organization's default profile must be set: it is not the profile (or the profile is still to be made). */
export function organizationDefaultNeeded(current: string | null, profileId: string): boolean {
  return profileId === PROFILE_TO_CREATE || !sameId(current, profileId);
}

export interface MailboxesDiff {
  /** Mailbox id → its change (settings, approval, test); a change without writes for a mailbox that is right. */
  changes: Map<string, MailboxChange>;
  /**
   * Mailbox id → the completion time a Test & Enable result must reach to count: the postpone time written for a
   * test scheduled now, or just after the last completion for one scheduled before this run.
   */
  baselines: Map<string, string | null>;
  /** The postpone time written with every test scheduled now. */
  testAt: string;
  /** How many mailboxes get a test scheduled now. */
  tests: number;
}

export interface MailboxesWanted {
  /** The profile's id, or PROFILE_TO_CREATE (plan, before the profile exists). */
  profileId: string;
  settings: MailboxSettings;
  /** Whether the runner holds prvApproveRejectEmailAddress. */
  canApprove: boolean;
}

export function diffMailboxes(records: MailboxRecord[], wanted: MailboxesWanted, now: Date): MailboxesDiff {
  const testAt = testScheduleTime(now);
  const changes = new Map<string, MailboxChange>();
  const baselines = new Map<string, string | null>();
  let tests = 0;
  for (const record of records) {
    const change = mailboxChange(record, { ...wanted, now });
    changes.set(record.id, change);
    if (change.test) tests++;
    // Scheduled now: a completion at or after the postpone time written; scheduled earlier: a newer completion.
    if (change.awaitTest) baselines.set(record.id, change.test ? testAt : thresholdAfter(record.completedOn));
  }
  return { changes, baselines, testAt, tests };
}

/** A user's mailbox whose incoming email passed Test & Enable and has no App for Outlook yet, nor one scheduled. */
export function outlookAppNeeded(record: MailboxRecord): boolean {
  return (
    record.ownerType === 'systemuser' &&
    record.incoming === INCOMING_DELIVERY.serverSideSync &&
    record.incomingStatus === TEST_STATUS.success &&
    record.enabledIncoming !== false &&
    record.officeScheduled !== true &&
    record.officeStatus !== OFFICE_APPS_STATUS.installed
  );
}
