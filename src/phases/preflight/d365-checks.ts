// The D365 part of preflight (read-only): the Web API answers WhoAmI with the runner's credentials, the
// account holds System Administrator and the email privileges configure-mailboxes needs, and the
// organization id (the App for Outlook's AD FS client id) is read and handed on as `organization-id`.
import { CrmError } from '../../crm/errors.js';
import { organizationUrl } from '../../crm/client-factory.js';
import type { Step } from '../phase.js';
import { findingResults, type PreflightCheck } from './check.js';
import { readCaller } from '../mailboxes/caller.js';
import { requireCrm } from '../phase-services.js';
import { mailboxSettings } from '../mailboxes/settings.js';
import { evaluateD365Preflight, type D365CheckName, type D365PreflightState } from './d365-evaluate.js';

const STEPS: Record<D365CheckName, { id: string; title: string }> = {
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
    const where = { apiBase: client.apiBase, transport: client.transportKind };
    let state: D365PreflightState;
    try {
      state = { caller: await readCaller(client), ...where };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // D365 answered (a CrmError), or the transport's own set-up failed: not a reachability problem.
      const unreachable = !(error instanceof CrmError) && !/PowerShell|AD FS|environment variable/i.test(message);
      state = { error: message, unreachable, ...where };
    }
    const { findings, outputs } = evaluateD365Preflight(state, mailboxSettings(ctx.config));
    const results = findingResults(STEPS, findings, target);
    return { results, ...(outputs ? { outputs } : {}) };
  },
};
