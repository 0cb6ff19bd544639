// configure-mailboxes's apply side: executes the changes mailboxes/diff.ts decided (the email server profile, the
// organization's default profile, the mailbox changes in change sets) and records who the toolkit runs as.
import type { WebApiClient, ChangeUnit } from '../../crm/client.js';
import { CrmError } from '../../crm/errors.js';
import { APPROVE_PRIVILEGE, EMAIL_PRIVILEGES } from '../../crm/entities.js';
import type { Logger } from '../../hosts/host.js';
import type { StepResult } from '../phase.js';
import type { CallerInfo } from './caller.js';
import { mailboxPatch, type MailboxChange } from './changes.js';
import { organizationDefaultNeeded, type ProfileChange } from './diff.js';
import { profilePatch, profileSummary, readOrganizationDefaultProfile, readProfilesByName } from './profile.js';
import { ORGANIZATION_DEFAULT_STEP } from './report.js';
import type { MailboxRecord } from './select.js';
import type { MailboxSettings } from './settings.js';

export function callerResult(caller: CallerInfo, needed: string[]): StepResult {
  const missing = caller.missing.filter((m) => needed.includes(m.name));
  const warnings: string[] = [];
  if (!caller.systemAdministrator)
    warnings.push('the runner’s D365 account does not have the System Administrator role');
  for (const m of missing) warnings.push(`the runner’s D365 account lacks ${m.name} (${m.label})`);
  for (const s of caller.shallow.filter((s) => needed.includes(s.name)))
    warnings.push(
      `the runner’s D365 account holds ${s.name} (${s.label}) at ${s.depth} depth only: mailboxes of users outside its reach fail with a privilege error; give it Organization (Global) depth`,
    );
  return {
    id: 'crm.caller',
    title: 'D365 account the toolkit runs as',
    target: caller.userId,
    status: 'unchanged',
    before: null,
    after: {
      userId: caller.userId,
      organizationId: caller.organizationId,
      systemAdministrator: caller.systemAdministrator,
      roles: caller.roles,
    },
    evidence: { privileges: caller.privileges, depths: caller.depths },
    ...(warnings.length ? { warnings } : {}),
  };
}

export const PROFILE_STEP_ID = 'crm.email-server-profile';

/** The profile step's id, title and target, for plan steps and results alike. */
export function profileBase(settings: MailboxSettings) {
  return {
    id: PROFILE_STEP_ID,
    title: `Email server profile "${settings.profileName}" (Exchange Online (Hybrid))`,
    target: settings.profileName,
  };
}

/** Whether an error means the request may not have reached D365 (worth looking before trying again). */
function maybeLost(error: unknown): boolean {
  return !(error instanceof CrmError) || error.status >= 500;
}

/** Executes the profile change decided by diffProfile (create or update); returns its id (undefined when it could not). */
export async function ensureProfile(
  client: WebApiClient,
  settings: MailboxSettings,
  change: ProfileChange,
  log: Logger,
): Promise<{ result: StepResult; profileId?: string }> {
  const base = profileBase(settings);
  const { plan, warnings } = change;
  const withWarnings = (result: StepResult): StepResult => (warnings.length ? { ...result, warnings } : result);
  try {
    switch (plan.kind) {
      case 'conflict':
        return {
          result: {
            ...base,
            status: 'failed',
            before: plan.profiles.map(profileSummary),
            after: null,
            error: plan.message,
          },
        };
      case 'unchanged':
        return {
          result: withWarnings({
            ...base,
            status: 'unchanged',
            before: profileSummary(plan.profile),
            after: profileSummary(plan.profile),
            evidence: { emailserverprofileid: plan.profile.emailserverprofileid },
          }),
          profileId: plan.profile.emailserverprofileid,
        };
      case 'update': {
        await client.update('emailserverprofiles', plan.profile.emailserverprofileid, profilePatch(plan.differences));
        const [after] = await readProfilesByName(client, settings.profileName);
        log.info(`Email server profile "${settings.profileName}": updated ${Object.keys(plan.differences).join(', ')}`);
        return {
          result: withWarnings({
            ...base,
            status: 'changed',
            before: profileSummary(plan.profile),
            after: profileSummary(after),
            evidence: { emailserverprofileid: plan.profile.emailserverprofileid, changed: plan.differences },
          }),
          profileId: plan.profile.emailserverprofileid,
        };
      }
      case 'create': {
        let id: string;
        try {
          id = await client.create('emailserverprofiles', plan.body);
        } catch (error) {
          if (!maybeLost(error)) throw error;
          // The answer may have been lost after D365 created the profile: look before creating again.
          const existing = await readProfilesByName(client, settings.profileName);
          if (existing.length === 1) id = existing[0]!.emailserverprofileid;
          else if (existing.length === 0) id = await client.create('emailserverprofiles', plan.body);
          else throw error;
        }
        const [after] = await readProfilesByName(client, settings.profileName);
        log.info(`Email server profile "${settings.profileName}": created (${id})`);
        return {
          result: withWarnings({
            ...base,
            status: 'changed',
            before: null,
            after: profileSummary(after),
            evidence: { emailserverprofileid: id, created: plan.body },
          }),
          profileId: id,
        };
      }
    }
  } catch (error) {
    if (!(error instanceof CrmError)) throw error;
    return { result: { ...base, status: 'failed', before: null, after: null, error: error.message } };
  }
}

/** Makes the profile the organization's default (Email Configuration Settings › Server Profile). */
export async function ensureOrganizationDefault(
  client: WebApiClient,
  organizationId: string,
  profileId: string,
  settings: MailboxSettings,
): Promise<StepResult> {
  const base = { ...ORGANIZATION_DEFAULT_STEP, target: organizationId };
  try {
    const before = await readOrganizationDefaultProfile(client, organizationId);
    if (!organizationDefaultNeeded(before, profileId)) return { ...base, status: 'unchanged', before, after: before };
    await client.update('organizations', organizationId, {
      'defaultemailserverprofileid@odata.bind': `/emailserverprofiles(${profileId})`,
    });
    return { ...base, status: 'changed', before, after: profileId, evidence: { profile: settings.profileName } };
  } catch (error) {
    if (!(error instanceof CrmError)) throw error;
    return { ...base, status: 'failed', before: null, after: profileId, error: error.message };
  }
}

export interface WriteOutcome {
  /** Mailbox id → D365's error, for the mailboxes whose change set failed. */
  errors: Map<string, string>;
  /** Mailboxes whose approval was dropped because the runner may not approve. */
  approvalDenied: Set<string>;
  units: number;
}

/**
 * Writes the mailbox changes, one change set (one PATCH) per mailbox. When D365 refuses the approval
 * (prvApproveRejectEmailAddress missing after all), the mailbox is written again without it, and the
 * approval is left out for the remaining mailboxes instead of failing each of them.
 */
export async function writeMailboxChanges(
  client: WebApiClient,
  records: MailboxRecord[],
  changes: Map<string, MailboxChange>,
  settings: MailboxSettings,
  log: Logger,
  testAt: string,
): Promise<WriteOutcome> {
  const units: ChangeUnit<string>[] = [];
  for (const record of records) {
    const change = changes.get(record.id);
    if (!change) continue;
    const body = mailboxPatch(change, settings, testAt);
    if (Object.keys(body).length)
      units.push({ key: record.id, operations: [{ method: 'PATCH', path: `mailboxes(${record.id})`, body }] });
  }
  const errors = new Map<string, string>();
  const approvalDenied = new Set<string>();
  if (units.length === 0) return { errors, approvalDenied, units: 0 };
  let denied: CrmError | undefined;
  const strip = (unit: ChangeUnit<string>): ChangeUnit<string> => {
    const body = { ...unit.operations[0]!.body };
    if (!('emailrouteraccessapproval' in body)) return unit;
    delete body.emailrouteraccessapproval;
    approvalDenied.add(unit.key);
    return { key: unit.key, operations: [{ ...unit.operations[0]!, body }] };
  };
  let lastShown = 0;
  const results = await client.executeChangeSets(units, {
    idempotent: true,
    prepare: (unit) => (denied ? strip(unit) : unit),
    retryWith: (unit, error) => {
      if (!error.isPrivilegeDenied || !('emailrouteraccessapproval' in (unit.operations[0]!.body ?? {})))
        return undefined;
      if (!denied)
        log.warn(
          `D365 refused to approve ${unit.key}: ${error.message}. Leaving approval out (${APPROVE_PRIVILEGE}: ${EMAIL_PRIVILEGES[APPROVE_PRIVILEGE]}).`,
        );
      denied = error;
      const stripped = strip(unit);
      return Object.keys(stripped.operations[0]!.body ?? {}).length ? stripped : undefined;
    },
    onProgress: (done, total) => {
      if (done === total || done - lastShown >= Math.max(100, total / 10)) {
        lastShown = done;
        log.info(`Mailbox settings: ${done} of ${total} written`);
      }
    },
  });
  for (const result of results) if (!result.ok) errors.set(result.key, result.error?.message ?? 'failed');
  return { errors, approvalDenied, units: units.length };
}
