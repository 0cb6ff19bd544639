// The world the reliability suite runs the toolkit against: the Entra ID + Graph emulator and the D365 Web API
// emulator in this process, the fake Windows server of the PowerShell module (its state and call log in a JSON file
// the PowerShell processes share), a config file pointing at all of them, a certificate as a PFX file and as
// base64, and the environment a pipeline would map into the step (every secret recognisable, for the leak scan).
// `snapshot()` captures everything a run could change: the Entra key list and service principal names, every D365
// table, and the fake server's state with its cmdlet call log.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { startD365Emulator, type D365Emulator, type D365EmulatorOptions } from '../../../src/sandbox/d365/index.js';
import { DYNAMICS_APP_ID, type EntraEmulator } from '../../../src/sandbox/entra/index.js';
import { POWERSHELL_MODULES_ENV } from '../../../src/phases/windows/powershell-service.js';
import { runCli, type CliRun } from '../../support/cli.js';
import { makeLeaf, makePfx, type TestCertificate } from '../../support/certs.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  sandboxTls,
  SECRET_ENV,
  startSandbox,
  TENANT_ID,
} from '../../integration/entra/sandbox.js';
import { fakeModule, repoRoot } from '../../integration/powershell/helpers.js';

/** The fake Exchange Online tenant configure-exchange runs against (loaded with the fake Windows server). */
const fakeExchangeModule = join(repoRoot, 'test', 'powershell', 'fakes', 'FakeExchangeOnline.psd1');
/** Another EWS app of the tenant: on EwsAllowedAppIDs before configure-exchange, kept after. */
export const OTHER_EWS_APP = '4a5b6c7d-1111-4222-8333-944455556666';

export { CLIENT_ID, CLIENT_SECRET, SECRET_ENV, TENANT_ID };

/** Recognisable secrets: the leak scan looks for each of them and every derived form. */
export const PFX_PASSWORD = 'Reliab1lity-Pfx-Pa55word~7f3e';
export const PFX_PASSWORD_ENV = 'RELIABILITY_PFX_PASSWORD';
export const PFX_BASE64_ENV = 'RELIABILITY_PFX_BASE64';
export const D365_USER_ENV = 'CRM_SYNC_USER';
export const D365_PASSWORD_ENV = 'CRM_SYNC_PASSWORD';
export const D365_PASSWORD = 'D365-Service-Account-Pa55word.Recognisable~91c4';
export const D365_USER = 'svc-d365-sync@contoso.com';
/** The computer the Windows phases believe they run on (the D365 server with every role). */
export const COMPUTER = 'CRMAPP01';
export const ADFS_SERVER = 'ADFS01';
const DAY = 86_400_000;

export interface WorldOptions {
  d365?: Partial<D365EmulatorOptions>;
  /** Mailboxes in D365 (default 4). */
  mailboxes?: number;
}

export interface Snapshot {
  entra: unknown;
  d365: Record<string, unknown>;
  windows: string | null;
}

export interface World {
  dir: string;
  entra: EntraEmulator;
  d365: D365Emulator;
  /** The certificate of the renewal, valid for 150 days, covering crm.contoso.com. */
  cert: TestCertificate;
  pfx: Buffer;
  pfxFile: string;
  pfxBase64: string;
  caFile: string;
  /** The fake Windows server's state file (FAKE_WINDOWS_STATE_FILE). */
  windowsState: string;
  /** The fake Exchange Online tenant's state file (FAKE_EXCHANGE_STATE_FILE). */
  exchangeState: string;
  /** The config as a plain document (mutate a copy with configDocument()). */
  configDocument(): Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Writes a config document (YAML) into the world's folder; returns its path. */
  writeConfig(name: string, document: unknown): string;
  /** The valid config of this world, written once. */
  configFile: string;
  /** What the step's environment holds: secrets, the sandbox CA, the fake Windows server. */
  env: NodeJS.ProcessEnv;
  /** Every secret of the world that must never be written (tokens included, read at call time). */
  secrets(): string[];
  snapshot(): Snapshot;
  /** The CLI in this process with the world's environment (plus `env`). */
  cli(argv: string[], env?: NodeJS.ProcessEnv): Promise<CliRun>;
  /** Forgets the fake Windows server (the next PowerShell process starts a fresh one). */
  resetWindows(): void;
  close(): Promise<void>;
}

/** The fake Windows server's state as JSON; null when no PowerShell process has run yet. */
export function readWindowsState(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

export interface FakeCall {
  name: string;
  args: Record<string, unknown>;
}

/** The fake cmdlets' call log. */
export function windowsCalls(file: string): FakeCall[] {
  const text = readWindowsState(file);
  if (!text) return [];
  const state = JSON.parse(text) as { calls?: FakeCall[] | FakeCall };
  return Array.isArray(state.calls) ? state.calls : state.calls ? [state.calls] : [];
}

/** Calls of the fake server that change something (everything but reads and the process marker). */
export function mutatingCalls(calls: FakeCall[]): FakeCall[] {
  return calls.filter(
    (call) =>
      !/^(Get-|Read-|Resolve-|ConvertTo-|process-environment$)/.test(call.name) &&
      !['Add-PSSnapin'].includes(call.name) &&
      // Reads the PFX's intermediates and adds only the missing ones: a call that added none changed nothing.
      !(call.name === 'Add-D365PfxIntermediateCertificates' && call.args.Added === 0),
  );
}

function d365Tables(emulator: D365Emulator): Record<string, unknown> {
  const tables: Record<string, unknown> = {};
  for (const [name, table] of Object.entries(emulator.state.tables))
    tables[name] = structuredClone([...table.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return tables;
}

export const renewalCertificate = (() => {
  let cached: { cert: TestCertificate; pfx: Buffer } | undefined;
  return () => {
    cached ??= (() => {
      const cert = makeLeaf({
        keySlot: 'reliability-renewal',
        commonName: 'crm.contoso.com',
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + 150 * DAY),
      });
      return { cert, pfx: makePfx(cert, { password: PFX_PASSWORD, encoding: 'forge-3des' }) };
    })();
    return cached;
  };
})();

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'd365-reliability-'));
  const tls = sandboxTls();
  const entra = await startSandbox({
    roles: ['Application.ReadWrite.All', 'Organization.Read.All', 'Exchange.ManageAsApp'],
  });
  const d365 = await startD365Emulator({
    tls,
    auth: { mode: 'bearer', users: [{ username: D365_USER, password: D365_PASSWORD }] },
    mailboxes: options.mailboxes ?? 4,
    testAndEnable: { delayMs: 0 },
    ...options.d365,
  });
  const { cert, pfx } = renewalCertificate();
  const pfxFile = join(dir, 'renewal.pfx');
  writeFileSync(pfxFile, pfx, { mode: 0o600 });
  const caFile = join(dir, 'sandbox-ca.pem');
  writeFileSync(caFile, tls.caPem);
  const windowsState = join(dir, 'fake-windows.json');
  // The tenant lets only another app use EWS: configure-exchange adds the Dynamics app id.
  const exchangeState = join(dir, 'fake-exchange.json');
  writeFileSync(
    exchangeState,
    JSON.stringify({
      organization: 'contoso.onmicrosoft.com',
      ewsEnabled: true,
      allowedAppIds: OTHER_EWS_APP,
      policy: null,
      allowList: [],
      blockList: [],
      mailboxes: [],
      calls: [],
    }),
  );

  const configDocument = () => ({
    deployment: {
      url: 'https://crm.contoso.com/contoso',
      organization: 'contoso',
      servers: [
        { name: COMPUTER, roles: ['web', 'async', 'deployment-tools'] },
        { name: 'CRMASYNC01', roles: ['async'] },
      ],
      serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
      webApi: {
        auth: 'adfs-password',
        url: d365.url,
        tokenEndpoint: d365.tokenEndpoint,
        clientId: d365.clientId,
        resource: d365.resource,
        usernameEnv: D365_USER_ENV,
        passwordEnv: D365_PASSWORD_ENV,
      },
    },
    tenant: {
      id: TENANT_ID,
      rootDomain: 'contoso.com',
      auth: { method: 'client-secret', clientId: CLIENT_ID, secretEnv: SECRET_ENV },
      endpoints: { authority: entra.authority, graph: entra.graph },
    },
    certificate: { minDaysRemaining: 14, hosts: ['crm.contoso.com'] },
    exchange: { organization: 'contoso.onmicrosoft.com' },
    adfs: { server: ADFS_SERVER, outlookApp: true },
    email: {
      profile: { name: 'Exchange Online (Hybrid)', autodiscover: true },
      mailboxes: { poll: { intervalSeconds: 1, timeoutMinutes: 1 } },
    },
  });
  const writeConfig = (name: string, document: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof document === 'string' ? document : stringify(document), { mode: 0o600 });
    return path;
  };
  const configFile = writeConfig('d365-exo-sync.yml', configDocument());
  const pfxBase64 = pfx.toString('base64');
  const env: NodeJS.ProcessEnv = {
    HOME: process.env.HOME ?? homedir(),
    [SECRET_ENV]: CLIENT_SECRET,
    [PFX_PASSWORD_ENV]: PFX_PASSWORD,
    [PFX_BASE64_ENV]: pfxBase64,
    [D365_USER_ENV]: D365_USER,
    [D365_PASSWORD_ENV]: D365_PASSWORD,
    D365_EXO_SYNC_EXTRA_CA: caFile,
    COMPUTERNAME: COMPUTER,
    [POWERSHELL_MODULES_ENV]: [fakeModule, fakeExchangeModule].join(delimiter),
    FAKE_WINDOWS_STATE_FILE: windowsState,
    FAKE_EXCHANGE_STATE_FILE: exchangeState,
    ...(process.env.NUGET_PACKAGES ? { NUGET_PACKAGES: process.env.NUGET_PACKAGES } : {}),
    ...(process.env.DOTNET_ROOT ? { DOTNET_ROOT: process.env.DOTNET_ROOT } : {}),
  };

  return {
    dir,
    entra,
    d365,
    cert,
    pfx,
    pfxFile,
    pfxBase64,
    caFile,
    windowsState,
    exchangeState,
    configDocument,
    writeConfig,
    configFile,
    env,
    secrets: () => {
      const bearers = entra.requests
        .map((r) => /^Bearer\s+(.+)$/i.exec(r.headers.authorization ?? '')?.[1])
        .filter((t): t is string => !!t);
      return [CLIENT_SECRET, PFX_PASSWORD, D365_PASSWORD, pfxBase64, ...bearers, ...d365.issuedTokens];
    },
    snapshot: () => ({
      entra: entra.state.snapshot().find((sp) => sp.appId === DYNAMICS_APP_ID),
      d365: d365Tables(d365),
      windows: readWindowsState(windowsState),
    }),
    cli: (argv, extra = {}) => runCli(argv, { ...env, ...extra }, dir),
    resetWindows: () => rmSync(windowsState, { force: true }),
    close: async () => {
      await entra.close();
      await d365.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
