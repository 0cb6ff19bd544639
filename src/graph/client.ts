// The few Microsoft Graph calls the cloud phases make, on the shared HTTP layer (timeouts, bounded
// retries for 429/503/504/resets honouring Retry-After, extra CA):
//   GET   /v1.0/organization                                              tenant id and domains
//   GET   /v1.0/servicePrincipals?$filter=appId eq '…'&$select=…          find the service principal
//   GET   /v1.0/servicePrincipals(appId='…')?$select=…                    the same, addressed by appId
//   GET   /v1.0/servicePrincipals/{id}?$select=keyCredentials             the only read that returns `key`
//   PATCH /v1.0/servicePrincipals/{id}  {keyCredentials:[…]} | {servicePrincipalNames:[…]}
//   GET   /v1.0/policies/defaultAppManagementPolicy                       preflight: key restrictions (optional)
// Every call carries a client-request-id; every error keeps Graph's code and request-id, and a 401/403
// names the permission the call needs and the roles the token has.
import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import type { Host } from '../hosts/host.js';
import { RetryAfterBeyondBudgetError, sendWithRetry, type HttpOptions, type HttpResponse } from '../http/request.js';
import { toAppManagementPolicy, type AppManagementPolicy } from './app-management-policy.js';
import { GraphError, GraphResponseError, parseGraphErrorBody } from './errors.js';
import type { KeyCredential, KeyCredentialPayload } from './key-credentials.js';
import type { GraphOperation } from './permissions.js';
import { readAccessTokenClaims, type AccessTokenClaims } from './token-claims.js';

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string | null;
  servicePrincipalNames: string[];
  keyCredentials: KeyCredential[];
}

export interface Organization {
  id: string;
  displayName: string | null;
  verifiedDomains: { name: string; isDefault?: boolean; isInitial?: boolean }[];
}

export interface ServicePrincipalPatch {
  keyCredentials?: KeyCredentialPayload[];
  servicePrincipalNames?: string[];
}

/** What the phases use; the GraphClient implements it (tests may too). */
export interface GraphApi {
  /** Signs in (cached by the credential) and returns the token's claims; the token is masked. */
  tokenClaims(): Promise<AccessTokenClaims>;
  getOrganization(): Promise<Organization>;
  findServicePrincipal(appId: string): Promise<ServicePrincipal | undefined>;
  getServicePrincipalByAppId(appId: string): Promise<ServicePrincipal | undefined>;
  /** Single-object read with $select=keyCredentials: the keys with their `key` (certificate). */
  getKeyCredentials(servicePrincipalId: string): Promise<KeyCredential[]>;
  updateServicePrincipal(servicePrincipalId: string, patch: ServicePrincipalPatch): Promise<void>;
  /** GET /v1.0/policies/defaultAppManagementPolicy (needs Policy.Read.All). */
  getDefaultAppManagementPolicy(): Promise<AppManagementPolicy>;
}

export interface GraphClientOptions {
  /** Graph root without version: https://graph.microsoft.com */
  graphUrl: string;
  credential: TokenCredential;
  host: Host;
  http?: Partial<HttpOptions>;
  /** Extra reads when Graph answers 2xx with a body that is not JSON (a proxy cutting it short). */
  malformedRetries?: number;
}

const SP_SELECT = 'id,appId,displayName,servicePrincipalNames,keyCredentials';

export class GraphClient implements GraphApi {
  private readonly root: string;
  private claims?: AccessTokenClaims;

  constructor(private readonly options: GraphClientOptions) {
    this.root = options.graphUrl.replace(/\/+$/, '');
  }

  private get scope(): string {
    return `${this.root}/.default`;
  }

  private async token(): Promise<string> {
    const access = await this.options.credential.getToken(this.scope);
    if (!access) throw new Error(`no access token for ${this.scope}`);
    // The credential masks it already; registering again is harmless and keeps this client safe on its own.
    this.options.host.registerSecret(access.token);
    this.claims = readAccessTokenClaims(access.token);
    return access.token;
  }

  async tokenClaims(): Promise<AccessTokenClaims> {
    await this.token();
    return this.claims!;
  }

  private async send(
    method: 'GET' | 'PATCH',
    path: string,
    operation: GraphOperation,
    body?: unknown,
  ): Promise<HttpResponse> {
    const token = await this.token();
    const clientRequestId = randomUUID();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'client-request-id': clientRequestId,
      'return-client-request-id': 'true',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const log = this.options.host.log;
    let res: HttpResponse;
    try {
      res = await sendWithRetry(
        { method, url: this.root + path, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) },
        {
          ...this.options.http,
          // A PATCH replaces the whole collection with the same list, so resending it is safe.
          onRetry: (info) =>
            log.warn(
              `Graph ${method} ${path}: ${info.reason}; retry ${info.attempt} in ${Math.round(info.delayMs)} ms`,
            ),
        },
      );
    } catch (error) {
      if (error instanceof RetryAfterBeyondBudgetError) {
        throw new Error(
          `Microsoft Graph ${method} ${path}: ${error.message} (tenant.graphTimeBudgetMinutes); run the phase again later, or raise the budget. client-request-id ${clientRequestId}`,
          { cause: error },
        );
      }
      // No answer at all after the retries (reset, refused, timed out): say which call, not only "socket hang up".
      throw new Error(
        `Microsoft Graph ${method} ${path} got no answer (${(error as Error).message}); client-request-id ${clientRequestId}`,
        { cause: error },
      );
    }
    if (res.status >= 200 && res.status < 300) return res;
    const parsed = parseGraphErrorBody(res.body);
    throw new GraphError({
      ...parsed,
      status: res.status,
      method,
      path,
      operation,
      requestId: parsed.requestId ?? res.headers['request-id'],
      clientRequestId: parsed.clientRequestId ?? res.headers['client-request-id'] ?? clientRequestId,
      ...(this.claims ? { tokenRoles: this.claims.roles } : {}),
      ...(this.claims?.appId ? { appId: this.claims.appId } : {}),
    });
  }

  /** GET with a JSON answer; a 2xx body that is not JSON is read again a bounded number of times. */
  private async getJson(
    path: string,
    operation: GraphOperation,
  ): Promise<{ json: Record<string, unknown>; status: number }> {
    const extra = this.options.malformedRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      const res = await this.send('GET', path, operation);
      try {
        const json: unknown = JSON.parse(res.body);
        if (json && typeof json === 'object' && !Array.isArray(json))
          return { json: json as Record<string, unknown>, status: res.status };
      } catch {
        // handled below
      }
      if (attempt >= extra) {
        throw new GraphResponseError(
          'GET',
          path,
          res.status,
          `the body is not the JSON object Graph documents (${res.body.length} bytes)`,
          res.headers['request-id'],
        );
      }
      this.options.host.log.warn(`Graph GET ${path}: the answer was not JSON; reading again`);
    }
  }

  async getOrganization(): Promise<Organization> {
    const path = '/v1.0/organization?$select=id,displayName,verifiedDomains';
    const { json, status } = await this.getJson(path, 'read-organization');
    const value = Array.isArray(json.value) ? json.value : [];
    const org = value[0] as Record<string, unknown> | undefined;
    if (!org || typeof org.id !== 'string')
      throw new GraphResponseError('GET', path, status, 'it holds no organization');
    return {
      id: org.id,
      displayName: typeof org.displayName === 'string' ? org.displayName : null,
      verifiedDomains: Array.isArray(org.verifiedDomains)
        ? (org.verifiedDomains as Record<string, unknown>[])
            .filter((d) => typeof d.name === 'string')
            .map((d) => ({ name: d.name as string, isDefault: d.isDefault === true, isInitial: d.isInitial === true }))
        : [],
    };
  }

  async findServicePrincipal(appId: string): Promise<ServicePrincipal | undefined> {
    const filter = encodeURIComponent(`appId eq '${appId}'`);
    const path = `/v1.0/servicePrincipals?$filter=${filter}&$select=${SP_SELECT}`;
    const { json, status } = await this.getJson(path, 'read-service-principal');
    if (!Array.isArray(json.value)) throw new GraphResponseError('GET', path, status, 'it has no value array');
    const found = (json.value as unknown[]).map((v) => toServicePrincipal(v, path, status));
    if (found.length > 1)
      throw new GraphResponseError('GET', path, status, `it lists ${found.length} service principals for one appId`);
    return found[0];
  }

  async getServicePrincipalByAppId(appId: string): Promise<ServicePrincipal | undefined> {
    const path = `/v1.0/servicePrincipals(appId='${encodeURIComponent(appId)}')?$select=${SP_SELECT}`;
    try {
      const { json, status } = await this.getJson(path, 'read-service-principal');
      return toServicePrincipal(json, path, status);
    } catch (error) {
      if (error instanceof GraphError && error.status === 404) return undefined;
      throw error;
    }
  }

  async getKeyCredentials(servicePrincipalId: string): Promise<KeyCredential[]> {
    const path = `/v1.0/servicePrincipals/${encodeURIComponent(servicePrincipalId)}?$select=keyCredentials`;
    const { json, status } = await this.getJson(path, 'read-service-principal');
    if (!Array.isArray(json.keyCredentials))
      throw new GraphResponseError('GET', path, status, 'it has no keyCredentials array');
    return (json.keyCredentials as unknown[]).map((k) => toKeyCredential(k, path, status));
  }

  async getDefaultAppManagementPolicy(): Promise<AppManagementPolicy> {
    const { json } = await this.getJson('/v1.0/policies/defaultAppManagementPolicy', 'read-app-management-policy');
    return toAppManagementPolicy(json);
  }

  async updateServicePrincipal(servicePrincipalId: string, patch: ServicePrincipalPatch): Promise<void> {
    const path = `/v1.0/servicePrincipals/${encodeURIComponent(servicePrincipalId)}`;
    await this.send('PATCH', path, 'update-service-principal', patch);
  }
}

const nullableString = (value: unknown) => (typeof value === 'string' ? value : null);

function toKeyCredential(value: unknown, path: string, status: number): KeyCredential {
  const k = (value ?? {}) as Record<string, unknown>;
  if (typeof k.keyId !== 'string') throw new GraphResponseError('GET', path, status, 'a key credential has no keyId');
  return {
    customKeyIdentifier: nullableString(k.customKeyIdentifier),
    displayName: nullableString(k.displayName),
    endDateTime: nullableString(k.endDateTime),
    key: nullableString(k.key),
    keyId: k.keyId,
    startDateTime: nullableString(k.startDateTime),
    type: nullableString(k.type) ?? '',
    usage: nullableString(k.usage) ?? '',
  };
}

function toServicePrincipal(value: unknown, path: string, status: number): ServicePrincipal {
  const sp = (value ?? {}) as Record<string, unknown>;
  if (typeof sp.id !== 'string' || typeof sp.appId !== 'string')
    throw new GraphResponseError('GET', path, status, 'a service principal has no id or appId');
  return {
    id: sp.id,
    appId: sp.appId,
    displayName: nullableString(sp.displayName),
    servicePrincipalNames: Array.isArray(sp.servicePrincipalNames)
      ? sp.servicePrincipalNames.filter((n): n is string => typeof n === 'string')
      : [],
    keyCredentials: Array.isArray(sp.keyCredentials)
      ? sp.keyCredentials.map((k) => toKeyCredential(k, path, status))
      : [],
  };
}
