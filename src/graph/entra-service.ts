// The Entra ID service the cloud phases use (register-entra, retire-previous, preflight's Entra
// checks), and the factory the CLI and the pipeline adapters call. Building it is offline: nothing
// signs in until a phase makes its first Graph call.
import type { Config } from '../config/schema.js';
import type { EntraConnection, Host } from '../hosts/host.js';
import type { HttpOptions } from '../http/request.js';
import { GraphClient, type GraphApi } from './client.js';
import { createCredential, describeAuth } from './credentials.js';
import { resolveCloudEndpoints, tenantSegment, type CloudEndpoints } from './endpoints.js';
import { loadExtraCa } from '../http/extra-ca.js';

export interface EntraServices {
  graph: GraphApi;
  endpoints: CloudEndpoints;
  /** The app (client) id the toolkit signs in as. */
  clientId: string;
  /** "client secret from CRM_SYNC_SECRET", for messages. */
  authDescription: string;
  /** Extra reads of the key credentials after a PATCH until Graph shows the change (replication lag). */
  verifyAttempts: number;
  /** Wait between those reads. */
  verifyDelayMs: number;
  sleep: (ms: number) => Promise<void>;
}

export interface EntraServiceOptions {
  /** Overrides of the HTTP behaviour (tests keep delays tiny here). */
  http?: Partial<HttpOptions>;
  /** PEM of extra CAs to trust; default: the file D365_EXO_SYNC_EXTRA_CA names. */
  ca?: string;
  verifyAttempts?: number;
  verifyDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Graph calls answer in seconds; 60 s leaves room for a slow directory without hanging a pipeline. */
export const ENTRA_HTTP_DEFAULTS: Partial<HttpOptions> = {
  timeoutMs: 60_000,
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
};

/** HTTP for signing in and for the calls after it: the defaults, then the caller's overrides, and the extra CA. */
export function entraHttp(
  env: NodeJS.ProcessEnv,
  options: { http?: Partial<HttpOptions>; ca?: string },
  base: Partial<HttpOptions> = {},
): Partial<HttpOptions> {
  const ca = options.ca ?? loadExtraCa(env);
  return { ...ENTRA_HTTP_DEFAULTS, ...base, ...options.http, ...(ca ? { ca } : {}) };
}

/**
 * Builds the Entra service from the config's tenant section and the environment. Reads the secret the
 * config names (tenant.auth.secretEnv / certificateEnv, or the pipeline's OIDC variables) and registers
 * it with the host's mask at once; a missing variable is reported on first use, not here.
 */
export function createEntraServices(
  config: Config,
  host: Host,
  env: NodeJS.ProcessEnv,
  options: EntraServiceOptions = {},
): EntraServices {
  const endpoints = resolveCloudEndpoints(config.tenant);
  // Retry-After is honoured as Graph gives it, within the phase's time budget counted from here.
  const now = options.http?.now ?? Date.now;
  const http = entraHttp(env, options, { deadline: now() + config.tenant.graphTimeBudgetMinutes * 60_000 });
  const credential = createCredential({ config, endpoints, host, env, http });
  // A pipeline service connection (Azure DevOps) replaces tenant.auth: name its app in messages and records.
  let connection: EntraConnection | undefined;
  try {
    connection = host.entraConnection?.();
  } catch {
    // The credential reports it on first use, before anything changes.
  }
  return {
    graph: new GraphClient({ graphUrl: endpoints.graph, credential, host, http }),
    endpoints,
    clientId: connection?.clientId ?? config.tenant.auth.clientId,
    authDescription: connection
      ? connection.description
      : `${describeAuth(config.tenant.auth)}, tenant ${tenantSegment(config.tenant)}`,
    verifyAttempts: options.verifyAttempts ?? 4,
    verifyDelayMs: options.verifyDelayMs ?? 3_000,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
}
