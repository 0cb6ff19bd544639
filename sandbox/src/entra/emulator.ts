// A loopback HTTPS emulator of Entra ID (OpenID discovery, token endpoint, JWKS) and of the Microsoft
// Graph calls the toolkit makes (organization, servicePrincipals by $filter, by id and by (appId='…'),
// PATCH). It checks bearer tokens (signature, issuer, audience, lifetime) and app roles, keeps a
// request log, and injects faults by rule. Two listeners, like the real hosts: the authority and Graph.
// It also plays the pipelines' OIDC providers (GitHub Actions, Azure DevOps) for workload identity.
// Tests and `demo` start it from code; TLS comes from a test CA made at start (sandbox/src/tls.ts).
import { createHash, generateKeyPairSync, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SandboxTls } from '../tls.js';
import { describeFault, FaultInjector, type EntraEndpoint, type FaultRule } from './faults.js';
import { GRAPH_ROLES, GraphRuleError, patchServicePrincipal, renderServicePrincipal } from './graph-rules.js';
import { decodeJwt, signJwt, timeProblem, verifyJwtSignature } from './jwt.js';
import { DYNAMICS_APP_ID, EmulatorState, type EmulatorClient, type SeedServicePrincipal } from './state.js';

export { DYNAMICS_APP_ID, EmulatorState } from './state.js';
export type {
  EmulatorClient,
  SeedKeyCredential,
  SeedServicePrincipal,
  StoredKeyCredential,
  StoredServicePrincipal,
} from './state.js';
export type { EntraEndpoint, FaultRule } from './faults.js';

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** Office 365 Exchange Online: the resource of app-only Exchange Online PowerShell tokens, and its app role. */
export const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
export const EXCHANGE_RESOURCES = ['https://outlook.office365.com', 'https://outlook.office365.us'];
export const EXCHANGE_ROLES = ['Exchange.ManageAsApp'];
export const DEFAULT_FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';

export interface EntraEmulatorOptions {
  tls: SandboxTls;
  tenantId: string;
  /** Verified domains; the first is the default. Sign-in accepts each in place of the tenant id. */
  domains?: string[];
  /** Extra tenant path segments the token endpoint accepts for this tenant (to test the wrong-tenant guard). */
  tenantAliases?: string[];
  organizationDisplayName?: string;
  clients: EmulatorClient[];
  /** Default: the Dynamics CRM service principal with its bare appId as name and no keys. */
  servicePrincipals?: SeedServicePrincipal[];
  /** Lifetime of issued access tokens (default 3599 s). */
  tokenLifetimeSeconds?: number;
  /** The subject of GitHub OIDC tokens (default repo:contoso/crm-sync:environment:production). */
  githubSubject?: string;
  /** Host to listen on (default 127.0.0.1). */
  hostname?: string;
}

export interface EmulatorRequest {
  seq: number;
  at: Date;
  server: 'login' | 'graph';
  method: string;
  /** Decoded path without query. */
  path: string;
  query: Record<string, string>;
  endpoint: EntraEndpoint;
  headers: Record<string, string>;
  body: string;
  /** Parsed JSON body (Graph) or form fields (token endpoint). */
  json?: unknown;
  form?: Record<string, string>;
  /** The app the bearer token or the token request was for. */
  clientId?: string;
  status?: number;
  fault?: string;
  requestId: string;
}

export interface EntraEmulator {
  /** Base URL of the authority listener: use as tenant.endpoints.authority. */
  authority: string;
  /** Base URL of the Graph listener: use as tenant.endpoints.graph. */
  graph: string;
  tenantId: string;
  state: EmulatorState;
  faults: FaultInjector;
  requests: EmulatorRequest[];
  /** The GitHub Actions OIDC request endpoint (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN) and the tokens' issuer. */
  github: { requestUrl: string; requestToken: string; issuer: string; subject: string };
  /** The Azure DevOps OIDC endpoint (SYSTEM_OIDCREQUESTURI / SYSTEM_ACCESSTOKEN) and the tokens' issuer. */
  azureDevOps: {
    requestUri: string;
    accessToken: string;
    issuer: string;
    subjectFor(serviceConnectionId: string): string;
  };
  /** A federated token from the emulated external identity provider (for token files). */
  issueFederatedToken(options: {
    issuer?: string;
    subject: string;
    audience?: string;
    lifetimeSeconds?: number;
  }): string;
  /** An access token as the token endpoint would issue it (for tests of Graph's token checks). */
  issueAccessToken(
    clientId: string,
    options?: { lifetimeSeconds?: number; audience?: string; roles?: string[] },
  ): string;
  /** Requests to one endpoint, in order. */
  requestsTo(endpoint: EntraEndpoint): EmulatorRequest[];
  close(): Promise<void>;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Route {
  endpoint: EntraEndpoint;
  /** App roles of which the bearer token must hold one (Graph only). */
  roles?: readonly string[];
  handle: (log: EmulatorRequest) => Reply;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPH_JSON_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server, hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, hostname, () => resolve((server.address() as AddressInfo).port));
  });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}
const makeKeyPair = (): KeyPair => generateKeyPairSync('rsa', { modulusLength: 2048 });
let cachedKeys: { entraKey: KeyPair; idpKey: KeyPair } | undefined;

/** RSA keys take a few hundred milliseconds to make: one set per process serves every emulator. */
function signingKeys(): { entraKey: KeyPair; idpKey: KeyPair } {
  cachedKeys ??= { entraKey: makeKeyPair(), idpKey: makeKeyPair() };
  return cachedKeys;
}

export async function startEntraEmulator(options: EntraEmulatorOptions): Promise<EntraEmulator> {
  const hostname = options.hostname ?? '127.0.0.1';
  const tenantId = options.tenantId.toLowerCase();
  const domains = options.domains ?? ['contoso.onmicrosoft.com'];
  const state = new EmulatorState(
    tenantId,
    options.organizationDisplayName ?? 'Contoso',
    domains,
    options.clients,
    options.servicePrincipals ?? [{ appId: DYNAMICS_APP_ID }],
  );
  const faults = new FaultInjector();
  const requests: EmulatorRequest[] = [];
  const tokenLifetime = options.tokenLifetimeSeconds ?? 3599;

  // Keys: one signs access tokens (Entra), one signs federated tokens (the pipelines' OIDC providers).
  // Each emulator has its own key id, so a token of another instance is refused.
  const { entraKey, idpKey } = signingKeys();
  const entraKid = randomBytes(16).toString('base64url');
  const githubRequestToken = randomBytes(24).toString('base64url');
  const adoAccessToken = randomBytes(24).toString('base64url');

  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const loginServer = createServer({ key: options.tls.keyPem, cert: options.tls.certPem });
  const graphServer = createServer({ key: options.tls.keyPem, cert: options.tls.certPem });
  for (const server of [loginServer, graphServer]) {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.keepAliveTimeout = 1000;
  }
  const loginPort = await listen(loginServer, hostname);
  const graphPort = await listen(graphServer, hostname);
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  const authority = `https://${host}:${loginPort}`;
  const graph = `https://${host}:${graphPort}`;
  const githubIssuer = `${authority}/_oidc/github`;
  const adoIssuer = `${authority}/_oidc/azure-devops`;
  const githubSubject = options.githubSubject ?? 'repo:contoso/crm-sync:environment:production';
  const stsIssuer = `https://sts.windows.net/${tenantId}/`;
  const acceptedTenants = new Set([
    tenantId,
    ...domains.map((d) => d.toLowerCase()),
    ...(options.tenantAliases ?? []).map((a) => a.toLowerCase()),
  ]);

  // ---------- helpers ----------

  const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

  function aadError(status: number, error: string, code: number, description: string, log: EmulatorRequest): Reply {
    const traceId = randomUUID();
    const correlationId = log.headers['client-request-id'] ?? randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.(\d{3})Z$/, '.$1Z');
    return {
      status,
      headers: { 'content-type': JSON_TYPE },
      body: JSON.stringify({
        error,
        error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${authority}/error?code=${code}`,
      }),
    };
  }

  function graphError(
    status: number,
    code: string,
    message: string,
    log: EmulatorRequest,
    extraHeaders: Record<string, string> = {},
  ): Reply {
    return {
      status,
      headers: { 'content-type': JSON_TYPE, ...extraHeaders },
      body: JSON.stringify({
        error: {
          code,
          message,
          innerError: {
            date: stamp(),
            'request-id': log.requestId,
            'client-request-id': log.headers['client-request-id'] ?? log.requestId,
          },
        },
      }),
    };
  }

  const json = (status: number, value: unknown, type = JSON_TYPE): Reply => ({
    status,
    headers: { 'content-type': type },
    body: JSON.stringify(value),
  });

  function issueAccessToken(
    client: EmulatorClient,
    lifetimeSeconds = tokenLifetime,
    audience = graph,
    roles = client.roles,
    appidacr = '1',
  ): string {
    const now = nowSeconds();
    const payload: Record<string, unknown> = {
      aud: audience,
      iss: stsIssuer,
      iat: now,
      nbf: now,
      exp: now + lifetimeSeconds,
      aio: randomBytes(16).toString('base64url'),
      app_displayname: client.displayName ?? 'd365-exo-sync',
      appid: client.clientId,
      appidacr,
      idp: stsIssuer,
      idtyp: 'app',
      oid: createHash('sha256')
        .update(client.clientId)
        .digest('hex')
        .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5'),
      sub: client.clientId,
      tid: tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    };
    if (roles.length) payload.roles = [...roles];
    return signJwt({ kid: entraKid, x5t: entraKid }, payload, entraKey.privateKey);
  }

  function issueFederatedToken(o: {
    issuer?: string;
    subject: string;
    audience?: string;
    lifetimeSeconds?: number;
  }): string {
    const now = nowSeconds();
    return signJwt(
      { kid: 'sandbox-idp' },
      {
        iss: o.issuer ?? githubIssuer,
        sub: o.subject,
        aud: o.audience ?? DEFAULT_FEDERATED_AUDIENCE,
        iat: now,
        nbf: now,
        exp: now + (o.lifetimeSeconds ?? 300),
        jti: randomUUID(),
      },
      idpKey.privateKey,
    );
  }

  function openIdConfiguration(): Record<string, unknown> {
    const base = `${authority}/${tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${graph}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: new URL(graph).host,
      rbac_url: 'https://pas.windows.net',
    };
  }

  // ---------- the token endpoint ----------

  function verifyClientAssertion(
    client: EmulatorClient,
    assertion: string,
    requestedUrl: string,
    log: EmulatorRequest,
  ): Reply | undefined {
    const jwt = decodeJwt(assertion);
    if (!jwt) return aadError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.', log);
    const p = jwt.payload;
    // A federated credential: the assertion comes from an external identity provider.
    const federated = (client.federated ?? []).filter((f) => f.issuer === p.iss);
    if (federated.length) {
      if (!verifyJwtSignature(jwt, idpKey.publicKey)) {
        return aadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.', log);
      }
      const time = timeProblem(p, nowSeconds(), 0);
      if (time)
        return aadError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.', log);
      const audiences = Array.isArray(p.aud) ? p.aud : [p.aud];
      const match = federated.find(
        (f) => f.subject === p.sub && audiences.includes(f.audience ?? DEFAULT_FEDERATED_AUDIENCE),
      );
      if (!match) {
        return aadError(
          400,
          'invalid_client',
          70021,
          `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(p.iss)}'. Assertion Subject: '${String(p.sub)}'. Assertion Audience: '${audiences.join(',')}'.`,
          log,
        );
      }
      return undefined;
    }
    // A certificate credential: a JWT signed by the app's own key, naming the certificate by thumbprint.
    if (!client.certificatePem) {
      return aadError(
        400,
        'invalid_client',
        70021,
        `No matching federated identity record found for presented assertion issuer '${String(p.iss)}'.`,
        log,
      );
    }
    const cert = new X509Certificate(client.certificatePem);
    const sha1 = createHash('sha1').update(cert.raw).digest('base64url');
    const sha256 = createHash('sha256').update(cert.raw).digest('base64url');
    if (jwt.header.x5t !== sha1 && jwt.header['x5t#S256'] !== sha256) {
      return aadError(
        401,
        'invalid_client',
        700027,
        `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.] App Id: ${client.clientId}.`,
        log,
      );
    }
    if (!verifyJwtSignature(jwt, cert.publicKey))
      return aadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.', log);
    if (p.iss !== client.clientId || p.sub !== client.clientId) {
      return aadError(401, 'invalid_client', 700023, 'Client assertion issuer and subject must be the client id.', log);
    }
    const audiences = [requestedUrl, `${authority}/${tenantId}/oauth2/v2.0/token`, `${authority}/${tenantId}/v2.0`];
    if (!audiences.includes(String(p.aud))) {
      return aadError(
        401,
        'invalid_client',
        700027,
        `Client assertion contains an invalid audience '${String(p.aud)}'.`,
        log,
      );
    }
    if (timeProblem(p, nowSeconds()))
      return aadError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.', log);
    return undefined;
  }

  function tokenEndpoint(tenant: string, log: EmulatorRequest): Reply {
    if (!acceptedTenants.has(tenant.toLowerCase())) {
      return aadError(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        log,
      );
    }
    const form = log.form ?? {};
    if (form.grant_type !== 'client_credentials') {
      return aadError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${form.grant_type ?? ''}'.`,
        log,
      );
    }
    const client = form.client_id ? state.clients.get(form.client_id.toLowerCase()) : undefined;
    if (form.client_id) log.clientId = form.client_id;
    if (!client) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.client_id ?? ''}' was not found in the directory '${state.organization.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
        log,
      );
    }
    const scope = form.scope ?? '';
    const resource = scope
      .split(' ')
      .find((s) => s.endsWith('/.default'))
      ?.slice(0, -'/.default'.length);
    const trimmed = resource?.replace(/\/+$/, '');
    // Exchange Online: the token carries the client's Exchange roles only; Graph: every other role.
    const exchange = !!trimmed && (EXCHANGE_RESOURCES.includes(trimmed) || trimmed === EXCHANGE_APP_ID);
    if (!resource || (!exchange && trimmed !== graph && resource !== GRAPH_APP_ID)) {
      return aadError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource ?? scope} was not found in the tenant named ${state.organization.displayName}.`,
        log,
      );
    }
    let appidacr = '1';
    if (form.client_secret !== undefined) {
      if (!client.secret || form.client_secret !== client.secret) {
        return aadError(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${client.clientId}'.`,
          log,
        );
      }
    } else if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        return aadError(
          400,
          'invalid_request',
          90014,
          "The required field 'client_assertion_type' is missing from the credential.",
          log,
        );
      }
      const problem = verifyClientAssertion(client, form.client_assertion, `${authority}${log.path}`, log);
      if (problem) return problem;
      appidacr = '2';
    } else {
      return aadError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        log,
      );
    }
    state.tokensIssued++;
    return json(200, {
      token_type: 'Bearer',
      expires_in: tokenLifetime,
      ext_expires_in: tokenLifetime,
      access_token: exchange
        ? issueAccessToken(
            client,
            tokenLifetime,
            trimmed === EXCHANGE_APP_ID ? EXCHANGE_RESOURCES[0] : trimmed,
            client.roles.filter((r) => EXCHANGE_ROLES.includes(r)),
            appidacr,
          )
        : issueAccessToken(
            client,
            tokenLifetime,
            graph,
            client.roles.filter((r) => !EXCHANGE_ROLES.includes(r)),
            appidacr,
          ),
    });
  }

  function loginRoute(method: string, path: string): Route {
    const segments = path.split('/').filter(Boolean);
    if (
      method === 'GET' &&
      segments.length === 4 &&
      segments[1] === 'v2.0' &&
      segments[2] === '.well-known' &&
      segments[3] === 'openid-configuration'
    ) {
      return {
        endpoint: 'openid-configuration',
        handle: (log) =>
          acceptedTenants.has(segments[0]!.toLowerCase())
            ? json(200, openIdConfiguration())
            : aadError(400, 'invalid_tenant', 90002, `Tenant '${segments[0]}' not found.`, log),
      };
    }
    if (
      method === 'GET' &&
      segments.length === 4 &&
      segments[1] === 'discovery' &&
      segments[2] === 'v2.0' &&
      segments[3] === 'keys'
    ) {
      return {
        endpoint: 'jwks',
        handle: () =>
          json(200, {
            keys: [
              {
                kty: 'RSA',
                use: 'sig',
                kid: entraKid,
                x5t: entraKid,
                ...entraKey.publicKey.export({ format: 'jwk' }),
                issuer: `${authority}/${tenantId}/v2.0`,
              },
            ],
          }),
      };
    }
    if (
      method === 'POST' &&
      segments.length === 4 &&
      segments[1] === 'oauth2' &&
      segments[2] === 'v2.0' &&
      segments[3] === 'token'
    ) {
      return { endpoint: 'token', handle: (log) => tokenEndpoint(segments[0]!, log) };
    }
    if (method === 'GET' && path === '/_oidc/github/token') {
      return {
        endpoint: 'github-oidc',
        handle: (log) => {
          if (log.headers.authorization?.replace(/^bearer\s+/i, '') !== githubRequestToken)
            return json(401, { message: 'Bad credentials' });
          const audience = log.query.audience ?? 'https://github.com/contoso';
          return json(200, {
            count: 1,
            value: issueFederatedToken({ issuer: githubIssuer, subject: githubSubject, audience }),
          });
        },
      };
    }
    if (method === 'POST' && path === '/_oidc/azure-devops/oidctoken') {
      return {
        endpoint: 'azure-devops-oidc',
        handle: (log) => {
          if (log.headers.authorization?.replace(/^bearer\s+/i, '') !== adoAccessToken)
            return json(401, { message: 'TF400813: The user is not authorized to access this resource.' });
          const connection = log.query.serviceConnectionId;
          if (!connection) return json(400, { message: 'serviceConnectionId is required' });
          return json(200, {
            oidcToken: issueFederatedToken({
              issuer: adoIssuer,
              subject: adoSubject(connection),
              audience: DEFAULT_FEDERATED_AUDIENCE,
            }),
          });
        },
      };
    }
    return {
      endpoint: 'login-other',
      handle: (log) => aadError(404, 'invalid_request', 900561, `The endpoint ${path} does not exist.`, log),
    };
  }

  const adoSubject = (connection: string) => `sc://contoso/crm-sync/${connection}`;

  // ---------- Graph ----------

  /** Checks the bearer token; returns the app's roles, or the 401 reply. */
  function authenticate(log: EmulatorRequest): { roles: string[] } | Reply {
    const header = log.headers.authorization;
    const wwwAuthenticate = {
      'www-authenticate': `Bearer realm="", authorization_uri="${authority}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
    };
    if (!header) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', log, wwwAuthenticate);
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    const jwt = token ? decodeJwt(token) : undefined;
    if (!jwt)
      return graphError(
        401,
        'InvalidAuthenticationToken',
        'IDX14100: JWT is not well formed, there are no dots (.).',
        log,
        wwwAuthenticate,
      );
    if (jwt.header.kid !== entraKid || !verifyJwtSignature(jwt, entraKey.publicKey)) {
      return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.', log, wwwAuthenticate);
    }
    const p = jwt.payload;
    if (typeof p.appid === 'string') log.clientId = p.appid;
    if (p.iss !== stsIssuer)
      return graphError(
        401,
        'InvalidAuthenticationToken',
        'Access token validation failure. Invalid issuer.',
        log,
        wwwAuthenticate,
      );
    if (p.aud !== graph && p.aud !== `${graph}/` && p.aud !== GRAPH_APP_ID) {
      return graphError(
        401,
        'InvalidAuthenticationToken',
        'Access token validation failure. Invalid audience.',
        log,
        wwwAuthenticate,
      );
    }
    const time = timeProblem(p, nowSeconds());
    if (time === 'expired')
      return graphError(
        401,
        'InvalidAuthenticationToken',
        'Lifetime validation failed, the token is expired.',
        log,
        wwwAuthenticate,
      );
    if (time)
      return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.', log, wwwAuthenticate);
    return { roles: Array.isArray(p.roles) ? p.roles.filter((r): r is string => typeof r === 'string') : [] };
  }

  const parseSelect = (query: Record<string, string>) =>
    query.$select
      ? query.$select
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;

  function findSp(selector: string): ReturnType<EmulatorState['servicePrincipal']> {
    const byAppId = /^servicePrincipals\(appId='([^']*)'\)$/.exec(selector);
    if (byAppId) return state.servicePrincipal(byAppId[1]!);
    const byId = /^servicePrincipals\/([^/]+)$/.exec(selector);
    if (byId) return state.servicePrincipals.find((sp) => sp.id.toLowerCase() === byId[1]!.toLowerCase());
    return undefined;
  }

  function graphRoute(method: string, path: string): Route {
    const match = /^\/v1\.0\/(.+)$/.exec(path);
    const rest = match?.[1] ?? '';
    const notFound = (log: EmulatorRequest) =>
      graphError(
        404,
        'Request_ResourceNotFound',
        `Resource '${rest.replace(/^servicePrincipals[/(]?/, '').replace(/\)$/, '')}' does not exist or one of its queried reference-property objects are not present.`,
        log,
      );
    if (!match)
      return {
        endpoint: 'graph-other',
        handle: (log) => graphError(400, 'BadRequest', `Invalid version: ${path.split('/')[1] ?? ''}`, log),
      };
    if (rest === 'policies/defaultAppManagementPolicy' && method === 'GET') {
      return {
        endpoint: 'app-management-policy',
        roles: GRAPH_ROLES.readAppManagementPolicy,
        handle: () =>
          json(
            200,
            {
              '@odata.context': `${graph}/v1.0/$metadata#policies/defaultAppManagementPolicy/$entity`,
              ...state.defaultAppManagementPolicy,
            },
            GRAPH_JSON_TYPE,
          ),
      };
    }
    if (rest === 'organization' && method === 'GET') {
      return {
        endpoint: 'organization',
        roles: GRAPH_ROLES.readOrganization,
        handle: (log) => {
          const select = parseSelect(log.query);
          const full: Record<string, unknown> = {
            id: state.organization.id,
            displayName: state.organization.displayName,
            tenantType: 'AAD',
            countryLetterCode: 'NL',
            verifiedDomains: state.organization.verifiedDomains.map((d) => ({
              capabilities: 'Email, OfficeCommunicationsOnline',
              isDefault: d.isDefault,
              isInitial: d.isInitial,
              name: d.name,
              type: 'Managed',
            })),
          };
          const picked = select ? Object.fromEntries(select.map((s) => [s, full[s]])) : full;
          const unknown = select?.find((s) => !(s in full));
          if (unknown)
            return graphError(
              400,
              'BadRequest',
              `Could not find a property named '${unknown}' on type 'microsoft.graph.organization'.`,
              log,
            );
          return json(
            200,
            {
              '@odata.context': `${graph}/v1.0/$metadata#organization${select ? `(${select.join(',')})` : ''}`,
              value: [picked],
            },
            GRAPH_JSON_TYPE,
          );
        },
      };
    }
    if (rest === 'servicePrincipals' && method === 'GET') {
      return {
        endpoint: 'sp-list',
        roles: GRAPH_ROLES.readServicePrincipal,
        handle: (log) => {
          const filter = log.query.$filter;
          let list = state.servicePrincipals;
          if (filter !== undefined) {
            const m = /^appId eq '([^']*)'$/.exec(filter.trim());
            if (!m)
              return graphError(
                400,
                'Request_UnsupportedQuery',
                `Unsupported or invalid query filter clause specified for property 'appId' of resource 'ServicePrincipal'.`,
                log,
              );
            list = list.filter((sp) => sp.appId.toLowerCase() === m[1]!.toLowerCase());
          }
          const select = parseSelect(log.query);
          const value = list.map((sp) => renderServicePrincipal(sp, select, false));
          return json(
            200,
            {
              '@odata.context': `${graph}/v1.0/$metadata#servicePrincipals${select ? `(${select.join(',')})` : ''}`,
              value,
            },
            GRAPH_JSON_TYPE,
          );
        },
      };
    }
    if (/^servicePrincipals(\/[^/]+|\(appId='[^']*'\))$/.test(rest) && (method === 'GET' || method === 'PATCH')) {
      if (method === 'GET') {
        return {
          endpoint: 'sp-get',
          roles: GRAPH_ROLES.readServicePrincipal,
          handle: (log) => {
            const sp = findSp(rest);
            if (!sp) return notFound(log);
            const select = parseSelect(log.query);
            return json(
              200,
              {
                '@odata.context': `${graph}/v1.0/$metadata#servicePrincipals${select ? `(${select.join(',')})` : ''}/$entity`,
                ...renderServicePrincipal(sp, select, true),
              },
              GRAPH_JSON_TYPE,
            );
          },
        };
      }
      return {
        endpoint: 'sp-patch',
        roles: GRAPH_ROLES.updateServicePrincipal,
        handle: (log) => {
          const sp = findSp(rest);
          if (!sp) return notFound(log);
          if (log.json === undefined)
            return graphError(
              400,
              'BadRequest',
              'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
              log,
            );
          patchServicePrincipal(sp, log.json, { refuseKeyIdOnlyResend: state.refuseKeyIdOnlyResend });
          state.patchesApplied++;
          return { status: 204, headers: {}, body: '' };
        },
      };
    }
    return {
      endpoint: 'graph-other',
      handle: (log) =>
        graphError(400, 'BadRequest', `Resource not found for the segment '${rest.split(/[/(?]/)[0]}'.`, log),
    };
  }

  // ---------- the request pipeline: log, faults, handling ----------

  const SHORT = '{"value":[{"id":"';

  function send(res: ServerResponse, reply: Reply, log: EmulatorRequest): void {
    if (res.destroyed || res.writableEnded) return;
    log.status = reply.status;
    res.writeHead(reply.status, {
      ...reply.headers,
      'request-id': log.requestId,
      'client-request-id': log.headers['client-request-id'] ?? log.requestId,
      date: new Date().toUTCString(),
    });
    res.end(reply.body);
  }

  function faultReply(rule: FaultRule & { kind: 'status' }, server: 'login' | 'graph', log: EmulatorRequest): Reply {
    const headers: Record<string, string> =
      rule.retryAfterSeconds !== undefined ? { 'retry-after': String(rule.retryAfterSeconds) } : {};
    if (server === 'login') {
      return {
        status: rule.status,
        headers: { 'content-type': JSON_TYPE, ...headers },
        body: JSON.stringify({
          error: 'temporarily_unavailable',
          error_description: 'AADSTS50196: The server is temporarily unavailable.',
        }),
      };
    }
    const code = rule.status === 429 ? 'TooManyRequests' : rule.status === 503 ? 'serviceNotAvailable' : 'UnknownError';
    const message =
      rule.status === 429 ? 'Too many requests.' : rule.status === 503 ? 'Service unavailable' : 'An error occurred.';
    return graphError(rule.status, code, message, log, headers);
  }

  async function handle(server: 'login' | 'graph', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', server === 'login' ? authority : graph);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const route: Route = server === 'login' ? loginRoute(method, path) : graphRoute(method, path);
    const log: EmulatorRequest = {
      seq: requests.length + 1,
      at: new Date(),
      server,
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      endpoint: route.endpoint,
      headers,
      body,
      requestId: randomUUID(),
    };
    if (headers['content-type']?.startsWith('application/x-www-form-urlencoded'))
      log.form = Object.fromEntries(new URLSearchParams(body));
    else if (body) {
      try {
        log.json = JSON.parse(body);
      } catch {
        // stays undefined: the handler answers 400
      }
    }
    requests.push(log);

    const rule = faults.take(route.endpoint);
    if (rule) log.fault = describeFault(rule);
    if (rule && !rule.afterHandling) {
      if (rule.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (rule.kind === 'status') return send(res, faultReply(rule, server, log), log);
      if (rule.kind === 'malformed')
        return send(res, { status: 200, headers: { 'content-type': JSON_TYPE }, body: SHORT }, log);
      await delay(rule.delayMs);
    }

    let reply: Reply;
    try {
      if (server === 'graph') {
        const auth = authenticate(log);
        if ('status' in auth) reply = auth;
        else if (route.roles && !route.roles.some((role) => auth.roles.includes(role))) {
          reply = graphError(
            403,
            'Authorization_RequestDenied',
            'Insufficient privileges to complete the operation.',
            log,
          );
        } else reply = route.handle(log);
      } else reply = route.handle(log);
    } catch (error) {
      if (error instanceof GraphRuleError) reply = graphError(error.status, error.code, error.message, log);
      else reply = graphError(500, 'InternalServerError', `sandbox error: ${(error as Error).message}`, log);
    }

    if (rule?.afterHandling) {
      if (rule.kind === 'reset') {
        log.status = reply.status;
        req.socket.destroy();
        return;
      }
      if (rule.kind === 'status') return send(res, faultReply(rule, server, log), log);
      if (rule.kind === 'malformed')
        return send(
          res,
          {
            status: 200,
            headers: { 'content-type': JSON_TYPE },
            body: reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2))) || SHORT,
          },
          log,
        );
      await delay(rule.delayMs);
    }
    send(res, reply, log);
  }

  const onRequest = (server: 'login' | 'graph') => (req: IncomingMessage, res: ServerResponse) => {
    handle(server, req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': JSON_TYPE });
        res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(error) } }));
      }
    });
  };
  loginServer.on('request', onRequest('login'));
  graphServer.on('request', onRequest('graph'));

  return {
    authority,
    graph,
    tenantId,
    state,
    faults,
    requests,
    github: {
      requestUrl: `${authority}/_oidc/github/token?api-version=2.0`,
      requestToken: githubRequestToken,
      issuer: githubIssuer,
      subject: githubSubject,
    },
    azureDevOps: {
      requestUri: `${authority}/_oidc/azure-devops/oidctoken`,
      accessToken: adoAccessToken,
      issuer: adoIssuer,
      subjectFor: adoSubject,
    },
    issueFederatedToken,
    issueAccessToken(clientId, o = {}) {
      const client = state.clients.get(clientId.toLowerCase());
      if (!client) throw new Error(`no app ${clientId} in the sandbox`);
      return issueAccessToken(client, o.lifetimeSeconds ?? tokenLifetime, o.audience ?? graph, o.roles ?? client.roles);
    },
    requestsTo: (endpoint) => requests.filter((r) => r.endpoint === endpoint),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        [loginServer, graphServer].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
