// Preflight's D365 findings from what WhoAmI and the role reads returned, pure (no Web API call): whether the
// Web API answered, whether the account holds System Administrator and the email privileges configure-mailboxes
// needs with this config, and the organization id handed on as `organization-id`.
import { neededPrivileges } from '../mailboxes/caller.js';
import type { Finding } from './check.js';
import type { CallerInfo } from '../mailboxes/caller.js';
import type { MailboxSettings } from '../mailboxes/settings.js';

export type D365CheckName = 'whoami' | 'admin' | 'privileges' | 'organization';

/** What the D365 part read: the caller, or why the Web API did not answer. */
export type D365PreflightState =
  | { caller: CallerInfo; apiBase: string; transport: string }
  | {
      error: string;
      apiBase: string;
      transport: string;
      /** The failure came before any answer from D365 (network, DNS, TLS), not from D365 or the transport's set-up. */
      unreachable: boolean;
    };

/** Every D365 finding in the order preflight shows them, with the target each is about. */
export function evaluateD365Preflight(
  state: D365PreflightState,
  settings: Pick<MailboxSettings, 'organizationDefault' | 'approve'>,
): { findings: [D365CheckName, Finding][]; outputs?: Record<string, string> } {
  if ('error' in state) {
    // The checks that need the caller are listed as not checked, never left out.
    const why: Finding = { status: 'not-checked', reason: 'WhoAmI failed (see its error)' };
    return {
      findings: [
        [
          'whoami',
          {
            status: 'failed',
            error: `${state.error} (Web API ${state.apiBase}, transport ${state.transport})`,
            ...(state.unreachable
              ? {
                  warnings: [
                    'the D365 server could not be reached: check the URL, DNS, the firewall and the certificate the D365 site presents',
                  ],
                }
              : {}),
          },
        ],
        ['admin', why],
        ['privileges', why],
        ['organization', why],
      ],
    };
  }
  const { caller } = state;
  const needed = neededPrivileges(settings);
  const missing = caller.missing.filter((m) => needed.includes(m.name));
  return {
    findings: [
      [
        'whoami',
        {
          status: 'unchanged',
          after: { userId: caller.userId, businessUnitId: caller.businessUnitId },
          evidence: { apiBase: state.apiBase, transport: state.transport },
        },
      ],
      [
        'admin',
        {
          target: caller.userId,
          status: caller.systemAdministrator ? 'unchanged' : 'failed',
          after: { roles: caller.roles },
          ...(caller.systemAdministrator
            ? {}
            : {
                error:
                  'the account the toolkit runs as in D365 does not have the System Administrator role: assign it (Settings › Security › Users › Manage Roles)',
              }),
        },
      ],
      [
        'privileges',
        {
          target: caller.userId,
          status: missing.length ? 'failed' : 'unchanged',
          after: Object.fromEntries(needed.map((name) => [name, caller.privileges[name] ?? false])),
          ...(missing.length ? { error: `missing: ${missing.map((m) => `${m.name} (${m.label})`).join('; ')}` } : {}),
        },
      ],
      ['organization', { status: 'unchanged', after: caller.organizationId }],
    ],
    outputs: { 'organization-id': caller.organizationId },
  };
}
