// Preflight's Entra ID part, read-only: the sign-in works; the app holds the application permissions
// the cloud phases need (read from the token's roles claim, naming what is missing); the tenant is the
// configured one; the Dynamics CRM service principal exists; how many days the current key and the
// new certificate have left. (The end-of-support deadline is preflight's deadline check, which needs no Graph.)
//
// for D365 v9 on-premises with Exchange Online ("Configure server-based authentication with Customer Engagement (on-premises) and Exchange Online").
import { DYNAMICS_APP_ID } from '../../config/schema.js';
import { daysLeft, daysText } from '../../days.js';
import {
  keysForCertificate,
  keyState,
  keyThumbprint,
  mergeServicePrincipalNames,
  summarizeKey,
  wantedServicePrincipalNames,
  type KeyCredential,
} from '../../graph/key-credentials.js';
import {
  describeOperation,
  missingRecommendedRoles,
  rolesAllow,
  rolesNeededText,
  ROLES_RECOMMENDED,
} from '../../graph/permissions.js';
import { keyCredentialConflicts } from '../../graph/app-management-policy.js';
import type { AccessTokenClaims } from '../../graph/token-claims.js';
import type { Step, StepResult } from '../phase.js';
import type { PreflightCheck } from '../preflight-check.js';
import { configuredTenant, errorText, newCertificate, normalizeThumbprint, wrongTenant } from '../entra/common.js';
import type { EntraServices } from '../../graph/entra-service.js';

/** Keys and certificates with fewer days left than this get a warning. */
export const EXPIRY_WARNING_DAYS = 30;

const CHECKS = {
  signIn: { id: 'entra.sign-in', title: 'Sign in to Entra ID' },
  permissions: { id: 'entra.permissions', title: 'Check the app permissions (roles)' },
  tenant: { id: 'entra.tenant', title: 'Check the Entra tenant' },
  servicePrincipal: { id: 'entra.service-principal', title: 'Find the Dynamics CRM service principal' },
  expiry: { id: 'entra.key-expiry', title: 'Days left on the current key and the new certificate' },
  policy: {
    id: 'entra.app-management-policy',
    title: "Key restrictions of the tenant's default app management policy",
  },
} as const;

type CheckName = keyof typeof CHECKS;

const SIGN_IN_FAILED = 'the sign-in to Entra ID failed (see its error)';

const days = daysLeft;

/** The key the deployment signs with now: the one of the given thumbprint, else the valid Verify key that ends last. */
function currentKey(keys: KeyCredential[], thumbprint: string | undefined, now: Date): KeyCredential | undefined {
  const given = thumbprint ? keysForCertificate(keys, thumbprint)[0] : undefined;
  if (given) return given;
  return keys
    .filter((k) => k.usage === 'Verify' && keyState(k, now) === 'valid')
    .sort((a, b) => Date.parse(b.endDateTime ?? '') - Date.parse(a.endDateTime ?? ''))[0];
}

export const entraCheck: PreflightCheck = {
  id: 'entra',
  applies: (ctx) => ctx.services.entra !== undefined,
  plan: (ctx) => {
    const entra = ctx.services.entra;
    const who = entra ? `app ${entra.clientId} (${entra.authDescription})` : 'the app';
    const target = `tenant ${configuredTenant(ctx.config)}`;
    const step = (name: CheckName, after: unknown): Step => ({
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
    const results: StepResult[] = [];
    const outputs: Record<string, string> = {};
    const result = (name: CheckName, fields: Partial<StepResult> & Pick<StepResult, 'status'>): StepResult => {
      const r: StepResult = { ...CHECKS[name], target, before: null, after: null, ...fields };
      results.push(r);
      return r;
    };

    let claims: AccessTokenClaims | undefined;
    try {
      claims = await entra.graph.tokenClaims();
      result('signIn', {
        status: 'unchanged',
        after: {
          appId: claims.appId ?? entra.clientId,
          tenantId: claims.tenantId ?? null,
          expiresAt: claims.expiresAt?.toISOString() ?? null,
        },
      });
    } catch (error) {
      result('signIn', { status: 'failed', error: errorText(error) });
    }

    if (claims) {
      const missing = missingRecommendedRoles(claims.roles);
      result('permissions', {
        status: missing.length ? 'failed' : 'unchanged',
        before: null,
        after: { roles: claims.roles },
        ...(missing.length
          ? {
              error:
                `app ${claims.appId ?? entra.clientId} lacks the application permission(s) ` +
                missing.map((m) => `${m.role} (to ${m.neededFor.map(describeOperation).join(' and ')})`).join(', ') +
                `; its token carries ${claims.roles.length ? claims.roles.join(', ') : 'no application permissions at all'}. ` +
                'Add them under App registrations > API permissions > Microsoft Graph > Application permissions and grant admin consent',
            }
          : {}),
      });
    } else {
      result('permissions', { status: 'not-checked', reason: SIGN_IN_FAILED });
    }

    let keys: KeyCredential[] | undefined;
    if (claims) {
      try {
        const org = await entra.graph.getOrganization();
        const problem = wrongTenant(ctx.config.tenant, org);
        result('tenant', {
          status: problem ? 'failed' : 'unchanged',
          before: { configured: configuredTenant(ctx.config) },
          after: { tenantId: org.id, displayName: org.displayName },
          ...(problem ? { error: problem } : {}),
        });
        if (!problem) outputs['tenant-id'] = org.id;
      } catch (error) {
        result('tenant', { status: 'failed', error: errorText(error) });
      }
      try {
        const sp = await entra.graph.findServicePrincipal(DYNAMICS_APP_ID);
        if (!sp) {
          result('servicePrincipal', {
            status: 'failed',
            error: `no service principal for Dynamics CRM (appId ${DYNAMICS_APP_ID}) in this tenant`,
          });
        } else {
          keys = await entra.graph.getKeyCredentials(sp.id);
          const names = mergeServicePrincipalNames(
            sp.servicePrincipalNames,
            wantedServicePrincipalNames(
              DYNAMICS_APP_ID,
              ctx.config.tenant.rootDomain,
              ctx.config.tenant.ensureDomainSpn,
            ),
          );
          result('servicePrincipal', {
            status: 'unchanged',
            after: {
              id: sp.id,
              servicePrincipalNames: sp.servicePrincipalNames,
              keys: keys.map((k) => summarizeKey(k, ctx.now)),
            },
            ...(names.added.length
              ? { warnings: [`service principal name(s) ${names.added.join(', ')} missing: register-entra adds them`] }
              : {}),
          });
        }
      } catch (error) {
        result('servicePrincipal', { status: 'failed', error: errorText(error) });
      }
    } else {
      result('tenant', { status: 'not-checked', reason: SIGN_IN_FAILED });
      result('servicePrincipal', { status: 'not-checked', reason: SIGN_IN_FAILED });
    }

    // Days left: the key in use (the given thumbprint's, else the valid one that ends last) and the new certificate.
    const warnings: string[] = [];
    const after: Record<string, unknown> = {};
    let failure: string | undefined;
    if (keys) {
      const key = currentKey(keys, normalizeThumbprint(ctx.inputs.thumbprint), ctx.now);
      if (!key) {
        warnings.push(
          'no valid key credential on the Dynamics CRM service principal: server-side sync cannot authenticate to Exchange Online until register-entra adds one',
        );
        after.currentKey = null;
      } else {
        const left = key.endDateTime ? days(Date.parse(key.endDateTime), ctx.now) : null;
        const given = normalizeThumbprint(ctx.inputs.thumbprint);
        after.currentKey = {
          chosenBy: given && keyThumbprint(key).thumbprint === given ? 'thumbprint input' : 'valid key ending last',
          keyId: key.keyId,
          thumbprint: keyThumbprint(key).thumbprint ?? null,
          end: key.endDateTime,
          daysLeft: left,
        };
        if (left !== null && left < EXPIRY_WARNING_DAYS)
          warnings.push(`the current key ${key.keyId} expires in ${daysText(left)} (${key.endDateTime})`);
      }
    }
    try {
      const cert = newCertificate(ctx);
      if (cert) {
        const left = days(cert.notAfter, ctx.now);
        after.newCertificate = {
          thumbprint: cert.thumbprint,
          notAfter: cert.notAfter.toISOString(),
          daysLeft: left,
          alreadyRegistered: keys ? keysForCertificate(keys, cert.thumbprint).length > 0 : null,
        };
        if (left < 0) failure = `the new certificate ${cert.thumbprint} expired on ${cert.notAfter.toISOString()}`;
        else if (left < EXPIRY_WARNING_DAYS)
          warnings.push(`the new certificate ${cert.thumbprint} expires in ${daysText(left)}`);
      }
    } catch (error) {
      failure = errorText(error);
    }
    // Without the keys the check is not done: it says so rather than looking passed.
    const keysUnread = !keys
      ? claims
        ? 'the keys of the Dynamics CRM service principal could not be read (see its error)'
        : SIGN_IN_FAILED
      : undefined;
    result('expiry', {
      status: failure ? 'failed' : keysUnread ? 'not-checked' : 'unchanged',
      ...(keysUnread && !failure ? { reason: keysUnread } : {}),
      after,
      ...(warnings.length ? { warnings } : {}),
      ...(failure ? { error: failure } : {}),
    });
    await checkAppManagementPolicy(ctx, entra, claims, (fields) => result('policy', fields));
    return { results, outputs };
  },
};

/**
 * Reads the tenant default app management policy and names what it would refuse about the new key. Reading it
 * needs Policy.Read.All, which the toolkit does not require: without it (or when the read fails) the check is
 * reported as not checked, with the reason, and preflight goes on.
 */
async function checkAppManagementPolicy(
  ctx: Parameters<PreflightCheck['run']>[0],
  entra: EntraServices,
  claims: AccessTokenClaims | undefined,
  result: (fields: Partial<StepResult> & Pick<StepResult, 'status'>) => void,
): Promise<void> {
  const notChecked = (reason: string, warning?: string) =>
    result({ status: 'not-checked', reason, ...(warning ? { warnings: [warning] } : {}) });
  if (!claims) return notChecked(SIGN_IN_FAILED);
  if (!rolesAllow('read-app-management-policy', claims.roles))
    return notChecked(
      `the app does not hold ${rolesNeededText('read-app-management-policy')} (optional): grant it to have preflight check the tenant's key restrictions`,
    );
  let policy;
  try {
    policy = await entra.graph.getDefaultAppManagementPolicy();
  } catch (error) {
    return notChecked('the policy could not be read', errorText(error));
  }
  let cert;
  try {
    cert = newCertificate(ctx);
  } catch {
    cert = undefined;
  }
  const conflicts = keyCredentialConflicts(policy, cert);
  result({
    status: 'unchanged',
    after: {
      isEnabled: policy.isEnabled,
      servicePrincipalKeyRestrictions: policy.servicePrincipalKeyRestrictions,
    },
    ...(conflicts.length ? { warnings: conflicts.map((c) => `the tenant default app management policy: ${c}`) } : {}),
  });
}
