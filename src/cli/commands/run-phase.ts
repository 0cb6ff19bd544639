// d365-exo-sync run — runs one phase (apply, or plan with --plan) and leaves its run record.
import { CliHost } from '../../hosts/cli-host.js';
import { findPhase, PHASES } from '../../phases/registry.js';
import { runPhase } from '../../phases/runner.js';
import { stepsText } from '../../report/markdown.js';
import { paragraph } from '../../text/text-table.js';
import { EXIT, tableWidth, UsageError, OUTPUT_OPTIONS } from '../usage.js';
import { defineCommand } from '../command.js';
import {
  buildContext,
  CERTIFICATE_OPTIONS,
  loadConfigOrReport,
  parseSets,
  certificateFromFlags,
  settableNames,
} from '../context.js';
import { resolve } from 'node:path';

export const RUN_HELP = `Usage: d365-exo-sync run --config FILE --phase ID [--plan] [--pfx FILE | --pfx-base64-env VAR] [--password-env VAR] [--set name=value]... [--record-dir DIR] [--json] [--wide]

Runs one phase: reads the current state, changes only what differs, reads it back, and writes a run
record (JSON, never a secret). With --plan it only shows what it would change.

  --phase ID            ${PHASES.map((p) => p.id).join(', ')}
  --plan                show the steps, change nothing
  --config FILE         the config file (YAML or JSON)
  --pfx FILE            the new certificate (PFX)
  --pfx-base64-env VAR  ...or the name of an environment variable holding it as base64
  --password-env VAR    name of the environment variable holding the PFX password
  --set name=value      an output of an earlier phase (tenant-id, thumbprint, organization-id, verified)
  --record-dir DIR      where the run record goes (default: a folder in the temp directory, printed)
  --json                print the run record (every value in full)
  --wide                tables as wide as their cells (default: the terminal's width, COLUMNS or 100)
  --verbose             also print the debug lines

Exit: 0 succeeded, 1 failed (the error says why), 2 usage error.
`;

export const runCommand = defineCommand({
  help: RUN_HELP,
  options: {
    config: { type: 'string' },
    phase: { type: 'string' },
    plan: { type: 'boolean' },
    ...CERTIFICATE_OPTIONS,
    set: { type: 'string', multiple: true },
    'record-dir': { type: 'string' },
    verbose: { type: 'boolean' },
    ...OUTPUT_OPTIONS,
  },
  required: { config: '--config FILE' },
  async run(values, io) {
    if (!values.phase) throw new UsageError(`--phase ID is required: one of ${PHASES.map((p) => p.id).join(', ')}`);
    const phase = findPhase(values.phase);
    if (!phase)
      throw new UsageError(`--phase ${values.phase} is not a phase: use one of ${PHASES.map((p) => p.id).join(', ')}`);
    const json = values.json === true;
    const loaded = loadConfigOrReport(values.config, io, json);
    if (!loaded) return EXIT.failed;
    const host = new CliHost(io, {}, {}, values.verbose === true);
    const certificate = certificateFromFlags(values, io, host);
    const inputs = parseSets(values.set, { names: settableNames([phase]), what: phase.id });
    const ctx = buildContext(loaded.config, host, io, inputs, certificate);
    const { record, recordFile } = await runPhase(phase, ctx, {
      mode: values.plan ? 'plan' : 'apply',
      configHash: loaded.configHash,
      ...(values['record-dir'] ? { recordDir: resolve(io.cwd, values['record-dir']) } : {}),
    });
    if (json) {
      io.stdout(JSON.stringify(record, null, 2) + '\n');
    } else {
      const width = tableWidth(io, values.wide);
      io.stdout(`${record.phase} (${record.mode}): ${record.status}\n\n`);
      io.stdout(record.steps.length ? stepsText(record.steps, width) : 'No steps.\n');
      for (const [name, value] of Object.entries(record.outputs))
        io.stdout(paragraph(`output ${name}=${value}`, width));
      // A phase error that no step carries (the phase stopped before its steps) is printed once, in full.
      const stepFailed = record.steps.some((s) => 'status' in s && s.status === 'failed');
      if (record.error && !stepFailed) io.stdout('\n' + paragraph(`error: ${record.error}`, width, '', '  '));
      io.stdout('\n' + paragraph(`run record: ${recordFile}`, width, '', '  '));
    }
    return record.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  },
});
