// d365-exo-sync demo — the whole renewal, twice, against the sandbox on this machine (src/demo).
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIo } from '../../hosts/cli-host.js';
// #14: the one product import of the demo, until the sandbox and the demo become their own workspace
// package that `npm start` runs (then the CLI has no demo command to bundle).
// eslint-disable-next-line no-restricted-imports
import { runDemo } from '../../demo/index.js';
import { EXIT, parseCommandArgs, tableWidth, UsageError, WIDE_OPTION } from '../usage.js';

export const DEMO_HELP = `Usage: d365-exo-sync demo [--records DIR] [--mailboxes N] [--json] [--verbose] [--wide]

Rehearses the whole renewal on this machine, with nothing to set up: a throwaway CA and certificates,
the Entra ID + Graph and D365 Web API emulators on loopback (HTTPS, trusted through that CA), and the
PowerShell module under pwsh with the fake Windows cmdlets of the tests for two D365 servers and AD FS.
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
  const json = values.json === true;
  const report = await runDemo({
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
