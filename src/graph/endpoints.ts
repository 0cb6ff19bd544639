// The Microsoft cloud endpoints the cloud phases talk to, from tenant.cloud with tenant.endpoints as
// overrides (sovereign clouds, the sandbox). configure-crm takes the S2S metadata URL from here too,
// so one setting moves every endpoint together.
import type { Config } from '../config/schema.js';

export type CloudName = Config['tenant']['cloud'];

export interface CloudEndpoints {
  cloud: CloudName;
  /** Entra authority host, without tenant and without trailing slash: https://login.microsoftonline.com */
  authorityHost: string;
  /** Microsoft Graph root, without version and without trailing slash: https://graph.microsoft.com */
  graph: string;
  /** The S2SDefaultAuthorizationServerMetadataUrl configure-crm sets. */
  s2sMetadataUrl: string;
  /**
   * True when the authority host is one MSAL knows (it then needs no instance discovery); false for an
   * overridden host such as the sandbox, for which instance discovery is switched off (MSAL would ask
   * login.microsoftonline.com about a host it cannot know).
   */
  knownAuthority: boolean;
}

/** Defaults per cloud (microsoft-facts §1.6: GCC High uses login.microsoftonline.us for the S2S metadata). */
export const CLOUD_DEFAULTS: Record<CloudName, Omit<CloudEndpoints, 'cloud' | 'knownAuthority'>> = {
  public: {
    authorityHost: 'https://login.microsoftonline.com',
    graph: 'https://graph.microsoft.com',
    s2sMetadataUrl: 'https://accounts.accesscontrol.windows.net/metadata/json/1',
  },
  usgov: {
    authorityHost: 'https://login.microsoftonline.us',
    graph: 'https://graph.microsoft.us',
    s2sMetadataUrl: 'https://login.microsoftonline.us/metadata/json/1',
  },
};

const KNOWN_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.microsoft.com',
  'login.windows.net',
]);

const trimSlash = (url: string) => url.replace(/\/+$/, '');

export function resolveCloudEndpoints(tenant: Pick<Config['tenant'], 'cloud' | 'endpoints'>): CloudEndpoints {
  const defaults = CLOUD_DEFAULTS[tenant.cloud];
  const authorityHost = trimSlash(tenant.endpoints?.authority ?? defaults.authorityHost);
  return {
    cloud: tenant.cloud,
    authorityHost,
    graph: trimSlash(tenant.endpoints?.graph ?? defaults.graph),
    s2sMetadataUrl: tenant.endpoints?.s2sMetadataUrl ?? defaults.s2sMetadataUrl,
    knownAuthority: KNOWN_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname.toLowerCase()),
  };
}

/** The S2SDefaultAuthorizationServerMetadataUrl for this config (for configure-crm and verify). */
export function resolveS2sMetadataUrl(config: Pick<Config, 'tenant'>): string {
  return resolveCloudEndpoints(config.tenant).s2sMetadataUrl;
}

/** The tenant segment used for sign-in: the id when configured, else the domain. */
export function tenantSegment(tenant: Pick<Config['tenant'], 'id' | 'domain'>): string {
  const segment = tenant.id ?? tenant.domain;
  if (!segment) throw new Error('tenant.id or tenant.domain is required to sign in to Entra ID');
  return segment;
}
