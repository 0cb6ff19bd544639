// d365-exo-sync config validate — public contract: exit 0 valid, 1 invalid (2 usage); JSON {valid, problems[{path, message}]}.
import { resolve } from 'node:path';
import { loadConfigFile } from '../../config/load.js';
import type { CliIo } from '../../hosts/cli-host.js';
import { formatConfigProblems } from '../../config/problem-text.js';
import { EXIT, parseCommandArgs, tableWidth, UsageError, WIDE_OPTION } from '../usage.js';

export const CONFIG_VALIDATE_HELP = `Usage: d365-exo-sync config validate --config FILE [--json] [--wide]

Checks a config file (YAML or JSON) against the schema (config.schema.json): formats, unknown keys,
cross-field rules, and characters pasted from web pages (typographic quotes, non-breaking spaces).

  --config FILE  the config file
  --json         print {valid, problems: [{path, message, line, column, source, suggestions}]}
                 (line, column, source and suggestions when the file has them)
  --wide         do not wrap long lines to the terminal's width

Exit: 0 valid, 1 invalid, 2 usage error.
`;

export async function configValidate(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string' },
    json: { type: 'boolean' },
    ...WIDE_OPTION,
  });
  if (values.help) {
    io.stdout(CONFIG_VALIDATE_HELP);
    return EXIT.ok;
  }
  if (!values.config) throw new UsageError('--config FILE is required');
  const { problems } = loadConfigFile(resolve(io.cwd, values.config));
  const valid = problems.length === 0;
  if (values.json) {
    io.stdout(JSON.stringify({ valid, problems }, null, 2) + '\n');
  } else if (valid) {
    io.stdout(`${values.config}: valid\n`);
  } else {
    io.stdout(`${values.config}: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n\n`);
    io.stdout(formatConfigProblems(values.config, problems, tableWidth(io, values.wide)));
  }
  return valid ? EXIT.ok : EXIT.failed;
}
