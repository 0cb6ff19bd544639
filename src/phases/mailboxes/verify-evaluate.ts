// verify's D365 decisions, pure (no Web API call, no clock read): what the profile, the organization default and
// each mailbox look like against the config — judged by what configure-mailboxes's own diff would still change —
// which mailboxes get Test & Enable again (verify's only change), and which mailboxes fail.
import { sameId } from '../../crm/entities.js';
import type { EmailServerProfileRow } from '../../crm/entities.js';
import { healthy } from './changes.js';
import { diffMailboxes, diffProfile, organizationDefaultNeeded } from './diff.js';
import { testFailed } from './poll.js';
import { profileSummary } from './profile.js';
import type { MailboxRecord } from './select.js';
import type { MailboxSettings } from './settings.js';

/** A finding of verify, before its id, title and target are added. */
export interface Finding {
  status: 'unchanged' | 'failed';
  before: unknown;
  after: unknown;
  error?: string;
  warnings?: string[];
}

/** The profile as found: its id when it exists and has the right type, and the finding. */
export function evaluateProfile(
  settings: MailboxSettings,
  found: EmailServerProfileRow[],
  tenantId: string | undefined,
): { profileId?: string; finding: Finding } {
  const { plan, tenantProblem } = diffProfile(settings, found, tenantId);
  switch (plan.kind) {
    case 'unchanged':
      return {
        profileId: plan.profile.emailserverprofileid,
        finding: {
          status: 'unchanged',
          before: profileSummary(plan.profile),
          after: profileSummary(plan.profile),
          ...(tenantProblem ? { warnings: [tenantProblem] } : {}),
        },
      };
    case 'update':
      return {
        profileId: plan.profile.emailserverprofileid,
        finding: {
          status: 'failed',
          before: profileSummary(plan.profile),
          after: plan.differences,
          error: `the profile differs from the configuration in ${Object.keys(plan.differences).join(', ')}: run configure-mailboxes`,
        },
      };
    case 'create':
      return {
        finding: {
          status: 'failed',
          before: null,
          after: null,
          error: 'there is no such profile: run configure-mailboxes',
        },
      };
    case 'conflict':
      return { finding: { status: 'failed', before: null, after: null, error: plan.message } };
  }
}

export function evaluateOrganizationDefault(
  current: string | null,
  profileId: string,
  settings: MailboxSettings,
): Finding {
  const ok = !organizationDefaultNeeded(current, profileId);
  return {
    status: ok ? 'unchanged' : 'failed',
    before: current,
    after: current,
    ...(ok
      ? {}
      : { error: `the organization's default profile is not "${settings.profileName}": run configure-mailboxes` }),
  };
}

/**
 * What is not as configure-mailboxes leaves it, in words: what its diff would still change on this mailbox
 * (a missing profile counts as not using it).
 */
export function setupProblems(
  record: MailboxRecord,
  profileId: string | undefined,
  settings: MailboxSettings,
): string[] {
  const problems: string[] = [];
  // canApprove: whether the runner may approve is configure-mailboxes's concern; here only "approved or not" counts.
  const wanted = { profileId: profileId ?? '', settings: { ...settings, testAndEnable: false }, canApprove: true };
  // The time only matters for scheduling a test, which is off here.
  const change = diffMailboxes([record], wanted, new Date(0)).changes.get(record.id)!;
  if ('incomingemaildeliverymethod' in change.settings)
    problems.push('incoming email is not on server-side synchronization');
  if ('outgoingemaildeliverymethod' in change.settings)
    problems.push('outgoing email is not on server-side synchronization');
  if ('actdeliverymethod' in change.settings)
    problems.push('appointments, contacts and tasks are not on server-side synchronization');
  if (!profileId || !sameId(record.profileId, profileId))
    problems.push(`the mailbox does not use the profile "${settings.profileName}"`);
  if (change.approve) problems.push('the email address is not approved');
  return problems;
}

/** The mailboxes verify runs Test & Enable on again: every one that is set up, when re-testing is on. */
export function retestTargets(
  records: MailboxRecord[],
  problems: Map<string, string[]>,
  retest: boolean,
  settings: MailboxSettings,
): MailboxRecord[] {
  if (!retest || !settings.testAndEnable) return [];
  return records.filter((r) => problems.get(r.id)!.length === 0);
}

/** What verify knows about one mailbox after the re-test (or without one). */
export interface MailboxEvidence {
  setupProblems: string[];
  /** D365's error when scheduling the re-test failed. */
  scheduleError?: string;
  /** Re-tested in this run: judged by this test's result; otherwise by the last one. */
  tested: boolean;
  timedOut: boolean;
}

/** The mailbox's error (not set up, or the re-test not scheduled), and whether it fails verification. */
export function mailboxVerdict(
  record: MailboxRecord,
  evidence: MailboxEvidence,
  settings: MailboxSettings,
): { failed: boolean; writeError?: string } {
  const writeError =
    evidence.scheduleError ??
    (evidence.setupProblems.length
      ? `not set up: ${evidence.setupProblems.join('; ')} — run configure-mailboxes`
      : undefined);
  const failed =
    !!writeError || evidence.timedOut || (evidence.tested ? testFailed(record, settings) : !healthy(record, settings));
  return { failed, ...(writeError ? { writeError } : {}) };
}
