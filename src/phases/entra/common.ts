// What register-entra, retire-previous and preflight share: reading the tenant and the Dynamics CRM
// service principal, the wrong-tenant guard, the new certificate's facts, and reading the keys back
// after a PATCH until Graph shows the change.
import { DYNAMICS_APP_ID, type Config } from '../../config/schema.js';
import { loadPfx } from '../../cert/index.js';
import type { Organization, ServicePrincipal } from '../../graph/client.js';
import {
  certificateFacts,
  summarizeKey,
  type CertificateFacts,
  type KeyCredential,
  type KeySummary,
} from '../../graph/key-credentials.js';
import type { PhaseContext, StepResult } from '../phase.js';
import type { EntraServices } from '../../graph/entra-service.js';

export { DYNAMICS_APP_ID };

/** Why the organization Graph answered for is not the configured tenant, or undefined when it is. */
export function wrongTenant(tenant: Config['tenant'], org: Organization): string | undefined {
  if (tenant.id && tenant.id.toLowerCase() !== org.id.toLowerCase()) {
    return `wrong tenant: the config names tenant.id ${tenant.id}, but Microsoft Graph answers for tenant ${org.id} (${org.displayName ?? 'no name'}); nothing was changed. Check tenant.id, tenant.endpoints and the credential`;
  }
  if (tenant.domain && !org.verifiedDomains.some((d) => d.name.toLowerCase() === tenant.domain!.toLowerCase())) {
    return `wrong tenant: the config names tenant.domain ${tenant.domain}, which is not a verified domain of tenant ${org.id} (${org.verifiedDomains.map((d) => d.name).join(', ') || 'none'}); nothing was changed`;
  }
  return undefined;
}

export interface CloudState {
  organization: Organization;
  servicePrincipal: ServicePrincipal;
  /** From the single-object read: each key with its certificate (`key`). */
  keys: KeyCredential[];
}

export class CloudStateError extends Error {
  constructor(
    readonly stepId: 'entra.tenant' | 'entra.service-principal',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Which step a failed readCloudState belongs to: the tenant check or the service principal lookup. */
export function failedReadStep(error: unknown): 'entra.tenant' | 'entra.service-principal' {
  return error instanceof CloudStateError ? error.stepId : 'entra.tenant';
}

/** Reads the tenant (and checks it), the Dynamics CRM service principal and its keys with `key`. */
export async function readCloudState(ctx: PhaseContext, entra: EntraServices): Promise<CloudState> {
  let organization: Organization;
  try {
    organization = await entra.graph.getOrganization();
  } catch (error) {
    throw new CloudStateError('entra.tenant', errorText(error), { cause: error });
  }
  const problem = wrongTenant(ctx.config.tenant, organization);
  if (problem) throw new CloudStateError('entra.tenant', problem);
  let servicePrincipal: ServicePrincipal | undefined;
  let keys: KeyCredential[];
  try {
    servicePrincipal = await entra.graph.findServicePrincipal(DYNAMICS_APP_ID);
    keys = servicePrincipal ? await entra.graph.getKeyCredentials(servicePrincipal.id) : [];
  } catch (error) {
    throw new CloudStateError('entra.service-principal', errorText(error), { cause: error });
  }
  if (!servicePrincipal) {
    throw new CloudStateError(
      'entra.service-principal',
      `tenant ${organization.id} has no service principal for Dynamics CRM (appId ${DYNAMICS_APP_ID}); it exists in every tenant with Exchange Online ` +
        'that was connected to Dynamics. Check that tenant.id is the Exchange Online tenant; nothing was changed',
    );
  }
  ctx.host.log.info(
    `Entra ID: tenant ${organization.id}, Dynamics CRM service principal ${servicePrincipal.id}, ${keys.length} key credential(s)`,
  );
  return { organization, servicePrincipal, keys };
}

export const summaries = (keys: KeyCredential[], now: Date): KeySummary[] => keys.map((k) => summarizeKey(k, now));

/** The new certificate of this run (from the PFX), or undefined when the run was given none. */
export function newCertificate(ctx: PhaseContext): CertificateFacts | undefined {
  const input = ctx.certificate;
  if (!input) return undefined;
  const loaded = loadPfx(input.pfx, input.password);
  if (!loaded.pfx) {
    const reasons = loaded.problems.map((p) => `${p.code}: ${p.message}`).join('; ');
    throw new Error(
      `the certificate (${input.source}) cannot be used: ${reasons || 'no certificate with its private key in the PFX'}`,
    );
  }
  return certificateFacts(loaded.pfx.leaf);
}

/** Upper-case hex without separators, or undefined when the text is not a SHA-1 thumbprint. */
export function normalizeThumbprint(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const hex = value.replace(/[\s:-]/g, '').toUpperCase();
  return /^[0-9A-F]{40}$/.test(hex) ? hex : undefined;
}

/**
 * Reads the keys back (single-object $select=keyCredentials) until `done` holds, a bounded number of
 * times: Graph can take a moment before a read shows a write.
 */
export async function readBackUntil(
  entra: EntraServices,
  servicePrincipalId: string,
  done: (keys: KeyCredential[]) => boolean,
): Promise<{ keys: KeyCredential[]; reads: number; ok: boolean }> {
  for (let read = 1; ; read++) {
    const keys = await entra.graph.getKeyCredentials(servicePrincipalId);
    if (done(keys)) return { keys, reads: read, ok: true };
    if (read >= entra.verifyAttempts) return { keys, reads: read, ok: false };
    await entra.sleep(entra.verifyDelayMs);
  }
}

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A result for a step that did not run because an earlier one failed. */
export function skipped(id: string, title: string, target: string, because: string): StepResult {
  return {
    id,
    title,
    target,
    status: 'skipped',
    reason: because,
    before: null,
    after: null,
    evidence: { skippedBecause: because },
  };
}

/** The configured tenant, in words for plan and records. */
export function configuredTenant(config: Config): string {
  return config.tenant.id ?? config.tenant.domain ?? '(none)';
}
