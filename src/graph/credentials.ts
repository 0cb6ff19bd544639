// Signing in to Entra ID with @azure/identity: workload identity federation (a token file, or the pipeline's OIDC
// token, which the Host finds: GitHub Actions, an Azure DevOps service connection), client certificate or client
// secret.
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
import type { EntraConnection, FederatedTokenSource, Host } from '../hosts/host.js';
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

/** Where a federated token comes from: a file (any host), or the pipeline the Host runs in. */
export type FederatedTokenOrigin =
  { kind: 'token-file'; envName: string; path: string } | { kind: 'pipeline'; source: FederatedTokenSource };

/**
 * Finds the federated token: tenant.auth.tokenFileEnv when configured, else AZURE_FEDERATED_TOKEN_FILE, else the
 * pipeline's OIDC token as the Host finds it (GitHub Actions, an Azure DevOps service connection).
 */
export function findFederatedTokenSource(
  tokenFileEnv: string | undefined,
  env: NodeJS.ProcessEnv,
  pipelineSource: () => FederatedTokenSource | undefined,
): FederatedTokenOrigin {
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
  let source: FederatedTokenSource | undefined;
  try {
    source = pipelineSource();
  } catch (error) {
    throw new EntraSignInError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (source) return { kind: 'pipeline', source };
  throw new EntraSignInError(
    'tenant.auth.method is workload-identity but no federated token is available: in GitHub Actions give the job `permissions: id-token: write`; ' +
      'in Azure DevOps give the task input azureSubscription (an Azure Resource Manager service connection); ' +
      'elsewhere set AZURE_FEDERATED_TOKEN_FILE (or the variable tenant.auth.tokenFileEnv names) to a file holding the token',
  );
}

/** Fetches one federated token (a JWT) from where it comes from; the caller registers it as a secret. */
export async function fetchFederatedToken(
  origin: FederatedTokenOrigin,
  audience: string,
  http: Partial<HttpOptions>,
): Promise<string> {
  if (origin.kind === 'token-file') {
    let text: string;
    try {
      text = await readFile(origin.path, 'utf8');
    } catch (error) {
      throw new EntraSignInError(
        `${origin.envName} names ${origin.path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
        { cause: error },
      );
    }
    const token = text.trim();
    if (!token) throw new EntraSignInError(`the federated token file ${origin.path} (${origin.envName}) is empty`);
    return token;
  }
  const res = await sendWithRetry(origin.source.request(audience), http);
  try {
    return origin.source.read(res.status, res.body);
  } catch (error) {
    throw new EntraSignInError(error instanceof Error ? error.message : String(error), { cause: error });
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
  const askedConnection = askHostNow(() => host.entraConnection?.());
  if (askedConnection.failed) {
    build = () => {
      const problem = askedConnection.problem;
      throw new EntraSignInError(problem instanceof Error ? problem.message : String(problem), { cause: problem });
    };
    return new MaskedCredential(build, host, httpClient, 'the service connection');
  }
  const connection = askedConnection.value;
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
      const secret = maskedEnvSecret(
        env,
        host,
        'secretEnv',
        auth.secretEnv,
        `the client secret of app ${auth.clientId}`,
      );
      build = () => new ClientSecretCredential(tenant, auth.clientId, secret(), options);
      break;
    }
    case 'client-certificate': {
      const certificate = maskedEnvSecret(
        env,
        host,
        'certificateEnv',
        auth.certificateEnv,
        `the PEM certificate and private key of app ${auth.clientId}`,
      );
      build = () => {
        const pem = certificate();
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
      // Found now, so the host registers its request tokens with the mask before anything runs; a problem is
      // reported on first use, and only when no token file comes first.
      const pipeline = askHostNow(() => host.federatedTokenSource?.());
      build = () => {
        const origin = findFederatedTokenSource(auth.tokenFileEnv, env, () => {
          if (pipeline.failed) throw pipeline.problem;
          return pipeline.value;
        });
        return federatedCredential(tenant, auth.clientId, origin, federatedAudience(auth), options, host, http);
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
 * The secret in the environment variable tenant.auth.<key> names: registered with the mask now, and a missing one
 * reported on first use (so building services stays offline).
 */
function maskedEnvSecret(
  env: NodeJS.ProcessEnv,
  host: Host,
  key: 'secretEnv' | 'certificateEnv',
  envName: string,
  what: string,
): () => string {
  const value = env[envName];
  if (value) host.registerSecret(value);
  return () => {
    if (!value)
      throw new EntraSignInError(`tenant.auth.${key} names ${envName}, which is not set or empty: put ${what} in it`);
    return value;
  };
}

/**
 * Asks the Host now, while the services are built, so that it registers what it finds with the mask before any
 * request; a problem it raises is kept and reported on first use, so building services stays offline.
 */
function askHostNow<T>(ask: () => T): { failed: false; value: T } | { failed: true; problem: unknown } {
  try {
    return { failed: false, value: ask() };
  } catch (problem) {
    return { failed: true, problem };
  }
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
    case 'federated':
      // Azure DevOps issues its tokens for api://AzureADTokenExchange whatever is asked.
      return federatedCredential(
        tenantId,
        clientId,
        { kind: 'pipeline', source: credential.source },
        FEDERATED_AUDIENCE,
        options,
        host,
        http,
      );
  }
}

/** Signs in with a federated token as the client assertion, each token masked as soon as it is fetched. */
function federatedCredential(
  tenantId: string,
  clientId: string,
  origin: FederatedTokenOrigin,
  audience: string,
  options: ClientSecretCredentialOptions,
  host: Host,
  http: Partial<HttpOptions>,
): TokenCredential {
  return new ClientAssertionCredential(
    tenantId,
    clientId,
    async () => {
      const token = await fetchFederatedToken(origin, audience, http);
      host.registerSecret(token);
      return token;
    },
    options,
  );
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
