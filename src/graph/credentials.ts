// Signing in to Entra ID with @azure/identity: workload identity federation first (GitHub OIDC token,
// Azure DevOps service connection, or a token file), then client certificate, then client secret.
// Every secret (client secret, certificate key, pipeline request tokens, federated assertions, access
// tokens) is registered with the host's mask before it is used, so no log line or record can show it.
import { readFile } from 'node:fs/promises';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  type AccessToken,
  type ClientSecretCredentialOptions,
  type GetTokenOptions,
  type TokenCredential,
} from '@azure/identity';
import { FEDERATED_AUDIENCE, type Config } from '../config/schema.js';
import type { EntraConnection, Host } from '../hosts/host.js';
import { sendWithRetry, type HttpOptions } from '../http/request.js';
import { tenantSegment, type CloudEndpoints } from './endpoints.js';
import { EntraSignInError } from './errors.js';
import { createAzureHttpClient, type DiagnosingHttpClient } from './http-client.js';
import { CachingCredential } from './token-cache.js';

export type AuthConfig = Config['tenant']['auth'];

/**
 * The audience asked of the GitHub Actions OIDC provider: tenant.auth.audience (default
 * api://AzureADTokenExchange, what azure/login asks in every cloud). It must equal the audience of the
 * app's federated credential, which the guides and the federated-credentials command create with it.
 */
export function federatedAudience(auth: AuthConfig): string {
  return (auth.method === 'workload-identity' && auth.audience) || FEDERATED_AUDIENCE;
}

/** Where a federated token comes from, as found in the environment. */
export type FederatedTokenSource =
  | { kind: 'token-file'; envName: string; path: string }
  | { kind: 'github-actions'; requestUrl: string; requestToken: string }
  | { kind: 'azure-devops'; requestUri: string; accessToken: string; serviceConnectionId: string };

export function describeSource(source: FederatedTokenSource): string {
  switch (source.kind) {
    case 'token-file':
      return `the federated token file named by ${source.envName}`;
    case 'github-actions':
      return 'the GitHub Actions OIDC token';
    case 'azure-devops':
      return `the Azure DevOps service connection ${source.serviceConnectionId}`;
  }
}

/**
 * Finds the federated token source: tenant.auth.tokenFileEnv when configured, else
 * AZURE_FEDERATED_TOKEN_FILE, else the GitHub Actions OIDC request variables, else Azure DevOps'
 * (SYSTEM_OIDCREQUESTURI, SYSTEM_ACCESSTOKEN, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID).
 */
export function findFederatedTokenSource(
  tokenFileEnv: string | undefined,
  env: NodeJS.ProcessEnv,
): FederatedTokenSource {
  if (tokenFileEnv) {
    const path = env[tokenFileEnv];
    if (!path) {
      throw new EntraSignInError(
        `tenant.auth.tokenFileEnv names ${tokenFileEnv}, which is not set: set it to the path of the file holding the federated token`,
      );
    }
    return { kind: 'token-file', envName: tokenFileEnv, path };
  }
  if (env.AZURE_FEDERATED_TOKEN_FILE)
    return { kind: 'token-file', envName: 'AZURE_FEDERATED_TOKEN_FILE', path: env.AZURE_FEDERATED_TOKEN_FILE };
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL || env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new EntraSignInError(
        'GitHub Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN must both be set; give the job `permissions: id-token: write`',
      );
    }
    return {
      kind: 'github-actions',
      requestUrl: env.ACTIONS_ID_TOKEN_REQUEST_URL,
      requestToken: env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
    };
  }
  if (env.SYSTEM_OIDCREQUESTURI) {
    const missing = ['SYSTEM_ACCESSTOKEN', 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID'].filter((name) => !env[name]);
    if (missing.length) {
      throw new EntraSignInError(
        'Azure DevOps: no service connection. Give the task input azureSubscription: the name of an Azure Resource Manager service connection (workload identity federation, or a service principal) whose app is the one in tenant.auth.clientId',
      );
    }
    return {
      kind: 'azure-devops',
      requestUri: env.SYSTEM_OIDCREQUESTURI,
      accessToken: env.SYSTEM_ACCESSTOKEN!,
      serviceConnectionId: env.AZURESUBSCRIPTION_SERVICE_CONNECTION_ID!,
    };
  }
  throw new EntraSignInError(
    'tenant.auth.method is workload-identity but no federated token is available: in GitHub Actions give the job `permissions: id-token: write`; ' +
      'in Azure DevOps give the task input azureSubscription (an Azure Resource Manager service connection); ' +
      'elsewhere set AZURE_FEDERATED_TOKEN_FILE (or the variable tenant.auth.tokenFileEnv names) to a file holding the token',
  );
}

function readJson(text: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object') return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new EntraSignInError(`${what} did not answer with JSON`);
}

/** Fetches one federated token (a JWT) from its source; the caller registers it as a secret. */
export async function fetchFederatedToken(
  source: FederatedTokenSource,
  audience: string,
  http: Partial<HttpOptions>,
): Promise<string> {
  switch (source.kind) {
    case 'token-file': {
      let text: string;
      try {
        text = await readFile(source.path, 'utf8');
      } catch (error) {
        throw new EntraSignInError(
          `${source.envName} names ${source.path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
          { cause: error },
        );
      }
      const token = text.trim();
      if (!token) throw new EntraSignInError(`the federated token file ${source.path} (${source.envName}) is empty`);
      return token;
    }
    case 'github-actions': {
      const url = new URL(source.requestUrl);
      url.searchParams.set('audience', audience);
      const res = await sendWithRetry(
        {
          method: 'GET',
          url: url.toString(),
          headers: { authorization: `bearer ${source.requestToken}`, accept: 'application/json; api-version=2.0' },
        },
        http,
      );
      if (res.status !== 200) {
        throw new EntraSignInError(
          `GitHub Actions refused the OIDC token request: HTTP ${res.status}; give the job \`permissions: id-token: write\``,
        );
      }
      const value = readJson(res.body, 'the GitHub Actions OIDC token endpoint').value;
      if (typeof value !== 'string' || !value)
        throw new EntraSignInError('the GitHub Actions OIDC token endpoint answered without a token (value)');
      return value;
    }
    case 'azure-devops': {
      const url = new URL(source.requestUri);
      url.searchParams.set('api-version', '7.1');
      url.searchParams.set('serviceConnectionId', source.serviceConnectionId);
      const res = await sendWithRetry(
        {
          method: 'POST',
          url: url.toString(),
          headers: {
            authorization: `Bearer ${source.accessToken}`,
            'content-type': 'application/json',
            'x-tfs-fedauthredirect': 'Suppress',
          },
          body: '',
        },
        http,
      );
      if (res.status !== 200) {
        throw new EntraSignInError(
          `Azure DevOps refused the OIDC token request for service connection ${source.serviceConnectionId}: HTTP ${res.status}; check that the pipeline may use the service connection and that SYSTEM_ACCESSTOKEN is mapped`,
        );
      }
      const token = readJson(res.body, 'the Azure DevOps OIDC endpoint').oidcToken;
      if (typeof token !== 'string' || !token)
        throw new EntraSignInError('the Azure DevOps OIDC endpoint answered without a token (oidcToken)');
      return token;
    }
  }
}

export interface CredentialSetup {
  config: Pick<Config, 'tenant'>;
  endpoints: CloudEndpoints;
  host: Host;
  env: NodeJS.ProcessEnv;
  http: Partial<HttpOptions>;
}

/** Words for messages: "client-secret (CRM_SYNC_SECRET)". */
export function describeAuth(auth: AuthConfig): string {
  switch (auth.method) {
    case 'client-secret':
      return `client secret from ${auth.secretEnv}`;
    case 'client-certificate':
      return `client certificate from ${auth.certificateEnv}`;
    case 'workload-identity':
      return 'workload identity federation';
  }
}

/**
 * Builds the TokenCredential. Secrets found in the environment are registered with the mask right
 * away; problems (a variable not set) are raised on first use, so building services stays offline.
 */
export function createCredential(setup: CredentialSetup): TokenCredential {
  const { config, endpoints, host, env, http } = setup;
  const auth = config.tenant.auth;
  const tenant = tenantSegment(config.tenant);
  const httpClient = createAzureHttpClient(http);
  const options: ClientSecretCredentialOptions = {
    authorityHost: endpoints.authorityHost,
    httpClient,
    // The toolkit's HTTP layer retries; the SDK's own retries on top would multiply the attempts.
    retryOptions: { maxRetries: 0 },
    ...(endpoints.knownAuthority ? {} : { disableInstanceDiscovery: true }),
  };
  let build: () => TokenCredential;
  let connection: EntraConnection | undefined;
  let connectionProblem: unknown;
  try {
    connection = host.entraConnection?.();
  } catch (error) {
    connectionProblem = error;
  }
  if (connectionProblem !== undefined) {
    build = () => {
      const message = connectionProblem instanceof Error ? connectionProblem.message : String(connectionProblem);
      throw new EntraSignInError(message, { cause: connectionProblem });
    };
    return new MaskedCredential(build, host, httpClient, 'the service connection');
  }
  if (connection) {
    const found = connection;
    build = () => {
      const mismatch = tenantMismatch(config.tenant, found);
      if (mismatch) throw new EntraSignInError(mismatch);
      return connectionCredential(found, endpoints, options, host, http);
    };
    return new MaskedCredential(build, host, httpClient, `${found.description} at ${endpoints.authorityHost}`);
  }
  switch (auth.method) {
    case 'client-secret': {
      const secret = env[auth.secretEnv];
      if (secret) host.registerSecret(secret);
      build = () => {
        if (!secret)
          throw new EntraSignInError(
            `tenant.auth.secretEnv names ${auth.secretEnv}, which is not set or empty: put the client secret of app ${auth.clientId} in it`,
          );
        return new ClientSecretCredential(tenant, auth.clientId, secret, options);
      };
      break;
    }
    case 'client-certificate': {
      const pem = env[auth.certificateEnv];
      if (pem) host.registerSecret(pem);
      build = () => {
        if (!pem)
          throw new EntraSignInError(
            `tenant.auth.certificateEnv names ${auth.certificateEnv}, which is not set or empty: put the PEM certificate and private key of app ${auth.clientId} in it`,
          );
        if (
          !/-----BEGIN CERTIFICATE-----/.test(pem) ||
          !/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem)
        ) {
          throw new EntraSignInError(
            `${auth.certificateEnv} must hold a PEM certificate and its private key (-----BEGIN CERTIFICATE----- and -----BEGIN PRIVATE KEY-----)`,
          );
        }
        return new ClientCertificateCredential(
          tenant,
          auth.clientId,
          { certificate: pem.replace(/\r\n/g, '\n') },
          options,
        );
      };
      break;
    }
    case 'workload-identity': {
      for (const name of ['ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'SYSTEM_ACCESSTOKEN']) {
        const value = env[name];
        if (value) host.registerSecret(value);
      }
      build = () => {
        const source = findFederatedTokenSource(auth.tokenFileEnv, env);
        const audience = federatedAudience(auth);
        return new ClientAssertionCredential(
          tenant,
          auth.clientId,
          async () => {
            const token = await fetchFederatedToken(source, audience, http);
            host.registerSecret(token);
            return token;
          },
          options,
        );
      };
      break;
    }
  }
  // One token per scope for the run (see token-cache.ts), masked before it is first handed out.
  return new CachingCredential(
    new MaskedCredential(
      build,
      host,
      httpClient,
      `app ${auth.clientId} in tenant ${tenant} (${describeAuth(auth)}) at ${endpoints.authorityHost}`,
    ),
  );
}

/**
 * The config's tenant against the service connection's: a pipeline that signs in to one tenant and
 * changes another is refused before anything happens. tenant.domain alone cannot be compared offline.
 */
export function tenantMismatch(tenant: Config['tenant'], connection: EntraConnection): string | undefined {
  if (tenant.id && tenant.id.toLowerCase() !== connection.tenantId.toLowerCase()) {
    return (
      `the config's tenant.id is ${tenant.id}, but ${connection.description} signs in to tenant ${connection.tenantId}: ` +
      'use the service connection of the tenant the config describes, or correct tenant.id'
    );
  }
  return undefined;
}

/** The credential of a pipeline service connection: its tenant and app replace tenant.auth. */
function connectionCredential(
  connection: EntraConnection,
  endpoints: CloudEndpoints,
  options: ClientSecretCredentialOptions,
  host: Host,
  http: Partial<HttpOptions>,
): TokenCredential {
  const { tenantId, clientId, credential } = connection;
  switch (credential.kind) {
    case 'secret':
      return new ClientSecretCredential(tenantId, clientId, credential.secret, options);
    case 'certificate':
      return new ClientCertificateCredential(
        tenantId,
        clientId,
        { certificate: credential.pem.replace(/\r\n/g, '\n') },
        options,
      );
    case 'federated': {
      const source: FederatedTokenSource = {
        kind: 'azure-devops',
        requestUri: credential.requestUri,
        accessToken: credential.accessToken,
        serviceConnectionId: credential.serviceConnectionId,
      };
      // Azure DevOps issues its tokens for api://AzureADTokenExchange whatever is asked.
      return new ClientAssertionCredential(
        tenantId,
        clientId,
        async () => {
          const token = await fetchFederatedToken(source, FEDERATED_AUDIENCE, http);
          host.registerSecret(token);
          return token;
        },
        options,
      );
    }
  }
}

/** Registers every access token with the mask before handing it out, and turns failures into plain words. */
class MaskedCredential implements TokenCredential {
  private inner?: TokenCredential;

  constructor(
    private readonly build: () => TokenCredential,
    private readonly host: Host,
    private readonly http: DiagnosingHttpClient,
    private readonly who: string,
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.inner ??= this.build();
    this.http.takeProblem();
    let token: AccessToken | null;
    try {
      token = await this.inner.getToken(scopes, options);
    } catch (error) {
      if (error instanceof EntraSignInError) throw error;
      const network = this.http.takeProblem();
      throw new EntraSignInError(
        `Signing in to Entra ID failed for ${this.who}: ${signInReason(error)}${network ? ` (${network})` : ''}`,
        { cause: error },
      );
    }
    if (!token?.token) throw new EntraSignInError(`Signing in to Entra ID returned no access token for ${this.who}`);
    this.host.registerSecret(token.token);
    return token;
  }
}

/** The useful part of an @azure/identity / MSAL error: Entra's error code and the AADSTS sentence. */
export function signInReason(error: unknown): string {
  const e = error as { errorResponse?: { error?: string; errorDescription?: string }; message?: string };
  const text = [e?.errorResponse?.errorDescription, e?.message].filter(Boolean).join('\n');
  const aadsts = /AADSTS\d+:[^\r\n]*/
    .exec(text)?.[0]
    ?.replace(/\s+(Trace ID|Correlation ID|Timestamp):.*$/, '')
    .trim();
  const code = e?.errorResponse?.error ?? /^([a-z_]+):/.exec(e?.message ?? '')?.[1];
  if (aadsts) return code ? `${code}: ${aadsts}` : aadsts;
  const lines = (e?.message ?? String(error))
    .split(/\r?\n/)
    .filter((line) => line.trim() && !/troubleshoot|aka\.ms/i.test(line));
  return lines.slice(0, 3).join(' ').trim() || String(error);
}
