// Who the toolkit runs as in D365, and whether that account may do the mailbox work: WhoAmI, the
// System Administrator role (by its fixed role template id), and the email privileges. v9.0's
// RetrieveUserPrivileges returns privilege ids only, so the names are looked up in `privileges` first.
import type { WebApiClient } from '../../crm/client.js';
import {
  APPROVE_PRIVILEGE,
  EMAIL_PRIVILEGES,
  ORGANIZATION_WIDE_PRIVILEGES,
  inFilter,
  odataQuery,
  sameId,
  SYSTEM_ADMINISTRATOR_ROLE_TEMPLATE_ID,
} from '../../crm/entities.js';
import type { MailboxSettings } from './settings.js';

/**
 * The privileges configure-mailboxes needs with this config: the one list preflight checks and configure-mailboxes
 * reports. Append on the mailbox and Append To on the profile are what binding a mailbox to its profile takes.
 */
export function neededPrivileges(settings: Pick<MailboxSettings, 'organizationDefault' | 'approve'>): string[] {
  return [
    'prvReadMailbox',
    'prvWriteMailbox',
    'prvAppendMailbox',
    'prvReadEmailServerProfile',
    'prvWriteEmailServerProfile',
    'prvCreateEmailServerProfile',
    'prvAppendToEmailServerProfile',
    // The organization's default profile: read always, written with email.profile.organizationDefault.
    'prvReadOrganization',
    ...(settings.organizationDefault ? ['prvWriteOrganization'] : []),
    ...(settings.approve ? [APPROVE_PRIVILEGE] : []),
  ];
}

export interface CallerInfo {
  userId: string;
  organizationId: string;
  businessUnitId: string;
  systemAdministrator: boolean;
  roles: string[];
  /** Privilege name → held. */
  privileges: Record<string, boolean>;
  /** Email privileges not held, with the names the role editor shows. */
  missing: Array<{ name: string; label: string }>;
  /** Privilege name → depth held (Basic, Local, Deep, Global), where D365 said it. */
  depths: Record<string, string>;
  /** Privileges that must reach other users' records but are held below Global depth. */
  shallow: Array<{ name: string; label: string; depth: string }>;
}

export async function readCaller(
  client: WebApiClient,
  wanted: string[] = Object.keys(EMAIL_PRIVILEGES),
): Promise<CallerInfo> {
  const me = await client.whoAmI();
  const roles = await client.get<{ value: Array<{ name?: string; _roletemplateid_value?: string | null }> }>(
    `systemusers(${me.UserId})/systemuserroles_association${odataQuery({ $select: 'name,_roletemplateid_value' })}`,
  );
  const systemAdministrator = roles.value.some(
    (role) =>
      sameId(role._roletemplateid_value, SYSTEM_ADMINISTRATOR_ROLE_TEMPLATE_ID) || role.name === 'System Administrator',
  );
  const known = await client.get<{ value: Array<{ privilegeid: string; name: string }> }>(
    `privileges${odataQuery({ $select: 'privilegeid,name', $filter: inFilter('name', wanted) })}`,
  );
  const held = await client.get<{
    RolePrivileges: Array<{ PrivilegeId: string; PrivilegeName?: string; Depth?: string | number }>;
  }>(`systemusers(${me.UserId})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`);
  const heldIds = new Set(held.RolePrivileges.map((p) => p.PrivilegeId.toLowerCase()));
  const heldNames = new Set(held.RolePrivileges.map((p) => p.PrivilegeName).filter(Boolean));
  const privileges: Record<string, boolean> = {};
  const depths: Record<string, string> = {};
  for (const name of wanted) {
    const id = known.value.find((p) => p.name.toLowerCase() === name.toLowerCase())?.privilegeid;
    privileges[name] = heldNames.has(name) || (!!id && heldIds.has(id.toLowerCase()));
    // A privilege from several roles counts at its deepest.
    const grants = held.RolePrivileges.filter(
      (p) => p.PrivilegeName === name || (!!id && p.PrivilegeId.toLowerCase() === id.toLowerCase()),
    );
    const deepest = grants.map((p) => depthName(p.Depth)).sort((a, b) => DEPTHS.indexOf(b) - DEPTHS.indexOf(a))[0];
    if (deepest) depths[name] = deepest;
  }
  return {
    userId: me.UserId,
    organizationId: me.OrganizationId,
    businessUnitId: me.BusinessUnitId,
    systemAdministrator,
    roles: roles.value.map((role) => role.name ?? role._roletemplateid_value ?? '?'),
    privileges,
    missing: wanted
      .filter((name) => !privileges[name])
      .map((name) => ({ name, label: EMAIL_PRIVILEGES[name] ?? name })),
    depths,
    shallow: ORGANIZATION_WIDE_PRIVILEGES.filter(
      (name) => privileges[name] && depths[name] && depths[name] !== 'Global',
    ).map((name) => ({ name, label: EMAIL_PRIVILEGES[name] ?? name, depth: depths[name]! })),
  };
}

/** RetrieveUserPrivileges' PrivilegeDepth: the names, or the numbers of the enum (0 Basic … 3 Global). */
const DEPTHS = ['Basic', 'Local', 'Deep', 'Global'];
function depthName(depth: string | number | undefined): string {
  if (typeof depth === 'number') return DEPTHS[depth] ?? String(depth);
  return DEPTHS.find((d) => d.toLowerCase() === String(depth ?? '').toLowerCase()) ?? String(depth ?? '');
}
