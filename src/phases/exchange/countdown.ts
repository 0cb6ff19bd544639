// The countdown to the end of EWS in Exchange Online (2027-04-01, "no exceptions": Exchange Team blog "Exchange Online
// EWS, Your Time is Almost Up") and the tenant's EWS state, in one line for preflight, watch and the job summary; and
// the refusal every EWS-dependent phase gives once the date has passed.
import { daysUntil, EWS_FULLY_DISABLED } from '../../deadlines.js';
import { countText, daysText } from '../../days.js';

export const SUPPORTED_PATHS =
  'the supported paths are Dynamics 365 (online), whose server-side synchronization does not use EWS, or Exchange Server on-premises for the mailboxes';

/** The tenant's EWS settings as configure-exchange reads them (its read-organization step). */
export interface TenantEwsState {
  ewsEnabled: boolean | null;
  ewsAllowedAppIds: string[];
  ewsApplicationAccessPolicy: string | null;
  ewsAllowList?: string[];
  ewsBlockList?: string[];
}

/** Why a phase that depends on EWS (its writes.ews) cannot run any more, or undefined before 2027-04-01. */
export function ewsShutdownReason(phaseId: string, now: Date): string | undefined {
  const left = daysUntil(EWS_FULLY_DISABLED, now);
  if (left >= 0) return undefined;
  return (
    `${phaseId} needs EWS in Exchange Online, which Microsoft shut down on ${EWS_FULLY_DISABLED} (${daysText(-left)} ago) ` +
    `with no exceptions: server-side synchronization from D365 on-premises to Exchange Online cannot work any more; ${SUPPORTED_PATHS}. Nothing was changed`
  );
}

const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === 'string' && value ? [value] : [];

/** Reads a TenantEwsState out of a step's after value (the PowerShell result), or undefined when it is not one. */
export function tenantEwsState(value: unknown): TenantEwsState | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (!('ewsEnabled' in v)) return undefined;
  return {
    ewsEnabled: typeof v.ewsEnabled === 'boolean' ? v.ewsEnabled : null,
    ewsAllowedAppIds: list(v.ewsAllowedAppIds),
    ewsApplicationAccessPolicy: typeof v.ewsApplicationAccessPolicy === 'string' ? v.ewsApplicationAccessPolicy : null,
    ewsAllowList: list(v.ewsAllowList),
    ewsBlockList: list(v.ewsBlockList),
  };
}

/** Whether Exchange Online lets the app ids through at the organization level (before the user-agent policy). */
export function organizationAllows(state: TenantEwsState, appIds: readonly string[]): boolean {
  if (state.ewsEnabled !== true) return false;
  if (!state.ewsAllowedAppIds.length) return true;
  const listed = new Set(state.ewsAllowedAppIds.map((id) => id.toLowerCase()));
  return appIds.every((id) => listed.has(id.toLowerCase()));
}

function describeTenant(state: TenantEwsState, appIds: readonly string[], blockedMailboxes?: number): string {
  const enabled = state.ewsEnabled === null ? 'unset (being switched to blocked)' : String(state.ewsEnabled);
  const ids = state.ewsAllowedAppIds;
  const listed = new Set(ids.map((id) => id.toLowerCase()));
  const apps = !ids.length
    ? 'EwsAllowedAppIDs empty (no app-id restriction)'
    : appIds.every((id) => listed.has(id.toLowerCase()))
      ? `EwsAllowedAppIDs lists the Dynamics app (${countText(ids.length, 'id', 'ids')})`
      : `EwsAllowedAppIDs lacks the Dynamics app (${countText(ids.length, 'other id', 'other ids')})`;
  const policy = state.ewsApplicationAccessPolicy
    ? `user-agent policy ${state.ewsApplicationAccessPolicy}`
    : 'no user-agent policy';
  const verdict = organizationAllows(state, appIds) ? 'D365 allowed' : 'D365 BLOCKED';
  const mailboxes =
    blockedMailboxes === undefined
      ? ''
      : `, ${countText(blockedMailboxes, 'synchronized mailbox', 'synchronized mailboxes')} with EWS off`;
  return `tenant EwsEnabled ${enabled}, ${apps}, ${policy}${mailboxes}: ${verdict}`;
}

/**
 * One line: days left until 2027-04-01 and, when known, the tenant's EWS state. Without a state it says why
 * (not read: the reason), so the line never pretends to know.
 */
export function ewsCountdownLine(
  now: Date,
  tenant: { state: TenantEwsState; appIds: readonly string[]; blockedMailboxes?: number } | { notRead: string },
): string {
  const left = daysUntil(EWS_FULLY_DISABLED, now);
  const days =
    left >= 0
      ? `EWS in Exchange Online: ${daysText(left)} left until ${EWS_FULLY_DISABLED} (shutdown, no exceptions)`
      : `EWS in Exchange Online was shut down on ${EWS_FULLY_DISABLED} (${daysText(-left)} ago)`;
  const state =
    'notRead' in tenant
      ? `tenant EWS state not read (${tenant.notRead})`
      : describeTenant(tenant.state, tenant.appIds, tenant.blockedMailboxes);
  return `${days}; ${state}`;
}
