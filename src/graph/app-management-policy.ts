// The tenant's default app management policy ("tenantAppManagementPolicy resource type", Microsoft Graph v1.0):
// restrictions on the key credentials of applications and service principals, such as a maximum lifetime
// (asymmetricKeyLifetime, maxLifetime as an ISO 8601 duration) or certificates from trusted authorities only
// (trustedCertificateAuthority). When one applies, Graph refuses register-entra's PATCH; preflight reads the
// policy first and says what would be refused. The restrictions read here are the servicePrincipalRestrictions
// (the key goes on the Dynamics service principal); applicationRestrictions are shown for context only.

export interface KeyRestriction {
  restrictionType: string;
  maxLifetime?: string | null;
  restrictForAppsCreatedAfterDateTime?: string | null;
  state?: string | null;
  certificateBasedApplicationConfigurationIds?: string[] | null;
}

export interface AppManagementPolicy {
  isEnabled: boolean;
  servicePrincipalKeyRestrictions: KeyRestriction[];
  applicationKeyRestrictions: KeyRestriction[];
}

const list = (value: unknown): KeyRestriction[] =>
  Array.isArray(value)
    ? value.filter(
        (r): r is KeyRestriction => !!r && typeof (r as { restrictionType?: unknown }).restrictionType === 'string',
      )
    : [];

export function toAppManagementPolicy(json: Record<string, unknown>): AppManagementPolicy {
  const restrictions = (key: string) => list(((json[key] ?? {}) as { keyCredentials?: unknown }).keyCredentials);
  return {
    isEnabled: json.isEnabled === true,
    servicePrincipalKeyRestrictions: restrictions('servicePrincipalRestrictions'),
    applicationKeyRestrictions: restrictions('applicationRestrictions'),
  };
}

/** An ISO 8601 duration (P1Y2M3DT4H5M6S, P4W) in milliseconds; years and months at their average length. */
export function durationMs(text: string): number | undefined {
  const match =
    /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text.trim(),
    );
  if (!match || text.trim() === 'P' || text.trim().endsWith('T')) return undefined;
  const [, y, mo, w, d, h, mi, s] = match.map((part) => (part === undefined ? 0 : Number(part)));
  const day = 86_400_000;
  return (y! * 365.2425 + mo! * 30.436875 + w! * 7 + d!) * day + h! * 3_600_000 + mi! * 60_000 + s! * 1000;
}

/**
 * What an enabled policy would refuse about a key for this certificate, in words. A restriction with
 * restrictForAppsCreatedAfterDateTime only applies to service principals created after that date; the Dynamics
 * service principal's creation date is not read, so such a restriction is named as one that may apply.
 */
export function keyCredentialConflicts(
  policy: AppManagementPolicy,
  certificate: { notBefore: Date; notAfter: Date } | undefined,
): string[] {
  if (!policy.isEnabled) return [];
  const problems: string[] = [];
  for (const restriction of policy.servicePrincipalKeyRestrictions) {
    if (restriction.state && restriction.state !== 'enabled') continue;
    const since = restriction.restrictForAppsCreatedAfterDateTime
      ? ` (for service principals created after ${restriction.restrictForAppsCreatedAfterDateTime}: it may not apply to the Dynamics one)`
      : '';
    if (restriction.restrictionType === 'asymmetricKeyLifetime' && restriction.maxLifetime) {
      const max = durationMs(restriction.maxLifetime);
      const lifetime = certificate ? certificate.notAfter.getTime() - certificate.notBefore.getTime() : undefined;
      if (max === undefined)
        problems.push(`a certificate lifetime limit of ${restriction.maxLifetime}${since} that could not be read`);
      else if (lifetime === undefined)
        problems.push(`certificates may live at most ${restriction.maxLifetime}${since}: check the new certificate`);
      else if (lifetime > max)
        problems.push(
          `certificates may live at most ${restriction.maxLifetime}, the new one lives ${Math.round(lifetime / 86_400_000)} days${since}: register-entra would be refused`,
        );
    } else if (restriction.restrictionType === 'trustedCertificateAuthority') {
      problems.push(
        `only certificates issued by the trusted certificate authorities of certificateBasedApplicationConfiguration ${(restriction.certificateBasedApplicationConfigurationIds ?? []).join(', ') || '(none listed)'} are accepted${since}: a certificate from another authority would be refused`,
      );
    }
  }
  return problems;
}
