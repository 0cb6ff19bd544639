// d365-exo-sync report — merges the run records of one run (a folder of record JSON files, e.g. the
// downloaded artifacts of every job) into one table.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { mergedMarkdown, mergedText, mergeRecords, readRecords } from '../../report/merge.js';
import { EXIT, tableWidth, UsageError, OUTPUT_OPTIONS } from '../usage.js';
import { defineCommand } from '../command.js';

export const REPORT_HELP = `Usage: d365-exo-sync report --dir DIR [--run-id ID] [--format text|markdown] [--json] [--wide]

Merges the run records of one run into one table: every step of every phase on every machine, in
renewal order, with the phases' status and outputs. DIR is searched recursively (downloaded pipeline
artifacts come one folder per job); JSON files that are not run records are skipped.

  --dir DIR         the folder holding the run records
  --run-id ID       only the records of this run (the pipeline run id in each record)
  --format FORMAT   text (default) or markdown (for a job summary)
  --json            the merged report as JSON (every value in full)
  --wide            text tables as wide as their cells (default: the terminal's width, COLUMNS or 100)

Exit: 0 every phase succeeded, 1 a phase failed or there is no record, 2 usage error.
`;

export const reportCommand = defineCommand({
  help: REPORT_HELP,
  options: {
    dir: { type: 'string' },
    'run-id': { type: 'string' },
    format: { type: 'string' },
    ...OUTPUT_OPTIONS,
  },
  required: { dir: '--dir DIR' },
  async run(values, io) {
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'markdown') throw new UsageError(`--format ${format}: use text or markdown`);
    const dir = resolve(io.cwd, values.dir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--dir ${values.dir} is not a folder`);

    const { records, problems } = readRecords(dir);
    const selected = values['run-id'] ? records.filter((r) => r.record.runId === values['run-id']) : records;
    for (const problem of problems) io.stderr(`warning: ${problem.file}: ${problem.message}\n`);
    if (selected.length === 0) {
      const why = values['run-id'] ? `of run ${values['run-id']} ` : '';
      io.stderr(`error: no run record ${why}in ${values.dir}\n`);
      return EXIT.failed;
    }
    const merged = mergeRecords(selected);
    if (values.json) io.stdout(JSON.stringify({ ...merged, problems }, null, 2) + '\n');
    else io.stdout(format === 'markdown' ? mergedMarkdown(merged) : mergedText(merged, tableWidth(io, values.wide)));
    return merged.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  },
});
