// Preflight's Entra ID findings from what was read, pure (no Graph call, no clock read): the sign-in, the app's
// permissions, the tenant, the Dynamics CRM service principal and its names, the days left on the current key
// and the new certificate, and the tenant's key restrictions. entra-checks.ts reads, this decides, and the
// check renders the findings as steps.
import type { Config } from '../../config/schema.js';
import { daysLeft, daysText } from '../../days.js';
import type { Organization, ServicePrincipal } from '../../graph/client.js';
import type { AppManagementPolicy } from '../../graph/app-management-policy.js';
import { keyCredentialConflicts } from '../../graph/app-management-policy.js';
import {
  keysForCertificate,
  keyState,
  keyThumbprint,
  summarizeKey,
  type CertificateFacts,
  type KeyCredential,
} from '../../graph/key-credentials.js';
import { describeOperation, missingRecommendedRoles } from '../../graph/permissions.js';
import type { AccessTokenClaims } from '../../graph/token-claims.js';
import type { Finding } from './check.js';
import { configuredTenant, wrongTenant } from '../entra/common.js';
import { diffServicePrincipalNames } from '../entra/register-diff.js';

/** Keys and certificates with fewer days left than this get a warning. */
export const EXPIRY_WARNING_DAYS = 30;

export const SIGN_IN_FAILED = 'the sign-in to Entra ID failed (see its error)';

/** A read that worked, or the error it gave. */
export type Read<T> = { value: T } | { error: string };

export interface EntraPreflightState {
  /** The app the toolkit signs in as (for messages when the token does not name it). */
  clientId: string;
  signIn: Read<AccessTokenClaims>;
  /** Read only after a sign-in. */
  organization?: Read<Organization>;
  /** Read only after a sign-in; undefined value: the tenant has no such service principal. */
  servicePrincipal?: Read<{ servicePrincipal: ServicePrincipal; keys: KeyCredential[] } | undefined>;
  /** The run's new certificate (undefined value: none given), or why its PFX cannot be used. */
  certificate: Read<CertificateFacts | undefined>;
  /** The tenant default app management policy, or why it was not read (and a warning when the read failed). */
  policy: { value: AppManagementPolicy } | { notRead: string; warning?: string };
}

export interface EntraPreflightWanted {
  config: Config;
  appId: string;
  /** The thumbprint input, normalised: the key in use, when given. */
  thumbprint?: string;
}

export type EntraCheckName = 'signIn' | 'permissions' | 'tenant' | 'servicePrincipal' | 'expiry' | 'policy';

const ok = <T>(read: Read<T> | undefined): read is { value: T } => !!read && 'value' in read;
const failed = (read: { error: string }): Finding => ({ status: 'failed', error: read.error });

/** The key the deployment signs with now: the one of the given thumbprint, else the valid Verify key that ends last. */
export function currentKey(
  keys: KeyCredential[],
  thumbprint: string | undefined,
  now: Date,
): KeyCredential | undefined {
  const given = thumbprint ? keysForCertificate(keys, thumbprint)[0] : undefined;
  if (given) return given;
  return keys
    .filter((k) => k.usage === 'Verify' && keyState(k, now) === 'valid')
    .sort((a, b) => Date.parse(b.endDateTime ?? '') - Date.parse(a.endDateTime ?? ''))[0];
}

function permissionsFinding(claims: AccessTokenClaims, clientId: string): Finding {
  const missing = missingRecommendedRoles(claims.roles);
  return {
    status: missing.length ? 'failed' : 'unchanged',
    before: null,
    after: { roles: claims.roles },
    ...(missing.length
      ? {
          error:
            `app ${claims.appId ?? clientId} lacks the application permission(s) ` +
            missing.map((m) => `${m.role} (to ${m.neededFor.map(describeOperation).join(' and ')})`).join(', ') +
            `; its token carries ${claims.roles.length ? claims.roles.join(', ') : 'no application permissions at all'}. ` +
            'Add them under App registrations > API permissions > Microsoft Graph > Application permissions and grant admin consent',
        }
      : {}),
  };
}

function servicePrincipalFinding(state: EntraPreflightState, wanted: EntraPreflightWanted, now: Date): Finding {
  const read = state.servicePrincipal!;
  if (!ok(read)) return failed(read);
  if (!read.value) {
    return {
      status: 'failed',
      error: `no service principal for Dynamics CRM (appId ${wanted.appId}) in this tenant`,
    };
  }
  const { servicePrincipal: sp, keys } = read.value;
  const names = diffServicePrincipalNames(sp.servicePrincipalNames, { appId: wanted.appId, ...wanted.config.tenant });
  return {
    status: 'unchanged',
    after: { id: sp.id, servicePrincipalNames: sp.servicePrincipalNames, keys: keys.map((k) => summarizeKey(k, now)) },
    ...(names.added.length
      ? { warnings: [`service principal name(s) ${names.added.join(', ')} missing: register-entra adds them`] }
      : {}),
  };
}

/** Days left: the key in use (the given thumbprint's, else the valid one that ends last) and the new certificate. */
function expiryFinding(state: EntraPreflightState, wanted: EntraPreflightWanted, now: Date): Finding {
  const keys = ok(state.servicePrincipal) ? state.servicePrincipal.value?.keys : undefined;
  const warnings: string[] = [];
  const after: Record<string, unknown> = {};
  let failure: string | undefined;
  if (keys) {
    const key = currentKey(keys, wanted.thumbprint, now);
    if (!key) {
      warnings.push(
        'no valid key credential on the Dynamics CRM service principal: server-side sync cannot authenticate to Exchange Online until register-entra adds one',
      );
      after.currentKey = null;
    } else {
      const left = key.endDateTime ? daysLeft(Date.parse(key.endDateTime), now) : null;
      after.currentKey = {
        chosenBy:
          wanted.thumbprint && keyThumbprint(key).thumbprint === wanted.thumbprint
            ? 'thumbprint input'
            : 'valid key ending last',
        keyId: key.keyId,
        thumbprint: keyThumbprint(key).thumbprint ?? null,
        end: key.endDateTime,
        daysLeft: left,
      };
      if (left !== null && left < EXPIRY_WARNING_DAYS)
        warnings.push(`the current key ${key.keyId} expires in ${daysText(left)} (${key.endDateTime})`);
    }
  }
  if (!ok(state.certificate)) failure = state.certificate.error;
  else if (state.certificate.value) {
    const cert = state.certificate.value;
    const left = daysLeft(cert.notAfter, now);
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
  // Without the keys the check is not done: it says so rather than looking passed.
  const keysUnread = !keys
    ? ok(state.signIn)
      ? 'the keys of the Dynamics CRM service principal could not be read (see its error)'
      : SIGN_IN_FAILED
    : undefined;
  return {
    status: failure ? 'failed' : keysUnread ? 'not-checked' : 'unchanged',
    ...(keysUnread && !failure ? { reason: keysUnread } : {}),
    after,
    ...(warnings.length ? { warnings } : {}),
    ...(failure ? { error: failure } : {}),
  };
}

/** What the tenant default app management policy would refuse about the new key; not checked when not read. */
function policyFinding(state: EntraPreflightState): Finding {
  const { policy } = state;
  if ('notRead' in policy)
    return { status: 'not-checked', reason: policy.notRead, ...(policy.warning ? { warnings: [policy.warning] } : {}) };
  const cert = ok(state.certificate) ? state.certificate.value : undefined;
  const conflicts = keyCredentialConflicts(policy.value, cert);
  return {
    status: 'unchanged',
    after: {
      isEnabled: policy.value.isEnabled,
      servicePrincipalKeyRestrictions: policy.value.servicePrincipalKeyRestrictions,
    },
    ...(conflicts.length ? { warnings: conflicts.map((c) => `the tenant default app management policy: ${c}`) } : {}),
  };
}

/** Every Entra finding, in the order preflight shows them, and the tenant-id output when the tenant is right. */
export function evaluateEntraPreflight(
  state: EntraPreflightState,
  wanted: EntraPreflightWanted,
  now: Date,
): { findings: [EntraCheckName, Finding][]; outputs: Record<string, string> } {
  const outputs: Record<string, string> = {};
  const findings: [EntraCheckName, Finding][] = [];
  const notSignedIn: Finding = { status: 'not-checked', reason: SIGN_IN_FAILED };
  if (ok(state.signIn)) {
    const claims = state.signIn.value;
    findings.push([
      'signIn',
      {
        status: 'unchanged',
        after: {
          appId: claims.appId ?? state.clientId,
          tenantId: claims.tenantId ?? null,
          expiresAt: claims.expiresAt?.toISOString() ?? null,
        },
      },
    ]);
    findings.push(['permissions', permissionsFinding(claims, state.clientId)]);
    const org = state.organization!;
    if (ok(org)) {
      const problem = wrongTenant(wanted.config.tenant, org.value);
      findings.push([
        'tenant',
        {
          status: problem ? 'failed' : 'unchanged',
          before: { configured: configuredTenant(wanted.config) },
          after: { tenantId: org.value.id, displayName: org.value.displayName },
          ...(problem ? { error: problem } : {}),
        },
      ]);
      if (!problem) outputs['tenant-id'] = org.value.id;
    } else findings.push(['tenant', failed(org)]);
    findings.push(['servicePrincipal', servicePrincipalFinding(state, wanted, now)]);
  } else {
    findings.push(['signIn', failed(state.signIn)]);
    findings.push(['permissions', notSignedIn], ['tenant', notSignedIn], ['servicePrincipal', notSignedIn]);
  }
  findings.push(['expiry', expiryFinding(state, wanted, now)]);
  findings.push(['policy', policyFinding(state)]);
  return { findings, outputs };
}
