// Shared by the Windows phase tests: a workspace (the example config, a PFX, a record folder, a private TMPDIR), one
// fake Windows server (a state file) per server name, and the CLI run in-process against real pwsh with the fake
// Windows cmdlets loaded through D365_EXO_SYNC_POWERSHELL_MODULES.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../../support/cli.js';
import { makeLeaf, writePfxFile, type TestCertificate } from '../../support/certs.js';
import { fakeModule, pwshUnavailable, repoRoot, type FakeServer } from '../powershell/helpers.js';
import { POWERSHELL_MODULES_ENV } from '../../../src/phases/windows/powershell-service.js';

export { suiteOptions } from '../powershell/helpers.js';

/** Long enough for the masker, distinctive enough to find anywhere it leaks. */
export const PFX_PASSWORD = 'Pfx-Secret-7Qx!renewal';
export const PASSWORD_ENV = 'D365_TEST_PFX_PASSWORD';
export const TENANT_ID = '11111111-2222-3333-4444-555555555555';
/** The organization of the fake CRM deployment (FakeWindows.psm1). */
export const ORG_ID = '7d5e2c11-8f3a-4b6e-9c0d-1a2b3c4d5e6f';
/** One PowerShell run, start-up included, is a few seconds here; a test makes several. */
export const TEST_TIMEOUT = 240_000;

export interface Workspace {
  dir: string;
  records: string;
  /** The private TMPDIR of this test process: the invoker's temp folders and pwsh's own files go here. */
  temp: string;
  config(name: string, edit?: (config: ConfigDoc) => void): string;
  pfx(name: string, leaf: TestCertificate): string;
  server(name: string): FakeWindowsServer;
  /** Every stdout and stderr text of every CLI run, for leak checks. */
  transcripts: string[];
  remove(): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConfigDoc = Record<string, any>;

export interface FakeWindowsServer {
  file: string;
  exists(): boolean;
  read(): FakeServer;
  edit(change: (state: FakeServer) => void): void;
  /** PowerShell processes that loaded the fake on this server (each records its environment once, at load). */
  processes(): number;
  calls(name: string): { name: string; args: Record<string, unknown> }[];
}

/** Fails the suite under CI=true when pwsh is missing (outside CI the suite is skipped by suiteOptions). */
export function requirePwsh(): void {
  const reason = pwshUnavailable();
  if (reason) assert.fail(`CI=true: the PowerShell suite must run. ${reason}`);
}

export function makeWorkspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'windows-phases-'));
  const temp = join(dir, 'tmp');
  const records = join(dir, 'records');
  mkdirSync(temp, { mode: 0o700 });
  mkdirSync(records);
  // os.tmpdir() follows TMPDIR: the invoker's private folders of this process land here, where the test can see them.
  process.env.TMPDIR = temp;
  const example = readFileSync(join(repoRoot, 'examples', 'contoso.yml'), 'utf8');
  const servers = new Map<string, FakeWindowsServer>();
  const transcripts: string[] = [];
  return {
    dir,
    records,
    temp,
    transcripts,
    config(name, edit) {
      const doc = parse(example) as ConfigDoc;
      doc.deployment.iis = { rebindHttps: true, siteName: 'Microsoft Dynamics CRM' };
      edit?.(doc);
      const file = join(dir, name);
      writeFileSync(file, stringify(doc));
      return file;
    },
    pfx(name, leaf) {
      return writePfxFile(dir, name, leaf, { password: PFX_PASSWORD });
    },
    server(name) {
      let server = servers.get(name);
      if (!server) {
        const file = join(dir, `fake-${name}.json`);
        const read = () => JSON.parse(readFileSync(file, 'utf8')) as FakeServer;
        server = {
          file,
          exists: () => existsSync(file),
          read,
          edit(change) {
            const state = read();
            change(state);
            writeFileSync(file, JSON.stringify(state));
          },
          processes: () => (existsSync(file) ? read().calls.filter((c) => c.name === 'process-environment').length : 0),
          calls: (call) => (existsSync(file) ? read().calls.filter((c) => c.name === call) : []),
        };
        servers.set(name, server);
      }
      return server;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A leaf certificate for crm.contoso.com; each call a new one (new serial) with the same subject. */
export function newCertificate(keySlot = 'windows-phases'): TestCertificate {
  return makeLeaf({ commonName: 'crm.contoso.com', organization: 'Contoso', keySlot });
}

export interface PhaseRun {
  code: number;
  stdout: string;
  stderr: string;
  record: RunRecordDoc;
  /** "PowerShell process <pid> started" lines: the processes this run started. */
  spawned: number;
}

export interface RunRecordDoc {
  phase: string;
  mode: string;
  status: string;
  error?: string;
  outputs: Record<string, string>;
  steps: {
    id: string;
    title: string;
    target: string;
    status?: string;
    action?: string;
    before: unknown;
    after: unknown;
    note?: string;
    error?: string;
    evidence?: unknown;
    warnings?: string[];
  }[];
}

export interface RunOptions {
  phase: 'install-certificate' | 'configure-crm' | 'configure-adfs';
  config: string;
  /** The fake Windows server the PowerShell process sees. */
  server: FakeWindowsServer;
  plan?: boolean;
  pfx?: string;
  set?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

/** d365-exo-sync run --json, in-process, as on the server; the record comes back from stdout. */
export async function runPhaseCli(ws: Workspace, options: RunOptions): Promise<PhaseRun> {
  const argv = ['run', '--config', options.config, '--phase', options.phase, '--record-dir', ws.records, '--json'];
  if (options.plan) argv.push('--plan');
  if (options.pfx) argv.push('--pfx', options.pfx, '--password-env', PASSWORD_ENV);
  for (const [name, value] of Object.entries(options.set ?? {})) argv.push('--set', `${name}=${value}`);
  const run = await runCli(argv, {
    ...process.env,
    [POWERSHELL_MODULES_ENV]: fakeModule,
    FAKE_WINDOWS_STATE_FILE: options.server.file,
    [PASSWORD_ENV]: PFX_PASSWORD,
    ...options.env,
  });
  ws.transcripts.push(run.stdout, run.stderr);
  let record: RunRecordDoc;
  try {
    record = JSON.parse(run.stdout) as RunRecordDoc;
  } catch {
    assert.fail(`no run record on stdout (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  const spawned = run.stderr.split('\n').filter((line) => /^PowerShell process \d+ started: /.test(line)).length;
  return { ...run, record, spawned };
}

export const statuses = (run: PhaseRun) =>
  Object.fromEntries(run.record.steps.map((s) => [s.id, s.status ?? s.action]));

/** Every file under dir (recursively). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Fails when the text is anywhere in the transcripts or in any file under the workspace (records, temp, fakes). */
export function assertNowhere(ws: Workspace, secret: string, what: string): void {
  for (const text of ws.transcripts) assert.ok(!text.includes(secret), `${what} in the CLI output`);
  for (const file of filesUnder(ws.dir)) {
    assert.ok(!readFileSync(file).includes(Buffer.from(secret)), `${what} in ${file}`);
  }
}

/**
 * The invoker's private folders (d365-exo-sync-ps-*) left anywhere in the private TMPDIR (they are made in the host's
 * own temp folder there): none, whatever happened.
 */
export function leftoverWorkspaces(ws: Workspace): string[] {
  return readdirSync(ws.temp, { recursive: true, encoding: 'utf8' }).filter((name) =>
    basename(name).startsWith('d365-exo-sync-ps-'),
  );
}
