// The "Exchange Online (Hybrid)" email server profile with the values the D365 UI sets for that server
// type (emailserverprofile.md in the on-premises entity reference): server-to-server authentication, same
// settings for outgoing, autodiscover or explicit EWS locations, and "Use Default Tenant ID". Only what differs
// is written. exchangeonlinetenantid is read, never written: while usedefaulttenantid is true D365 keeps the
// deployment's S2STenantId there (configure-crm sets it), so writing another value would be a difference that
// comes back on every run.
import type { WebApiClient } from '../../crm/client.js';
import {
  AUTH_PROTOCOL_AUTO_DETECT,
  CREDENTIALS_SERVER_TO_SERVER,
  HYBRID_MAX_CONCURRENT_CONNECTIONS,
  odataQuery,
  odataString,
  SERVER_TYPE_EXCHANGE_ONLINE_HYBRID,
  type EmailServerProfileRow,
} from '../../crm/entities.js';
import type { MailboxSettings } from './settings.js';

export const PROFILE_COLUMNS = [
  'emailserverprofileid',
  'name',
  'servertype',
  'incomingcredentialretrieval',
  'usesamesettingsforoutgoingconnections',
  'useautodiscover',
  'usedefaulttenantid',
  'exchangeonlinetenantid',
  'incomingserverlocation',
  'outgoingserverlocation',
  'incomingauthenticationprotocol',
  'incomingusessl',
  'outgoingusessl',
  'incominguseimpersonation',
  'statecode',
];

const SERVER_TYPES: Record<number, string> = {
  0: 'Exchange Server',
  1: 'Other (POP3/SMTP)',
  2: 'Exchange Server (Hybrid)',
  3: 'Exchange Online (Hybrid)',
};

/** The attribute values the profile must have (compared with what D365 holds). */
export function wantedProfile(settings: MailboxSettings): Record<string, unknown> {
  const wanted: Record<string, unknown> = {
    servertype: SERVER_TYPE_EXCHANGE_ONLINE_HYBRID,
    incomingcredentialretrieval: CREDENTIALS_SERVER_TO_SERVER,
    usesamesettingsforoutgoingconnections: true,
    useautodiscover: settings.autodiscover,
    incomingserverlocation: settings.autodiscover ? null : (settings.incomingServerLocation ?? null),
    outgoingserverlocation: settings.autodiscover ? null : (settings.outgoingServerLocation ?? null),
    // The UI keeps "Use Default Tenant ID" on and fills the id field with the deployment's S2STenantId.
    usedefaulttenantid: true,
    incomingauthenticationprotocol: AUTH_PROTOCOL_AUTO_DETECT,
    incomingusessl: true,
    outgoingusessl: true,
    incominguseimpersonation: false,
    statecode: 0,
  };
  return wanted;
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return (a ?? null) === (b ?? null);
}

/** Attribute → {before, after} for what differs. */
export function profileDifferences(
  current: EmailServerProfileRow,
  wanted: Record<string, unknown>,
): Record<string, { before: unknown; after: unknown }> {
  const differences: Record<string, { before: unknown; after: unknown }> = {};
  for (const [name, value] of Object.entries(wanted)) {
    if (!same(current[name], value)) differences[name] = { before: current[name] ?? null, after: value };
  }
  return differences;
}

/** The body of a PATCH for the differences (statecode needs its statuscode along). */
export function profilePatch(differences: Record<string, { after: unknown }>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [name, { after }] of Object.entries(differences)) patch[name] = after;
  if ('statecode' in patch) patch.statuscode = patch.statecode === 0 ? 1 : 2;
  return patch;
}

/** The body that creates the profile. */
export function profileCreateBody(settings: MailboxSettings, wanted: Record<string, unknown>): Record<string, unknown> {
  const { statecode: _statecode, ...rest } = wanted;
  const body: Record<string, unknown> = {
    name: settings.profileName,
    ...rest,
    maxconcurrentconnections: HYBRID_MAX_CONCURRENT_CONNECTIONS,
  };
  for (const [name, value] of Object.entries(body)) if (value === null) delete body[name];
  return body;
}

export async function readProfilesByName(client: WebApiClient, name: string): Promise<EmailServerProfileRow[]> {
  const page = await client.get<{ value: EmailServerProfileRow[] }>(
    `emailserverprofiles${odataQuery({ $select: PROFILE_COLUMNS.join(','), $filter: `name eq ${odataString(name)}` })}`,
  );
  return page.value;
}

/** The organization's default email server profile (Email Configuration Settings › Server Profile), or null. */
export async function readOrganizationDefaultProfile(
  client: WebApiClient,
  organizationId: string,
): Promise<string | null> {
  const org = await client.get<{ _defaultemailserverprofileid_value: string | null }>(
    `organizations(${organizationId})?$select=_defaultemailserverprofileid_value`,
  );
  return org._defaultemailserverprofileid_value ?? null;
}

export type ProfilePlan =
  | { kind: 'create'; body: Record<string, unknown> }
  | { kind: 'update'; profile: EmailServerProfileRow; differences: Record<string, { before: unknown; after: unknown }> }
  | { kind: 'unchanged'; profile: EmailServerProfileRow }
  | { kind: 'conflict'; message: string; profiles: EmailServerProfileRow[] };

export function planProfile(settings: MailboxSettings, found: EmailServerProfileRow[]): ProfilePlan {
  const wanted = wantedProfile(settings);
  if (found.length === 0) return { kind: 'create', body: profileCreateBody(settings, wanted) };
  if (found.length > 1) {
    return {
      kind: 'conflict',
      profiles: found,
      message: `${found.length} email server profiles are named "${settings.profileName}" (${found.map((p) => p.emailserverprofileid).join(', ')}): rename or delete the extra ones, or set email.profile.name to a unique name`,
    };
  }
  const profile = found[0]!;
  if (profile.servertype !== SERVER_TYPE_EXCHANGE_ONLINE_HYBRID) {
    return {
      kind: 'conflict',
      profiles: found,
      message: `the email server profile "${settings.profileName}" is of type ${SERVER_TYPES[profile.servertype ?? -1] ?? profile.servertype}, not Exchange Online (Hybrid): the toolkit does not convert it; set email.profile.name to another name`,
    };
  }
  const differences = profileDifferences(profile, wanted);
  return Object.keys(differences).length ? { kind: 'update', profile, differences } : { kind: 'unchanged', profile };
}

/** A warning when the profile's tenant (the deployment's S2STenantId) is not the Exchange Online tenant. */
export function tenantWarning(
  profile: EmailServerProfileRow | undefined,
  tenantId: string | undefined,
): string | undefined {
  const held = profile?.exchangeonlinetenantid;
  if (!profile || !tenantId || !held || held.toLowerCase() === tenantId.toLowerCase()) return undefined;
  return `the profile's Exchange Online tenant id is ${held} (the deployment's S2STenantId, used while "Use Default Tenant ID" is on), not the tenant ${tenantId}: run configure-crm, which sets S2STenantId`;
}

/** A readable summary of a profile for before/after. */
export function profileSummary(profile: Partial<EmailServerProfileRow> | undefined): Record<string, unknown> | null {
  if (!profile) return null;
  const summary: Record<string, unknown> = {};
  for (const column of PROFILE_COLUMNS) if (column in profile) summary[column] = profile[column];
  return summary;
}
