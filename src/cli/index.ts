// The command line. run() is importable and side-effect free; bin/d365-exo-sync.js only calls it.
import type { CliIo } from '../hosts/cli-host.js';
import { TOOL_VERSION } from '../version.js';
import { certInspect, CERT_INSPECT_HELP } from './commands/cert-inspect.js';
import { configValidate, CONFIG_VALIDATE_HELP } from './commands/config-validate.js';
import { plan, PLAN_HELP } from './commands/plan.js';
import { runCommand, RUN_HELP } from './commands/run-phase.js';
import { reportCommand, REPORT_HELP } from './commands/report.js';
import { watchCommand, WATCH_HELP } from './commands/watch.js';
import { demoCommand, DEMO_HELP } from './commands/demo.js';
import { federatedCredentialsCommand, FEDERATED_CREDENTIALS_HELP } from './commands/federated-credentials.js';
import { EXIT, UsageError } from './usage.js';
import { InputError } from '../cert/index.js';

const COMMAND_LINES: Array<[string, string]> = [
  ['demo', 'rehearse two whole renewals against a local sandbox (start here)'],
  ['plan --config FILE', "validate the config (and certificate) and show every phase's steps"],
  ['run --config FILE --phase ID', 'run one phase (or show its plan with --plan)'],
  ['cert inspect --pfx FILE', 'check a certificate before it is used'],
  ['config validate --config FILE', 'check a config file'],
  ['report --dir DIR', 'merge the run records of one run into one table'],
  ['watch --config FILE', 'days left on the TLS certificates, Entra keys and EWS (2027-04-01)'],
  ['federated-credentials', 'the OIDC subjects the Entra app needs, and how to add them'],
];

/** Command and description in two aligned columns. */
function commandList(lines: Array<[string, string]>): string {
  const width = Math.max(...lines.map(([command]) => command.length));
  return lines.map(([command, what]) => `  ${command.padEnd(width)}  ${what}`).join('\n');
}

export const HELP = `Usage: d365-exo-sync <command> [options]

Sets up and renews server-side synchronization between Dynamics 365 CE v9 on-premises and
Exchange Online, one phase at a time.

Commands:
${commandList(COMMAND_LINES)}

Run "d365-exo-sync <command> --help" for a command's options. Secrets are never taken on the
command line: options ending in -env name the environment variable that holds them.
`;

/** `cert` and `config` group two-word commands: alone or with --help they list theirs. */
function groupHelp(group: string): string | undefined {
  const lines = COMMAND_LINES.filter(([command]) => command.startsWith(group + ' '));
  if (!lines.length) return undefined;
  return (
    `Usage: d365-exo-sync ${group} <command> [options]\n\nCommands:\n${commandList(lines)}\n\n` +
    `Run "d365-exo-sync ${lines[0]![0].split(' ').slice(0, 2).join(' ')} --help" for its options.\n`
  );
}

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  'cert inspect': { run: certInspect, help: CERT_INSPECT_HELP },
  'config validate': { run: configValidate, help: CONFIG_VALIDATE_HELP },
  plan: { run: plan, help: PLAN_HELP },
  run: { run: runCommand, help: RUN_HELP },
  report: { run: reportCommand, help: REPORT_HELP },
  watch: { run: watchCommand, help: WATCH_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
  'federated-credentials': { run: federatedCredentialsCommand, help: FEDERATED_CREDENTIALS_HELP },
};

function defaultIo(): CliIo {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    ...(process.stdout.isTTY ? { columns: process.stdout.columns } : {}),
    progressTty: process.stderr.isTTY === true,
  };
}

export async function run(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = { ...defaultIo(), ...io };
  const [first, second] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    full.stdout(HELP);
    return first ? EXIT.ok : EXIT.usage;
  }
  if (first === '--version') {
    full.stdout(TOOL_VERSION + '\n');
    return EXIT.ok;
  }
  const twoWord = `${first} ${second ?? ''}`;
  const name = COMMANDS[twoWord] ? twoWord : first;
  const command = COMMANDS[name];
  const group = groupHelp(first);
  if (!command && group && (second === undefined || second === '--help' || second === '-h' || second === 'help')) {
    full.stdout(group);
    return second === undefined ? EXIT.usage : EXIT.ok;
  }
  if (!command) {
    full.stderr(`Unknown command "${name.trim()}".\n\n${HELP}`);
    return EXIT.usage;
  }
  const rest = argv.slice(name.split(' ').length);
  try {
    return await command.run(rest, full);
  } catch (error) {
    // Bad input (a usage mistake, a mangled secret, a missing file) exits 2 with the field and the fix.
    if (error instanceof InputError) {
      full.stderr(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof UsageError) {
      full.stderr(`error: ${error.message}\n\nRun "d365-exo-sync ${name} --help" for the options.\n`);
      return EXIT.usage;
    }
    full.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}
