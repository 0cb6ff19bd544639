// d365-exo-sync demo — the whole renewal, twice, against the sandbox on this machine. The rehearsal (the emulators,
// the fake Windows servers and the demo itself) is the private workspace package sandbox/ of the repository, which
// this command loads when it runs: the product bundle holds none of it. The sandbox is TypeScript, loaded through
// tsx (a development dependency); both come with a clone after `npm ci`, neither with an installed package.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIo } from '../../hosts/cli-host.js';
import { EXIT, parseCommandArgs, tableWidth, UsageError, WIDE_OPTION } from '../usage.js';

/** The sandbox package (sandbox/package.json), linked into node_modules by npm's workspaces. */
export const SANDBOX_PACKAGE = '@d365-exo-sync/sandbox';

/** What the demo command asks of the rehearsal: the sandbox package's `runRehearsal` implements it. */
export interface RehearsalOptions {
  /** Folder for the records (created; must be empty). Default: a new folder in the OS temp folder. */
  recordsDir?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Mailboxes in the D365 emulator (default 40). */
  mailboxes?: number;
  /** Prints the text report as the rehearsal goes (not given with --json). */
  print?: (text: string) => void;
  /** How wide the printed lines may be. */
  width?: number;
  /** Every log line of every job (masked), as it happens (--verbose). */
  log?: (line: string) => void;
}

/** The rehearsal's report: printed as JSON with --json; ok decides the exit code. */
export interface RehearsalReport {
  ok: boolean;
}

export type RunRehearsal = (options: RehearsalOptions) => Promise<RehearsalReport>;

/** How to get the demo where it is missing (an installed package carries neither the sandbox nor tsx). */
export const SANDBOX_MISSING =
  'the demo runs from a clone of the repository: its sandbox (the emulators and the fake Windows servers) is ' +
  'not part of the installed package. Clone the repository, then run "npm ci" and "npm start" in it';

/** Node could not find the package itself (not a module the package imports, which is a real error). */
function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && !!message?.includes(`'${name}`);
}

type SandboxModule = { runRehearsal?: RunRehearsal };

function rehearsalOf(sandbox: SandboxModule): RunRehearsal | { missing: string } {
  if (typeof sandbox.runRehearsal === 'function') return sandbox.runRehearsal;
  return { missing: `${SANDBOX_PACKAGE} has no runRehearsal: the sandbox and the toolkit are from different versions` };
}

/** The sandbox's runRehearsal, or why it cannot be loaded here. */
async function loadRehearsal(): Promise<RunRehearsal | { missing: string }> {
  // Where TypeScript already loads (node --import tsx: the tests), as it is; so the sandbox shares this process's
  // modules instead of loading a second copy.
  try {
    return rehearsalOf((await import(SANDBOX_PACKAGE)) as SandboxModule);
  } catch (error) {
    if (isNotFound(error, SANDBOX_PACKAGE))
      return { missing: `${SANDBOX_MISSING} (${SANDBOX_PACKAGE} is not installed here)` };
    // Otherwise Node could not load TypeScript: tsx does.
  }
  let tsImport: (specifier: string, parent: string) => Promise<SandboxModule>;
  try {
    ({ tsImport } = await import('tsx/esm/api'));
  } catch (error) {
    if (!isNotFound(error, 'tsx')) throw error;
    return { missing: `${SANDBOX_MISSING} (tsx, which loads the sandbox's TypeScript, is not installed here)` };
  }
  return rehearsalOf(await tsImport(SANDBOX_PACKAGE, import.meta.url));
}

export const DEMO_HELP = `Usage: d365-exo-sync demo [--records DIR] [--mailboxes N] [--json] [--verbose] [--wide]

Rehearses the whole renewal on this machine, with nothing to set up: a throwaway CA and certificates,
the Entra ID + Graph and D365 Web API emulators on loopback (HTTPS, trusted through that CA), and the
PowerShell module under pwsh with the sandbox's fake Windows cmdlets for two D365 servers and AD FS.
Then, in the zero-downtime order: preflight, register-entra, install-certificate (CRMAPP01, CRMASYNC01),
configure-crm, configure-adfs, configure-mailboxes, verify, retire-previous; every job again (nothing
may change); and a second renewal with a new certificate (old and new key valid together, then the old
one retired). One mailbox is refused by Exchange Online (EWS blocked): an expected failure, diagnosed,
after which the demo plays the admin applying the fix and verify re-tests every mailbox.

  --records DIR   where the run records go (created; must be empty). Default: a new temp folder
  --mailboxes N   mailboxes in the D365 emulator (default 40, 10 to 500)
  --json          print the report (every run's merged records and the checks) as JSON
  --verbose       also print every job's log lines on stderr
  --wide          tables as wide as their cells (default: the terminal's width, COLUMNS or 100)

Exit: 0 everything went as the rehearsal expects, 1 it did not (the output says what), 2 usage error.
`;

export async function demoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    records: { type: 'string' },
    mailboxes: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
    ...WIDE_OPTION,
  });
  if (values.help) {
    io.stdout(DEMO_HELP);
    return EXIT.ok;
  }
  let mailboxes = 40;
  if (values.mailboxes !== undefined) {
    if (!/^\d+$/.test(values.mailboxes) || Number(values.mailboxes) < 10 || Number(values.mailboxes) > 500)
      throw new UsageError(`--mailboxes must be a whole number from 10 to 500, not "${values.mailboxes}"`);
    mailboxes = Number(values.mailboxes);
  }
  let recordsDir: string | undefined;
  if (values.records !== undefined) {
    recordsDir = resolve(io.cwd, values.records);
    if (existsSync(recordsDir)) {
      if (!statSync(recordsDir).isDirectory())
        throw new UsageError(`--records ${values.records} is a file, not a folder`);
      if (readdirSync(recordsDir).length)
        throw new UsageError(
          `--records ${values.records} is not empty: give a new or empty folder (the demo's records must not mix with others)`,
        );
    } else mkdirSync(recordsDir, { recursive: true, mode: 0o700 });
  }
  const runRehearsal = await loadRehearsal();
  if (typeof runRehearsal !== 'function') {
    io.stderr(`d365-exo-sync demo: ${runRehearsal.missing}\n`);
    return EXIT.usage;
  }
  const json = values.json === true;
  const report = await runRehearsal({
    ...(recordsDir ? { recordsDir } : {}),
    env: io.env,
    cwd: io.cwd,
    mailboxes,
    width: tableWidth(io, values.wide),
    ...(json ? {} : { print: io.stdout }),
    ...(values.verbose ? { log: (line: string) => io.stderr(line + '\n') } : {}),
  });
  if (json) io.stdout(JSON.stringify(report, null, 2) + '\n');
  return report.ok ? EXIT.ok : EXIT.failed;
}
