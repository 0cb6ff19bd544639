// How Microsoft Graph treats the calls the toolkit makes, modelled for the sandbox: which app roles
// each call accepts, and PATCH of servicePrincipals (the collection is replaced; an existing key may
// only be resent unchanged and without displayName or key, else "Update to existing credential with
// KeyId '…' is not allowed."). Kept apart from src/graph so the client is tested against an
// independent model, not against its own assumptions.
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import {
  graphDateTime,
  MICROSOFT_SERVICES_TENANT,
  type StoredKeyCredential,
  type StoredServicePrincipal,
} from './state.js';

/** Application permissions Graph accepts per call (Graph permission tables, v1.0). */
export const GRAPH_ROLES = {
  // "Get tenantAppManagementPolicy": Policy.Read.All, or the application-configuration write role.
  readAppManagementPolicy: ['Policy.Read.All', 'Policy.ReadWrite.ApplicationConfiguration'],
  readServicePrincipal: [
    'Application.Read.All',
    'Application.ReadWrite.All',
    'Application.ReadWrite.OwnedBy',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
  updateServicePrincipal: ['Application.ReadWrite.All', 'Directory.ReadWrite.All'],
  readOrganization: [
    'Organization.Read.All',
    'Organization.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
} as const;

export class GraphRuleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const KEY_PROPERTIES = new Set([
  '@odata.type',
  'customKeyIdentifier',
  'displayName',
  'endDateTime',
  'key',
  'keyId',
  'startDateTime',
  'type',
  'usage',
]);
const SP_PATCHABLE = new Set(['keyCredentials', 'servicePrincipalNames', 'tags', 'notes', 'displayName']);

const invalidValue = (property: string) =>
  new GraphRuleError(
    400,
    'Request_BadRequest',
    `Invalid value specified for property '${property}' of resource 'KeyCredential'.`,
  );
const notUpdatable = (keyId: string) =>
  new GraphRuleError(400, 'Request_BadRequest', `Update to existing credential with KeyId '${keyId}' is not allowed.`);
const unknownProperty = (property: string, type: string) =>
  new GraphRuleError(
    400,
    'BadRequest',
    `The property '${property}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type.`,
  );

function decodeBinary(value: unknown, property: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value) || value.length % 4 === 1) throw invalidValue(property);
  return Buffer.from(value, 'base64');
}

function parseDate(value: unknown, property: string): number {
  if (typeof value !== 'string') throw invalidValue(property);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalidValue(property);
  return ms;
}

const sameInstant = (a: unknown, b: string) => typeof a === 'string' && Date.parse(a) === Date.parse(b);

/** Whether a resent entry differs from the stored key in anything it carries. */
function changesExisting(entry: Record<string, unknown>, stored: StoredKeyCredential): boolean {
  if ('displayName' in entry && !(entry.displayName === null && stored.displayName === null)) return true;
  if ('key' in entry && entry.key !== null) return true;
  if ('type' in entry && entry.type !== stored.type) return true;
  if ('usage' in entry && entry.usage !== stored.usage) return true;
  if ('customKeyIdentifier' in entry) {
    const sent = entry.customKeyIdentifier;
    if (sent === null ? stored.customKeyIdentifier !== null : sent !== stored.customKeyIdentifier) return true;
  }
  if ('startDateTime' in entry && !sameInstant(entry.startDateTime, stored.startDateTime)) return true;
  if ('endDateTime' in entry && !sameInstant(entry.endDateTime, stored.endDateTime)) return true;
  return false;
}

/** The new keyCredentials collection for a PATCH, or a GraphRuleError with Graph's words. */
export function replaceKeyCredentials(
  sp: StoredServicePrincipal,
  input: unknown,
  options: { refuseKeyIdOnlyResend?: boolean } = {},
): StoredKeyCredential[] {
  if (!Array.isArray(input))
    throw new GraphRuleError(
      400,
      'BadRequest',
      "Invalid value for property 'keyCredentials': a collection is expected.",
    );
  const seen = new Set<string>();
  const result: StoredKeyCredential[] = [];
  for (const raw of input) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      throw new GraphRuleError(400, 'BadRequest', 'Invalid keyCredential in the request payload.');
    const entry = raw as Record<string, unknown>;
    for (const property of Object.keys(entry)) {
      if (!KEY_PROPERTIES.has(property)) throw unknownProperty(property, 'microsoft.graph.keyCredential');
    }
    const keyId = entry.keyId;
    if (keyId !== undefined && keyId !== null) {
      if (typeof keyId !== 'string' || !GUID.test(keyId)) throw invalidValue('keyId');
      if (seen.has(keyId.toLowerCase()))
        throw new GraphRuleError(400, 'Request_BadRequest', `Duplicate credential with KeyId '${keyId}'.`);
      seen.add(keyId.toLowerCase());
      const stored = sp.keyCredentials.find((k) => k.keyId.toLowerCase() === keyId.toLowerCase());
      if (stored) {
        if (changesExisting(entry, stored)) throw notUpdatable(stored.keyId);
        if (options.refuseKeyIdOnlyResend && (entry.key === undefined || entry.key === null)) throw invalidValue('key');
        result.push({ ...stored });
        continue;
      }
    }
    // A new key: the certificate itself is required.
    if (entry.key === undefined || entry.key === null) throw invalidValue('key');
    const der = decodeBinary(entry.key, 'key');
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(der);
    } catch {
      throw invalidValue('key');
    }
    const type = entry.type ?? 'AsymmetricX509Cert';
    const usage = entry.usage ?? 'Verify';
    if (typeof type !== 'string') throw invalidValue('type');
    if (typeof usage !== 'string') throw invalidValue('usage');
    if (type !== 'AsymmetricX509Cert' && type !== 'X509CertAndPassword') throw invalidValue('type');
    if ((type === 'AsymmetricX509Cert' && usage !== 'Verify') || (type === 'X509CertAndPassword' && usage !== 'Sign'))
      throw invalidValue('usage');
    const start =
      entry.startDateTime === undefined || entry.startDateTime === null
        ? Date.parse(x509.validFrom)
        : parseDate(entry.startDateTime, 'startDateTime');
    const end =
      entry.endDateTime === undefined || entry.endDateTime === null
        ? Date.parse(x509.validTo)
        : parseDate(entry.endDateTime, 'endDateTime');
    if (end <= start) throw invalidValue('endDateTime');
    let customKeyIdentifier: string;
    if (entry.customKeyIdentifier === undefined || entry.customKeyIdentifier === null) {
      customKeyIdentifier = createHash('sha1').update(x509.raw).digest('base64');
    } else {
      customKeyIdentifier = decodeBinary(entry.customKeyIdentifier, 'customKeyIdentifier').toString('base64');
    }
    if (entry.displayName !== undefined && entry.displayName !== null && typeof entry.displayName !== 'string')
      throw invalidValue('displayName');
    const newId = typeof keyId === 'string' ? keyId : randomUUID();
    seen.add(newId.toLowerCase());
    result.push({
      keyId: newId,
      type,
      usage,
      key: x509.raw.toString('base64'),
      customKeyIdentifier,
      displayName: typeof entry.displayName === 'string' ? entry.displayName : null,
      startDateTime: graphDateTime(new Date(start)),
      endDateTime: graphDateTime(new Date(end)),
    });
  }
  return result;
}

/** Applies a PATCH body to a service principal: all or nothing. */
export function patchServicePrincipal(
  sp: StoredServicePrincipal,
  body: unknown,
  options: { refuseKeyIdOnlyResend?: boolean } = {},
): void {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new GraphRuleError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
  const patch = body as Record<string, unknown>;
  for (const property of Object.keys(patch)) {
    if (!SP_PATCHABLE.has(property)) throw unknownProperty(property, 'microsoft.graph.servicePrincipal');
  }
  const next: Partial<StoredServicePrincipal> = {};
  if ('keyCredentials' in patch) next.keyCredentials = replaceKeyCredentials(sp, patch.keyCredentials, options);
  for (const property of ['servicePrincipalNames', 'tags'] as const) {
    if (property in patch) {
      const value = patch[property];
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw new GraphRuleError(
          400,
          'BadRequest',
          `Invalid value for property '${property}': a collection of strings is expected.`,
        );
      }
      next[property] = [...(value as string[])];
    }
  }
  if ('notes' in patch) next.notes = typeof patch.notes === 'string' ? patch.notes : null;
  if ('displayName' in patch) {
    if (typeof patch.displayName !== 'string' || !patch.displayName)
      throw new GraphRuleError(400, 'BadRequest', "Invalid value for property 'displayName'.");
    next.displayName = patch.displayName;
  }
  Object.assign(sp, next);
}

/** A service principal as Graph renders it; `key` only for a single object read with $select=keyCredentials. */
export function renderServicePrincipal(
  sp: StoredServicePrincipal,
  select: string[] | undefined,
  single: boolean,
): Record<string, unknown> {
  const withKey = single && (select?.includes('keyCredentials') ?? false);
  const full: Record<string, unknown> = {
    id: sp.id,
    accountEnabled: true,
    appDisplayName: sp.displayName,
    appId: sp.appId,
    appOwnerOrganizationId: MICROSOFT_SERVICES_TENANT,
    displayName: sp.displayName,
    notes: sp.notes,
    servicePrincipalNames: [...sp.servicePrincipalNames],
    servicePrincipalType: 'Application',
    signInAudience: 'AzureADMultipleOrgs',
    tags: [...sp.tags],
    passwordCredentials: [],
    keyCredentials: sp.keyCredentials.map((k) => ({
      customKeyIdentifier: k.customKeyIdentifier,
      displayName: k.displayName,
      endDateTime: k.endDateTime,
      key: withKey ? k.key : null,
      keyId: k.keyId,
      startDateTime: k.startDateTime,
      type: k.type,
      usage: k.usage,
    })),
  };
  if (!select) return full;
  const picked: Record<string, unknown> = {};
  for (const property of select) {
    if (!(property in full)) {
      throw new GraphRuleError(
        400,
        'BadRequest',
        `Could not find a property named '${property}' on type 'microsoft.graph.servicePrincipal'.`,
      );
    }
    picked[property] = full[property];
  }
  return picked;
}
