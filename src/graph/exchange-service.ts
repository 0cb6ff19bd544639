// The Exchange Online service configure-exchange (and preflight's and verify's Exchange reads) use: an app-only
// access token for Exchange Online from the same Entra app and credential as the Graph phases (client secret,
// client certificate or workload identity), and what Connect-ExchangeOnline needs besides (the organization, the
// environment name). Building it is offline: nothing signs in until a phase asks for the token. The token is
// registered with the host's mask as it is issued and goes to PowerShell only through the child's environment.
import type { TokenCredential } from '@azure/identity';
import { ONMICROSOFT_PATTERN, type Config } from '../config/schema.js';
import type { Host } from '../hosts/host.js';
import type { HttpOptions } from '../http/request.js';
import { createCredential, describeAuth } from './credentials.js';
import { resolveCloudEndpoints, type CloudName } from './endpoints.js';
import { entraHttp } from './entra-service.js';

/**
 * The Exchange Online resource per cloud ("App-only authentication for unattended scripts in Exchange Online
 * PowerShell": the app needs the Exchange.ManageAsApp permission of Office 365 Exchange Online), and the
 * Connect-ExchangeOnline -ExchangeEnvironmentName for it (Connect-ExchangeOnline help: none for Microsoft 365,
 * O365USGovGCCHigh for GCC High).
 */
export const EXCHANGE_CLOUDS: Record<CloudName, { resource: string; environmentName?: string }> = {
  public: { resource: 'https://outlook.office365.com' },
  usgov: { resource: 'https://outlook.office365.us', environmentName: 'O365USGovGCCHigh' },
};

/** The Office 365 Exchange Online application permission app-only sign-in needs. */
export const EXCHANGE_PERMISSION = 'Exchange.ManageAsApp';

export interface ExchangeServices {
  /** The tenant's .onmicrosoft.com domain, when the config names it (exchange.organization or tenant.domain). */
  organization?: string;
  /** Connect-ExchangeOnline -ExchangeEnvironmentName, when the cloud needs one. */
  environmentName?: string;
  /** The resource the token is for (https://outlook.office365.com). */
  resource: string;
  /** "workload identity federation, app <id>", for messages. */
  authDescription: string;
  /** An app-only access token for Exchange Online (already registered with the host's mask). */
  accessToken(): Promise<string>;
}

export interface ExchangeServiceOptions {
  http?: Partial<HttpOptions>;
  ca?: string;
  /** A credential to use instead of the one the config describes (tests). */
  credential?: TokenCredential;
}

/** exchange.organization, else tenant.domain when it is the .onmicrosoft.com domain. */
export function exchangeOrganization(config: Pick<Config, 'exchange' | 'tenant'>): string | undefined {
  if (config.exchange.organization) return config.exchange.organization.toLowerCase();
  const domain = config.tenant.domain;
  return domain && ONMICROSOFT_PATTERN.test(domain) ? domain.toLowerCase() : undefined;
}

export function createExchangeServices(
  config: Config,
  host: Host,
  env: NodeJS.ProcessEnv,
  options: ExchangeServiceOptions = {},
): ExchangeServices {
  const endpoints = resolveCloudEndpoints(config.tenant);
  const cloud = EXCHANGE_CLOUDS[config.tenant.cloud];
  let credential = options.credential;
  const organization = exchangeOrganization(config);
  return {
    ...(organization ? { organization } : {}),
    ...(cloud.environmentName ? { environmentName: cloud.environmentName } : {}),
    resource: cloud.resource,
    authDescription: `${describeAuth(config.tenant.auth)}, app ${config.tenant.auth.clientId}`,
    async accessToken() {
      if (!credential) {
        credential = createCredential({ config, endpoints, host, env, http: entraHttp(env, options) });
      }
      const token = await credential.getToken(`${cloud.resource}/.default`);
      if (!token?.token) throw new Error(`signing in for Exchange Online returned no access token (${cloud.resource})`);
      host.registerSecret(token.token);
      return token.token;
    },
  };
}
