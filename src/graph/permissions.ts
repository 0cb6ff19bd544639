// Which application permissions (app roles, the `roles` claim) each Graph call of this toolkit
// needs. From the Graph permission tables (serviceprincipal-get/-list/-update, organization-get):
// the least privileged role first, then the higher ones that also work. Application.ReadWrite.OwnedBy
// is left out on purpose: the toolkit's app does not own the first-party Dynamics service principal.

export type GraphOperation =
  'read-service-principal' | 'update-service-principal' | 'read-organization' | 'read-app-management-policy';

export const ROLES_ACCEPTED: Record<GraphOperation, readonly string[]> = {
  'read-service-principal': [
    'Application.Read.All',
    'Application.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
  'update-service-principal': ['Application.ReadWrite.All', 'Directory.ReadWrite.All'],
  'read-organization': [
    'Organization.Read.All',
    'Organization.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
  // Optional: only preflight's check of the tenant app management policy uses it.
  'read-app-management-policy': ['Policy.Read.All', 'Policy.ReadWrite.ApplicationConfiguration'],
};

/** What the toolkit asks for (the permissions ConfigureCrmServerSideSync.ps1 grants, minus the delegated User.Read it does not use). */
export const ROLES_RECOMMENDED = ['Application.ReadWrite.All', 'Organization.Read.All'] as const;

const OPERATION_WORDS: Record<GraphOperation, string> = {
  'read-service-principal': 'read the service principal',
  'update-service-principal': 'update the key credentials and names of the service principal',
  'read-organization': 'read the organization (tenant id)',
  'read-app-management-policy': "read the tenant's default app management policy",
};

export function describeOperation(operation: GraphOperation): string {
  return OPERATION_WORDS[operation];
}

/** True when one of the roles in the token allows the operation. */
export function rolesAllow(operation: GraphOperation, roles: readonly string[]): boolean {
  const held = new Set(roles.map((r) => r.toLowerCase()));
  return ROLES_ACCEPTED[operation].some((role) => held.has(role.toLowerCase()));
}

/** The recommended roles that are missing from a token, each with the operations it is needed for. */
export function missingRecommendedRoles(roles: readonly string[]): { role: string; neededFor: GraphOperation[] }[] {
  const missing: { role: string; neededFor: GraphOperation[] }[] = [];
  const writeOk = rolesAllow('update-service-principal', roles);
  const readSpOk = rolesAllow('read-service-principal', roles);
  const orgOk = rolesAllow('read-organization', roles);
  if (!writeOk) {
    missing.push({
      role: 'Application.ReadWrite.All',
      neededFor: readSpOk ? ['update-service-principal'] : ['read-service-principal', 'update-service-principal'],
    });
  }
  if (!orgOk) missing.push({ role: 'Organization.Read.All', neededFor: ['read-organization'] });
  return missing;
}

/** "Application.ReadWrite.All (or Directory.ReadWrite.All)" */
export function rolesNeededText(operation: GraphOperation): string {
  const [least, ...higher] = ROLES_ACCEPTED[operation];
  return higher.length ? `${least} (or ${higher.join(', ')})` : `${least}`;
}
