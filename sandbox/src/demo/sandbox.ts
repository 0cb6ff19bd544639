// The world the demo rehearses in, all on loopback and all made at start: a throwaway CA; the certificate in
// production now (registered on the Dynamics CRM service principal by an earlier renewal, ending in 12 days) and
// the two renewal certificates; the Entra ID + Graph emulator and the D365 Web API emulator (HTTPS with the CA's
// certificate, trusted through the `ca` options: verification is never switched off); the emulated Windows servers
// (the PowerShell module under pwsh with the fake Windows cmdlets of sandbox/powershell, one state file per
// server); the Exchange Online tenant (the fake ExchangeOnlineManagement cmdlets of the same folder, one state file)
// which lets only another app use EWS, so D365 is blocked until configure-exchange adds its app id; and the config
// file pointing at all of it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { randomBytes } from 'node:crypto';
import {
  loadConfigFile,
  configHash,
  toolkitDisplayName,
  type Config,
  type ConfigInput,
  type SERVER_ROLES,
} from '../../../src/index.js';
import { makeDemoCa, type DemoCa, type DemoCertificate } from '../demo-certificates.js';
import { startEntraEmulator, DYNAMICS_APP_ID, type EntraEmulator } from '../entra/index.js';
import { startD365Emulator, type D365Emulator } from '../d365/index.js';
import { findDemoPowerShell, type DemoPowerShell } from './powershell.js';

export const DEMO_TENANT_ID = '11111111-2222-3333-4444-555555555555';
export const DEMO_CLIENT_ID = '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a';
/** The environment variable the demo config names for the client secret (set only in the demo's own env). */
export const DEMO_SECRET_ENV = 'D365_EXO_SYNC_DEMO_CLIENT_SECRET';
export const DEMO_HOST = 'crm.contoso.com';
/** The mailbox Exchange Online refuses EWS for until the Dynamics app is in EwsAllowedAppIDs (configure-exchange). */
export const EWS_BLOCKED_MAILBOX = 'user0007@contoso.com';
/** The tenant's initial domain (exchange.organization of the demo config). */
export const DEMO_EXCHANGE_ORGANIZATION = 'contoso.onmicrosoft.com';
/** Another app of the tenant that already uses EWS: it must stay on EwsAllowedAppIDs. */
export const DEMO_OTHER_EWS_APP = '4a5b6c7d-1111-4222-8333-944455556666';

const DAY = 86_400_000;

/** The emulated D365 servers (deployment.servers of the demo config). */
const D365_SERVERS = [
  {
    name: 'CRMAPP01',
    roles: ['web', 'async', 'deployment-tools'],
    description: 'D365 web, async and Deployment Tools',
  },
  { name: 'CRMASYNC01', roles: ['async'], description: 'D365 async' },
] as const satisfies ReadonlyArray<{
  name: string;
  roles: readonly (typeof SERVER_ROLES)[number][];
  description: string;
}>;
const ADFS_SERVER = 'ADFS01';

export interface DemoServer {
  name: string;
  roles: string[];
  /** What the server is, in words. */
  description: string;
  /** The fake Windows server's state (FAKE_WINDOWS_STATE_FILE of its PowerShell processes). */
  stateFile: string;
}

export interface DemoCertificates {
  /** In production before the demo: on the service principal, ending in 12 days. */
  previous: DemoCertificate;
  first: DemoCertificate;
  second: DemoCertificate;
}

export interface DemoSandbox {
  ca: DemoCa;
  entra: EntraEmulator;
  d365: D365Emulator;
  config: Config;
  configFile: string;
  configHash: string;
  /** The environment the services read (the demo's client secret variable added to the caller's). */
  env: NodeJS.ProcessEnv;
  clientSecret: string;
  certificates: DemoCertificates;
  servers: DemoServer[];
  /** The fake Exchange Online tenant's state (FAKE_EXCHANGE_STATE_FILE of configure-exchange's PowerShell). */
  exchangeStateFile: string;
  powershell: DemoPowerShell;
  mailboxCount: number;
  close(): Promise<void>;
}

export interface SandboxOptions {
  /** Where the config and the fake servers' state go (the demo's records folder). */
  dir: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  mailboxes: number;
  /** Registers a secret with the demo's mask the moment it exists. */
  registerSecret(value: string | Buffer): void;
}

function demoConfig(entra: EntraEmulator, d365: D365Emulator): ConfigInput {
  return {
    deployment: {
      url: `https://${DEMO_HOST}/contoso`,
      organization: 'contoso',
      // toolsPath: the default; the fake Windows server finds its fake CertificateReconfiguration.ps1 there.
      servers: D365_SERVERS.map(({ name, roles }) => ({ name, roles: [...roles] })),
      serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
      // The emulator's loopback URL; the runner's Windows identity is played by the emulator's Negotiate stand-in.
      webApi: { auth: 'windows', url: d365.url },
    },
    tenant: {
      id: DEMO_TENANT_ID,
      rootDomain: 'contoso.com',
      auth: { method: 'client-secret', clientId: DEMO_CLIENT_ID, secretEnv: DEMO_SECRET_ENV },
      endpoints: { authority: entra.authority, graph: entra.graph },
    },
    certificate: { minDaysRemaining: 14, hosts: [DEMO_HOST] },
    exchange: { organization: DEMO_EXCHANGE_ORGANIZATION },
    adfs: { server: ADFS_SERVER, outlookApp: true },
    email: {
      profile: { name: 'Exchange Online (Hybrid)', autodiscover: true },
      mailboxes: {
        select: 'all-active-users',
        // Short waits: the emulator's Test & Enable finishes in a fraction of a second.
        poll: { intervalSeconds: 1, timeoutMinutes: 2 },
      },
    },
  };
}

export async function startDemoSandbox(options: SandboxOptions): Promise<DemoSandbox> {
  const now = Date.now();
  const ca = await makeDemoCa();
  const [tls, previous, first, second] = await Promise.all([
    ca.issueTls(),
    ca.issueCertificate({
      commonName: DEMO_HOST,
      notBefore: new Date(now - 188 * DAY),
      notAfter: new Date(now + 12 * DAY),
    }),
    ca.issueCertificate({
      commonName: DEMO_HOST,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 200 * DAY),
    }),
    ca.issueCertificate({
      commonName: DEMO_HOST,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 200 * DAY),
    }),
  ]);
  for (const cert of [previous, first, second]) {
    options.registerSecret(cert.password);
    options.registerSecret(cert.pfx);
  }
  const clientSecret = randomBytes(30).toString('base64url');
  options.registerSecret(clientSecret);

  const entra = await startEntraEmulator({
    tls,
    tenantId: DEMO_TENANT_ID,
    clients: [
      {
        clientId: DEMO_CLIENT_ID,
        displayName: 'd365-exo-sync pipeline',
        secret: clientSecret,
        roles: ['Application.ReadWrite.All', 'Organization.Read.All', 'Exchange.ManageAsApp'],
      },
    ],
    servicePrincipals: [
      {
        appId: DYNAMICS_APP_ID,
        // An earlier renewal by this toolkit left the certificate in production now.
        keyCredentials: [
          {
            certificate: previous.certPem,
            displayName: toolkitDisplayName(previous.thumbprint, previous.notBefore),
          },
        ],
      },
    ],
  });
  let d365: D365Emulator | undefined;
  try {
    d365 = await startD365Emulator({
      tls,
      mailboxes: options.mailboxes,
      latencyMs: 1,
      testAndEnable: { delayMs: 300, failures: { [EWS_BLOCKED_MAILBOX]: 'ews-blocked' } },
    });
    const d365Emulator = d365;
    // The stand-in for the runner's Windows identity is a credential like any other: masked.
    options.registerSecret(d365Emulator.negotiateToken);

    const sandboxDir = join(options.dir, 'sandbox');
    mkdirSync(sandboxDir, { recursive: true });
    const powershell = findDemoPowerShell(options.env, options.cwd);
    // Each emulated server has its own fake Windows state, kept with the records.
    const servers: DemoServer[] = [
      ...D365_SERVERS.map((server) => ({ ...server, roles: [...server.roles] })),
      { name: ADFS_SERVER, roles: ['adfs'], description: 'AD FS' },
    ].map((server) => ({ ...server, stateFile: join(sandboxDir, `${server.name}.fake-windows.json`) }));

    const exchangeStateFile = join(sandboxDir, 'exchange-online.fake-exchange.json');
    writeFileSync(exchangeStateFile, JSON.stringify(demoExchangeTenant(), null, 2), { mode: 0o600 });

    const configFile = join(sandboxDir, 'd365-exo-sync.demo.yml');
    const header =
      '# The config the demo ran with: the loopback emulators of Entra ID, Graph and the D365 Web API.\n' +
      `# The client secret is in the environment variable ${DEMO_SECRET_ENV} of the demo process only.\n`;
    writeFileSync(configFile, header + stringify(demoConfig(entra, d365Emulator)), { mode: 0o600 });
    const loaded = loadConfigFile(configFile);
    if (!loaded.config) {
      throw new Error(
        `the demo's own config is not valid: ${loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      );
    }
    return {
      ca,
      entra,
      d365: d365Emulator,
      config: loaded.config,
      configFile,
      configHash: configHash(loaded.text),
      env: { ...withoutSandboxOverrides(options.env), [DEMO_SECRET_ENV]: clientSecret },
      clientSecret,
      certificates: { previous, first, second },
      servers,
      exchangeStateFile,
      powershell,
      mailboxCount: options.mailboxes,
      async close() {
        await Promise.all([entra.close(), d365Emulator.close()]);
      },
    };
  } catch (error) {
    await Promise.all([entra.close(), d365?.close()]);
    throw error;
  }
}

/**
 * The caller's environment without the variables that would point the services elsewhere: the demo trusts its own
 * CA through the services' options and loads its fake Windows modules itself.
 */
function withoutSandboxOverrides(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = { ...env };
  for (const name of ['D365_EXO_SYNC_EXTRA_CA', 'FAKE_WINDOWS_STATE_FILE', 'FAKE_EXCHANGE_STATE_FILE'])
    delete copy[name];
  return copy;
}

/**
 * Gives the fake CRM deployment of a server the organization id of the D365 emulator, so every phase reads the same
 * organization (the fake starts with its own). Done once the fake has written its state (after the server's first
 * PowerShell run); false when there is no state yet or no such organization.
 */
export function alignFakeCrmOrganization(server: DemoServer, uniqueName: string, organizationId: string): boolean {
  if (!existsSync(server.stateFile)) return false;
  const state = JSON.parse(readFileSync(server.stateFile, 'utf8')) as {
    crm?: { organizations?: Array<{ id: string; uniqueName: string }> };
  };
  const organization = state.crm?.organizations?.find((o) => o.uniqueName.toLowerCase() === uniqueName.toLowerCase());
  if (!organization) return false;
  if (organization.id !== organizationId) {
    organization.id = organizationId;
    writeFileSync(server.stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  return true;
}

/** The fake Exchange Online tenant's state (the shape of sandbox/powershell/FakeExchangeOnline.psm1). */
export interface FakeExchangeTenant {
  organization: string;
  ewsEnabled: boolean | null;
  allowedAppIds: string | null;
  policy: string | null;
  allowList: string[];
  blockList: string[];
  mailboxes: Array<{ primary: string; proxies: string[]; ewsEnabled: boolean | null }>;
  calls: Array<{ name: string; args: Record<string, unknown> }>;
}

/**
 * The tenant at the start: EWS switched on with an app-id list that holds only another app, so Exchange Online
 * refuses EWS for D365 (every D365 mailbox, shown with the one the emulator fails: EWS_BLOCKED_MAILBOX).
 */
function demoExchangeTenant(): FakeExchangeTenant {
  return {
    organization: DEMO_EXCHANGE_ORGANIZATION,
    ewsEnabled: true,
    allowedAppIds: DEMO_OTHER_EWS_APP,
    policy: null,
    allowList: [],
    blockList: [],
    mailboxes: [{ primary: EWS_BLOCKED_MAILBOX, proxies: [`SMTP:${EWS_BLOCKED_MAILBOX}`], ewsEnabled: true }],
    calls: [],
  };
}

/** The app ids the fake tenant's EwsAllowedAppIDs lists now (read from its state file, not through the toolkit). */
export function exchangeAllowedAppIds(stateFile: string): string[] {
  if (!existsSync(stateFile)) return [];
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as Partial<FakeExchangeTenant>;
  return (state.allowedAppIds ?? '')
    .split(',')
    .map((id) => id.trim().toLowerCase())
    .filter(Boolean);
}
