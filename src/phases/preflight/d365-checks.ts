// The D365 part of preflight (read-only): the Web API answers WhoAmI with the runner's credentials, the
// account holds System Administrator and the email privileges configure-mailboxes needs, and the
// organization id (the App for Outlook's AD FS client id) is read and handed on as `organization-id`.
import { APPROVE_PRIVILEGE } from '../../crm/entities.js';
import { CrmError } from '../../crm/errors.js';
import { organizationUrl } from '../../crm/client-factory.js';
import type { PhaseContext, Step, StepResult } from '../phase.js';
import type { PreflightCheck } from '../preflight-check.js';
import { readCaller } from '../mailboxes/caller.js';
import { requireCrm } from '../phase-services.js';
import { mailboxSettings } from '../mailboxes/settings.js';

/** The privileges configure-mailboxes needs with this config. */
export function neededPrivileges(ctx: PhaseContext): string[] {
  const settings = mailboxSettings(ctx.config);
  return [
    'prvReadMailbox',
    'prvWriteMailbox',
    'prvReadEmailServerProfile',
    'prvWriteEmailServerProfile',
    'prvCreateEmailServerProfile',
    'prvReadOrganization',
    ...(settings.organizationDefault ? ['prvWriteOrganization'] : []),
    ...(settings.approve ? [APPROVE_PRIVILEGE] : []),
  ];
}

const STEPS = {
  whoami: { id: 'd365.whoami', title: 'D365 Web API answers WhoAmI' },
  admin: { id: 'd365.system-administrator', title: 'The D365 account has the System Administrator role' },
  privileges: { id: 'd365.email-privileges', title: 'The D365 account holds the email privileges' },
  organization: { id: 'd365.organization-id', title: 'D365 organization id (the App for Outlook AD FS client id)' },
};

export const d365PreflightCheck: PreflightCheck = {
  id: 'd365',
  applies: (ctx) => !!ctx.services.crm,
  plan(ctx): Step[] {
    const target = organizationUrl(ctx.config);
    return Object.values(STEPS).map((step) => ({
      ...step,
      target,
      action: 'check' as const,
      before: null,
      after: null,
    }));
  },
  async run(ctx) {
    const { client } = requireCrm(ctx, 'preflight');
    const target = organizationUrl(ctx.config);
    const results: StepResult[] = [];
    let caller;
    try {
      caller = await readCaller(client);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results.push({
        ...STEPS.whoami,
        target,
        status: 'failed',
        before: null,
        after: null,
        error: `${message} (Web API ${client.apiBase}, transport ${client.transportKind})`,
      });
      if (!(error instanceof CrmError) && !/PowerShell|AD FS|environment variable/i.test(message)) {
        results[0]!.warnings = [
          'the D365 server could not be reached: check the URL, DNS, the firewall and the certificate the D365 site presents',
        ];
      }
      // The checks that need the caller are listed as not checked, never left out.
      const why = 'WhoAmI failed (see its error)';
      for (const step of [STEPS.admin, STEPS.privileges, STEPS.organization])
        results.push({ ...step, target, status: 'not-checked', reason: why, before: null, after: null });
      return { results };
    }
    results.push({
      ...STEPS.whoami,
      target,
      status: 'unchanged',
      before: null,
      after: { userId: caller.userId, businessUnitId: caller.businessUnitId },
      evidence: { apiBase: client.apiBase, transport: client.transportKind },
    });
    results.push({
      ...STEPS.admin,
      target: caller.userId,
      status: caller.systemAdministrator ? 'unchanged' : 'failed',
      before: null,
      after: { roles: caller.roles },
      ...(caller.systemAdministrator
        ? {}
        : {
            error:
              'the account the toolkit runs as in D365 does not have the System Administrator role: assign it (Settings › Security › Users › Manage Roles)',
          }),
    });
    const needed = neededPrivileges(ctx);
    const missing = caller.missing.filter((m) => needed.includes(m.name));
    results.push({
      ...STEPS.privileges,
      target: caller.userId,
      status: missing.length ? 'failed' : 'unchanged',
      before: null,
      after: Object.fromEntries(needed.map((name) => [name, caller.privileges[name] ?? false])),
      ...(missing.length ? { error: `missing: ${missing.map((m) => `${m.name} (${m.label})`).join('; ')}` } : {}),
    });
    results.push({ ...STEPS.organization, target, status: 'unchanged', before: null, after: caller.organizationId });
    return { results, outputs: { 'organization-id': caller.organizationId } };
  },
};
