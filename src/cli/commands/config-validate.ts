// d365-exo-sync config validate — public contract: exit 0 valid, 1 invalid (2 usage); JSON {valid, problems[{path, message}]}.
import { resolve } from 'node:path';
import { loadConfigFile } from '../../config/load.js';
import { formatConfigProblems } from '../../config/problem-text.js';
import { EXIT, tableWidth, OUTPUT_OPTIONS } from '../usage.js';
import { defineCommand } from '../command.js';

export const CONFIG_VALIDATE_HELP = `Usage: d365-exo-sync config validate --config FILE [--json] [--wide]

Checks a config file (YAML or JSON) against the schema (config.schema.json): formats, unknown keys,
cross-field rules, and characters pasted from web pages (typographic quotes, non-breaking spaces).

  --config FILE  the config file
  --json         print {valid, problems: [{path, message, line, column, source, suggestions}]}
                 (line, column, source and suggestions when the file has them)
  --wide         do not wrap long lines to the terminal's width

Exit: 0 valid, 1 invalid, 2 usage error.
`;

export const configValidate = defineCommand({
  help: CONFIG_VALIDATE_HELP,
  options: {
    config: { type: 'string' },
    ...OUTPUT_OPTIONS,
  },
  required: { config: '--config FILE' },
  async run(values, io) {
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
  },
});
