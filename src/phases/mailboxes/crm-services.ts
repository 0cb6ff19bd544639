// The D365 services the mailbox phases (configure-mailboxes, verify, the D365 part of preflight) use.
import type { CrmServices } from '../../crm/services.js';
import type { PhaseContext } from '../phase.js';

declare module '../phase.js' {
  interface PhaseServices {
    /** The D365 Web API client: createCrmServices(config, host, env) from src/crm/services.ts. */
    crm?: CrmServices;
  }
}

export function requireCrm(ctx: PhaseContext, phase: string): CrmServices {
  if (!ctx.services.crm) {
    throw new Error(
      `${phase} talks to the D365 Web API, but this run has no D365 client: the runner must pass services.crm = createCrmServices(config, host, process.env)`,
    );
  }
  return ctx.services.crm;
}

/** The Exchange Online tenant id: tenant.id from the config, else the tenant-id output of register-entra. */
export function tenantIdOf(ctx: PhaseContext): string | undefined {
  return ctx.config.tenant.id ?? ctx.inputs['tenant-id'] ?? undefined;
}
