// The tenant id the mailbox phases (configure-mailboxes, verify) write into the email server profile.
import type { PhaseContext } from '../phase.js';

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
