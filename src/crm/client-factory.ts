// Builds the D365 Web API client a run uses, from the config: the organization URL, the API version,
// the batch size and the transport (`windows` through PowerShell, `adfs-password` over HTTPS). Nothing
// is sent and no secret is read until the first request, so building the services never fails a run
// that does not talk to D365.
import type { Config } from '../config/schema.js';
import type { Host } from '../hosts/host.js';
import { loadExtraCa } from '../http/extra-ca.js';
import { AdfsPasswordAuth } from './adfs-auth.js';
import { WebApiClient } from './client.js';
import { HttpsTransport, type AuthProvider } from './https-transport.js';
import {
  defaultSleep,
  type RetryPolicy,
  type SendOptions,
  type Transport,
  type WebApiRequest,
  type WebApiResponse,
} from './transport.js';
import { WindowsTransport, type PowerShellWebApiInvoker } from './windows-transport.js';

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date(), sleep: defaultSleep };

export interface CrmServices {
  client: WebApiClient;
  /** Time for polling (tests pass a clock whose sleep only moves time on). */
  clock: Clock;
}

export interface CreateCrmServicesOptions {
  /** PEM of an extra trusted CA (the sandbox's test CA); default: the file D365_EXO_SYNC_EXTRA_CA names. */
  ca?: string;
  /** The PowerShell runner for auth: windows (src/powershell, phase "webapi"). */
  powershell?: PowerShellWebApiInvoker;
  /** Replaces the transport entirely (tests and the sandbox: HTTPS with a Windows-auth stand-in). */
  transport?: Transport;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
}

type WebApiConfig = Config['deployment']['webApi'];

/** The organization URL the runner uses: deployment.webApi.url, else deployment.url. */
export function organizationUrl(config: Config): string {
  return config.deployment.webApi.url ?? config.deployment.url;
}

/** An AuthProvider that reads the AD FS credentials from the environment on first use. */
class DeferredAdfsAuth implements AuthProvider {
  readonly kind = 'adfs-password';
  private inner?: AdfsPasswordAuth;

  constructor(
    private readonly webApi: Extract<WebApiConfig, { auth: 'adfs-password' }>,
    private readonly host: Host,
    private readonly env: Record<string, string | undefined>,
    private readonly ca: string | undefined,
    private readonly retry: Partial<RetryPolicy> | undefined,
  ) {}

  private build(): AdfsPasswordAuth {
    if (this.inner) return this.inner;
    const username = this.env[this.webApi.usernameEnv];
    const password = this.env[this.webApi.passwordEnv];
    // Mask whatever is there before complaining about what is not.
    if (password) this.host.registerSecret(password);
    if (username) this.host.registerSecret(username);
    const missing = [
      !username && `deployment.webApi.usernameEnv names ${this.webApi.usernameEnv}`,
      !password && `deployment.webApi.passwordEnv names ${this.webApi.passwordEnv}`,
    ].filter(Boolean);
    if (missing.length) {
      throw new Error(
        `${missing.join(' and ')}, but ${missing.length > 1 ? 'those environment variables are' : 'that environment variable is'} empty: map the pipeline secret of the D365 service account to it`,
      );
    }
    this.inner = new AdfsPasswordAuth({
      tokenEndpoint: this.webApi.tokenEndpoint,
      clientId: this.webApi.clientId,
      resource: this.webApi.resource,
      username: username!,
      password: password!,
      ...(this.webApi.scope ? { scope: this.webApi.scope } : {}),
      timeoutMs: this.webApi.timeoutSeconds * 1000,
      ca: this.ca,
      registerSecret: (value) => this.host.registerSecret(value),
      retry: this.retry,
    });
    return this.inner;
  }

  authorization(): Promise<string> {
    return this.build().authorization();
  }

  invalidate(): boolean {
    return this.inner?.invalidate() ?? false;
  }
}

/** Stands in for the windows transport when no PowerShell runner was handed over. */
class MissingPowerShellTransport implements Transport {
  readonly kind = 'windows';
  readonly sent = 0;
  async send(_requests: WebApiRequest[], _options: SendOptions): Promise<WebApiResponse[]> {
    throw new Error(
      'deployment.webApi.auth is windows: the Web API is called through Windows PowerShell (Invoke-RestMethod -UseDefaultCredentials) with the runner’s own identity, and no PowerShell runner is available here. Run on a domain-joined Windows runner, or use auth: adfs-password',
    );
  }
}

/**
 * The D365 services of a run. `env` is where the AD FS user name and password are read from (the
 * variables deployment.webApi.usernameEnv/passwordEnv name, on the first request) and where
 * D365_EXO_SYNC_EXTRA_CA may name a PEM file of an extra trusted CA (the sandbox's).
 */
export function createCrmServices(
  config: Config,
  host: Host,
  env: Record<string, string | undefined>,
  options: CreateCrmServicesOptions = {},
): CrmServices {
  const webApi = config.deployment.webApi;
  const { apiVersion, pageSize } = webApi;
  const clock = options.clock ?? systemClock;
  const ca = options.ca ?? loadExtraCa(env);
  const retry: Partial<RetryPolicy> = {
    sleep: clock.sleep,
    onRetry: (info) =>
      host.log.info(`D365 Web API: ${info.reason}; trying again in ${Math.round(info.delayMs / 100) / 10} s`),
    ...options.retry,
  };
  let transport: Transport;
  if (options.transport) transport = options.transport;
  else if (webApi.auth === 'adfs-password') {
    transport = new HttpsTransport({
      auth: new DeferredAdfsAuth(webApi, host, env, ca, retry),
      timeoutMs: webApi.timeoutSeconds * 1000,
      ca,
      retry,
    });
  } else if (options.powershell) {
    transport = new WindowsTransport(options.powershell, { timeoutMs: webApi.timeoutSeconds * 1000, retry });
  } else transport = new MissingPowerShellTransport();

  const client = new WebApiClient({
    url: organizationUrl(config),
    apiVersion,
    transport,
    batchSize: webApi.batchSize,
    concurrency: webApi.concurrency,
    pageSize,
    log: host.log,
    sleep: clock.sleep,
  });
  return { client, clock };
}
