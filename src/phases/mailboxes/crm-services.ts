// The D365 services the mailbox phases (configure-mailboxes, verify, the D365 part of preflight) use.
import type { CrmServices } from '../../crm/client-factory.js';
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

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * The Exchange Online tenant id: tenant.id from the config, else the tenant-id output of register-entra. The input
 * is written into the email server profile, so anything but a GUID (or a GUID other than the configured one) is
 * refused here, before any request, naming the input.
 */
export function tenantIdOf(ctx: PhaseContext): string | undefined {
  const raw = ctx.inputs['tenant-id']?.trim();
  const configured = ctx.config.tenant.id;
  if (raw) {
    if (!GUID.test(raw)) {
      throw new Error(
        `input tenant-id "${raw}" is not a GUID: pass register-entra's tenant-id output (CLI: --set tenant-id=GUID); nothing was changed`,
      );
    }
    if (configured && configured.toLowerCase() !== raw.toLowerCase()) {
      throw new Error(
        `input tenant-id ${raw} is not the configured tenant.id ${configured}: check which tenant register-entra ran against; nothing was changed`,
      );
    }
  }
  return configured ?? raw ?? undefined;
}
