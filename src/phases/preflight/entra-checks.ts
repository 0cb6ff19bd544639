// Preflight's Entra ID part, read-only: the sign-in works; the app holds the application permissions
// the cloud phases need (read from the token's roles claim, naming what is missing); the tenant is the
// configured one; the Dynamics CRM service principal exists; how many days the current key and the
// new certificate have left. (The end-of-support deadline is preflight's deadline check, which needs no Graph.)
//
// for D365 v9 on-premises with Exchange Online ("Configure server-based authentication with Customer Engagement (on-premises) and Exchange Online").
import { DYNAMICS_APP_ID } from '../../config/schema.js';
import { rolesAllow, rolesNeededText, ROLES_RECOMMENDED } from '../../graph/permissions.js';
import type { Step } from '../phase.js';
import { findingResults, type PreflightCheck } from './check.js';
import { configuredTenant, errorText, newCertificate, normalizeThumbprint } from '../entra/common.js';
import type { EntraServices } from '../../graph/entra-service.js';
import {
  evaluateEntraPreflight,
  EXPIRY_WARNING_DAYS,
  SIGN_IN_FAILED,
  type EntraCheckName,
  type EntraPreflightState,
  type Read,
} from './entra-evaluate.js';

export { EXPIRY_WARNING_DAYS };

const CHECKS: Record<EntraCheckName, { id: string; title: string }> = {
  signIn: { id: 'entra.sign-in', title: 'Sign in to Entra ID' },
  permissions: { id: 'entra.permissions', title: 'Check the app permissions (roles)' },
  tenant: { id: 'entra.tenant', title: 'Check the Entra tenant' },
  servicePrincipal: { id: 'entra.service-principal', title: 'Find the Dynamics CRM service principal' },
  expiry: { id: 'entra.key-expiry', title: 'Days left on the current key and the new certificate' },
  policy: {
    id: 'entra.app-management-policy',
    title: "Key restrictions of the tenant's default app management policy",
  },
};

async function read<T>(get: () => T | Promise<T>): Promise<Read<T>> {
  try {
    return { value: await get() };
  } catch (error) {
    return { error: errorText(error) };
  }
}

/** Everything preflight's Entra part looks at, read in the order the checks need it (all of the I/O). */
async function readEntraState(
  ctx: Parameters<PreflightCheck['run']>[0],
  entra: EntraServices,
): Promise<EntraPreflightState> {
  const signIn = await read(() => entra.graph.tokenClaims());
  const certificate = await read(() => newCertificate(ctx));
  if (!('value' in signIn))
    return { clientId: entra.clientId, signIn, certificate, policy: { notRead: SIGN_IN_FAILED } };
  const organization = await read(() => entra.graph.getOrganization());
  const servicePrincipal = await read(async () => {
    const sp = await entra.graph.findServicePrincipal(DYNAMICS_APP_ID);
    return sp ? { servicePrincipal: sp, keys: await entra.graph.getKeyCredentials(sp.id) } : undefined;
  });
  return {
    clientId: entra.clientId,
    signIn,
    organization,
    servicePrincipal,
    certificate,
    policy: await readPolicy(entra, signIn.value.roles),
  };
}

/**
 * Reads the tenant default app management policy. Reading it needs Policy.Read.All, which the toolkit does not
 * require: without it (or when the read fails) the check is reported as not checked, with the reason, and
 * preflight goes on.
 */
async function readPolicy(entra: EntraServices, roles: string[]): Promise<EntraPreflightState['policy']> {
  if (!rolesAllow('read-app-management-policy', roles))
    return {
      notRead: `the app does not hold ${rolesNeededText('read-app-management-policy')} (optional): grant it to have preflight check the tenant's key restrictions`,
    };
  try {
    return { value: await entra.graph.getDefaultAppManagementPolicy() };
  } catch (error) {
    return { notRead: 'the policy could not be read', warning: errorText(error) };
  }
}

export const entraCheck: PreflightCheck = {
  id: 'entra',
  applies: (ctx) => ctx.services.entra !== undefined,
  plan: (ctx) => {
    const entra = ctx.services.entra;
    const who = entra ? `app ${entra.clientId} (${entra.authDescription})` : 'the app';
    const target = `tenant ${configuredTenant(ctx.config)}`;
    const step = (name: EntraCheckName, after: unknown): Step => ({
      ...CHECKS[name],
      target,
      action: 'check',
      before: null,
      after,
    });
    return [
      step('signIn', { as: who, authority: entra?.endpoints.authorityHost }),
      step('permissions', { roles: ROLES_RECOMMENDED }),
      step('tenant', { tenant: configuredTenant(ctx.config) }),
      step('servicePrincipal', { appId: DYNAMICS_APP_ID }),
      step('expiry', { warnBelowDays: EXPIRY_WARNING_DAYS }),
      step('policy', { needs: 'Policy.Read.All (optional: not checked without it)' }),
    ];
  },
  async run(ctx) {
    const entra = ctx.services.entra as EntraServices;
    const target = `tenant ${configuredTenant(ctx.config)}`;
    const state = await readEntraState(ctx, entra);
    const { findings, outputs } = evaluateEntraPreflight(
      state,
      { config: ctx.config, appId: DYNAMICS_APP_ID, thumbprint: normalizeThumbprint(ctx.inputs.thumbprint) },
      ctx.now,
    );
    const results = findingResults(CHECKS, findings, target);
    return { results, outputs };
  },
};
