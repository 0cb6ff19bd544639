// Shared set-up of the Entra/Graph tests: a sandbox tenant with the toolkit's app, a config pointing
// at it, test certificates as PFX, and a PhaseContext with the Entra service on a fast HTTP profile
// (retry delays of a millisecond, short timeouts) so faults are tested without sleeping.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema, type Config, type ConfigInput } from '../../../src/config/schema.js';
import type { HttpOptions } from '../../../src/http/request.js';
import type { CertificateInput, PhaseContext } from '../../../src/phases/phase.js';
import { createEntraServices, type EntraServiceOptions } from '../../../src/graph/entra-service.js';
import { makeSandboxTls, type SandboxTls } from '@d365-exo-sync/sandbox/tls';
import { startEntraEmulator, type EntraEmulator, type EntraEmulatorOptions } from '@d365-exo-sync/sandbox/entra';
import { makeLeaf, makePfx, type TestCertificate } from '../../support/certs.js';
import { TestHost } from '../../support/test-host.js';

export const TENANT_ID = '11111111-2222-3333-4444-555555555555';
export const CLIENT_ID = '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a';
export const CLIENT_SECRET = 'Qx8~sandbox.Secret-value_0123456789abcd';
export const SECRET_ENV = 'CRM_SYNC_CLIENT_SECRET';
export const PFX_PASSWORD = 'pfx-Pa55word!';
export const FULL_ROLES = ['Application.ReadWrite.All', 'Organization.Read.All'];
const DAY = 86_400_000;

let sharedTls: SandboxTls | undefined;
/** One test CA and localhost certificate per test process. */
export function sandboxTls(): SandboxTls {
  sharedTls ??= makeSandboxTls();
  return sharedTls;
}

export type SandboxOptions = Partial<Omit<EntraEmulatorOptions, 'tls' | 'tenantId'>> & { roles?: string[] };

export function startSandbox(options: SandboxOptions = {}): Promise<EntraEmulator> {
  const { roles, ...rest } = options;
  return startEntraEmulator({
    tls: sandboxTls(),
    tenantId: TENANT_ID,
    clients: [{ clientId: CLIENT_ID, secret: CLIENT_SECRET, roles: roles ?? FULL_ROLES }],
    ...rest,
  });
}

/** A valid config for the sandbox tenant (client-secret sign-in), with overrides of the tenant section. */
export function sandboxConfig(
  emulator: EntraEmulator,
  tenant: Partial<ConfigInput['tenant']> = {},
  retire?: ConfigInput['retire'],
): Config {
  const input: ConfigInput = {
    deployment: {
      url: 'https://crm.contoso.com/contoso',
      organization: 'contoso',
      servers: [{ name: 'CRMAPP01', roles: ['web', 'async', 'deployment-tools'] }],
      serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
    },
    tenant: {
      id: TENANT_ID,
      rootDomain: 'contoso.com',
      auth: { method: 'client-secret', clientId: CLIENT_ID, secretEnv: SECRET_ENV },
      endpoints: { authority: emulator.authority, graph: emulator.graph },
      ...tenant,
    },
    ...(retire ? { retire } : {}),
  };
  return ConfigSchema.parse(input);
}

/** HTTP for tests: tiny backoff, short timeout; the sandbox CA trusted through the option. */
export const FAST_HTTP: Partial<HttpOptions> = { timeoutMs: 1_500, maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

export interface TestCert {
  cert: TestCertificate;
  input: CertificateInput;
}

/**
 * A leaf certificate and its PFX as the run would receive it. The certificates share one key (a key
 * takes long to make); each still has its own serial number, so its own thumbprint.
 */
export function testCertificate(
  name: string,
  options: { notBefore?: Date; notAfter?: Date; commonName?: string } = {},
): TestCert {
  const cert = makeLeaf({ keySlot: 'entra-tests', commonName: options.commonName ?? 'crm.contoso.com', ...options });
  const pfx = makePfx(cert, { password: PFX_PASSWORD, encoding: 'forge-3des' });
  return { cert, input: { pfx, password: PFX_PASSWORD, source: `test certificate ${name}` } };
}

/** Dates relative to now, for certificates of a given age. */
export const daysFromNow = (days: number) => new Date(Date.now() + days * DAY);

export interface ContextOptions {
  config?: Config;
  env?: NodeJS.ProcessEnv;
  certificate?: CertificateInput;
  inputs?: Record<string, string | undefined>;
  now?: Date;
  services?: EntraServiceOptions;
  /** Leave the Entra service out (to test the phases' error). */
  withoutEntra?: boolean;
}

export function phaseContext(emulator: EntraEmulator, host: TestHost, options: ContextOptions = {}): PhaseContext {
  const config = options.config ?? sandboxConfig(emulator);
  const env = options.env ?? { [SECRET_ENV]: CLIENT_SECRET };
  // The pipeline's OIDC variables reach the sign-in through the Host, as on the command line.
  host.pipelineEnv = env;
  const entra = createEntraServices(config, host, env, {
    ca: sandboxTls().caPem,
    http: FAST_HTTP,
    verifyDelayMs: 1,
    ...options.services,
  });
  return {
    config,
    host,
    inputs: options.inputs ?? {},
    now: options.now ?? new Date(),
    ...(options.certificate ? { certificate: options.certificate } : {}),
    services: options.withoutEntra ? {} : { entra },
  };
}

/** A temporary folder removed by the returned function. */
export function scratch(): { dir: string; file: (name: string, content: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'd365-entra-test-'));
  return {
    dir,
    file: (name, content) => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The secret forms no output may contain: the client secret, the PFX password, every token the sandbox issued. */
export function leakedSecrets(host: TestHost, emulator: EntraEmulator, extra: string[] = []): string[] {
  const text = host.allText();
  const assertions = emulator.requests.map((r) => r.form?.client_assertion).filter((t): t is string => !!t);
  const bearers = emulator.requests
    .map((r) => /^Bearer\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1])
    .filter((t): t is string => !!t);
  const secrets = [CLIENT_SECRET, PFX_PASSWORD, ...assertions, ...bearers, ...extra];
  return secrets.filter((s) => text.includes(s));
}
