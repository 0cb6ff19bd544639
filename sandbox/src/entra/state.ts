// What the Entra/Graph emulator holds: the organization, the service principals with their key
// credentials (with `key`, as Entra stores them), and the app registrations that may sign in. Tests
// read it directly to assert the final state, and seed it (someone else's key, an expired key).
import { createHash, randomUUID, X509Certificate } from 'node:crypto';

export const DYNAMICS_APP_ID = '00000007-0000-0000-c000-000000000000';
/** Microsoft's own tenant: the owner of first-party service principals such as Dynamics CRM's. */
export const MICROSOFT_SERVICES_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

export interface EmulatorClient {
  clientId: string;
  displayName?: string;
  /** Client secret the app accepts. */
  secret?: string;
  /** PEM of the certificate registered on the app (its public part). */
  certificatePem?: string;
  /** Federated identity credentials: issuer + subject (+ audience, default api://AzureADTokenExchange). */
  federated?: { issuer: string; subject: string; audience?: string }[];
  /** Application permissions granted with admin consent (the `roles` claim). */
  roles: string[];
}

export interface StoredKeyCredential {
  keyId: string;
  type: string;
  usage: string;
  /** Base64 DER of the certificate. */
  key: string;
  customKeyIdentifier: string | null;
  displayName: string | null;
  startDateTime: string;
  endDateTime: string;
}

export interface StoredServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  servicePrincipalNames: string[];
  keyCredentials: StoredKeyCredential[];
  tags: string[];
  notes: string | null;
}

export interface SeedKeyCredential {
  /** The certificate: an X509Certificate, its DER bytes or its PEM. */
  certificate: X509Certificate | Buffer | string;
  displayName?: string | null;
  /** Default: base64 of the SHA-1 thumbprint bytes (Graph's own default). */
  customKeyIdentifier?: string | null;
  keyId?: string;
  /** Default: the certificate's validity. */
  startDateTime?: string;
  endDateTime?: string;
  type?: string;
  usage?: string;
}

export interface SeedServicePrincipal {
  appId: string;
  id?: string;
  displayName?: string;
  servicePrincipalNames?: string[];
  keyCredentials?: SeedKeyCredential[];
}

export interface VerifiedDomain {
  name: string;
  isDefault: boolean;
  isInitial: boolean;
}

export const graphDateTime = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function toX509(certificate: X509Certificate | Buffer | string): X509Certificate {
  return certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
}

export function certificateKeyCredential(seed: SeedKeyCredential): StoredKeyCredential {
  const x509 = toX509(seed.certificate);
  const thumbprint = createHash('sha1').update(x509.raw).digest();
  return {
    keyId: seed.keyId ?? randomUUID(),
    type: seed.type ?? 'AsymmetricX509Cert',
    usage: seed.usage ?? 'Verify',
    key: x509.raw.toString('base64'),
    customKeyIdentifier:
      seed.customKeyIdentifier === undefined ? thumbprint.toString('base64') : seed.customKeyIdentifier,
    displayName: seed.displayName ?? null,
    startDateTime: seed.startDateTime ?? graphDateTime(new Date(x509.validFrom)),
    endDateTime: seed.endDateTime ?? graphDateTime(new Date(x509.validTo)),
  };
}

export class EmulatorState {
  readonly organization: { id: string; displayName: string; verifiedDomains: VerifiedDomain[] };
  readonly servicePrincipals: StoredServicePrincipal[] = [];
  readonly clients = new Map<string, EmulatorClient>();
  /** Access tokens issued by the token endpoint. */
  tokensIssued = 0;
  /** PATCH requests that changed a service principal. */
  patchesApplied = 0;
  /**
   * Refuse an existing key resent by keyId alone (without its `key`), as CSS-Exchange's
   * Remove-CertificateFromAzureServicePrincipal.ps1 says some tenants do ("otherwise the PATCH call will fail").
   */
  refuseKeyIdOnlyResend = false;
  /**
   * The tenant default app management policy (GET /policies/defaultAppManagementPolicy): a single object that always
   * exists and is disabled by default ("tenantAppManagementPolicy resource type").
   */
  defaultAppManagementPolicy: Record<string, unknown> = {
    id: '00000000-0000-0000-0000-000000000000',
    displayName: 'Default app management tenant policy',
    description:
      'Default tenant policy that enforces app management restrictions on applications and service principals.',
    isEnabled: false,
    applicationRestrictions: { passwordCredentials: [], keyCredentials: [] },
    servicePrincipalRestrictions: { passwordCredentials: [], keyCredentials: [] },
  };

  constructor(
    tenantId: string,
    displayName: string,
    domains: string[],
    clients: EmulatorClient[],
    servicePrincipals: SeedServicePrincipal[],
  ) {
    this.organization = {
      id: tenantId,
      displayName,
      verifiedDomains: domains.map((name, i) => ({
        name,
        isDefault: i === 0,
        isInitial: name.endsWith('.onmicrosoft.com'),
      })),
    };
    for (const client of clients)
      this.clients.set(client.clientId.toLowerCase(), { ...client, roles: [...client.roles] });
    for (const seed of servicePrincipals) this.addServicePrincipal(seed);
  }

  addServicePrincipal(seed: SeedServicePrincipal): StoredServicePrincipal {
    const sp: StoredServicePrincipal = {
      id: seed.id ?? randomUUID(),
      appId: seed.appId,
      displayName: seed.displayName ?? (seed.appId === DYNAMICS_APP_ID ? 'Dynamics CRM Online' : seed.appId),
      servicePrincipalNames: seed.servicePrincipalNames ?? [seed.appId],
      keyCredentials: (seed.keyCredentials ?? []).map(certificateKeyCredential),
      tags: [],
      notes: null,
    };
    this.servicePrincipals.push(sp);
    return sp;
  }

  servicePrincipal(appId: string): StoredServicePrincipal | undefined {
    return this.servicePrincipals.find((sp) => sp.appId.toLowerCase() === appId.toLowerCase());
  }

  /** The Dynamics CRM service principal (appId 00000007-…); throws when the sandbox has none. */
  dynamics(): StoredServicePrincipal {
    const sp = this.servicePrincipal(DYNAMICS_APP_ID);
    if (!sp) throw new Error('the sandbox tenant has no Dynamics CRM service principal');
    return sp;
  }

  /** Seeds a key credential (someone else's key, an old or expired one). */
  addKeyCredential(appId: string, seed: SeedKeyCredential): StoredKeyCredential {
    const sp = this.servicePrincipal(appId);
    if (!sp) throw new Error(`no service principal with appId ${appId} in the sandbox`);
    const key = certificateKeyCredential(seed);
    sp.keyCredentials.push(key);
    return key;
  }

  /** Changes the application permissions of an app; tokens issued before keep their roles, as in Entra. */
  setRoles(clientId: string, roles: string[]): void {
    const client = this.clients.get(clientId.toLowerCase());
    if (!client) throw new Error(`no app ${clientId} in the sandbox`);
    client.roles = [...roles];
  }

  /** A deep copy of the service principals, for before/after comparisons. */
  snapshot(): StoredServicePrincipal[] {
    return structuredClone(this.servicePrincipals);
  }
}
