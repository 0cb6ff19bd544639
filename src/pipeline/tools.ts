// The commands the pipelines run besides the phases — watch (expiry check) and report (one table of a
// run's records) — as pipeline steps, so a workflow uses this repository's actions and tasks and never
// installs the command line. They run through the same Host as the phases: inputs, masking, outputs,
// the job summary and a failed step with the reason.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Host } from '../hosts/host.js';
import { loadExtraCa } from '../http/extra-ca.js';
import { createEntraServices } from '../graph/entra-service.js';
import { markdownTable } from '../report/markdown.js';
import { mergedMarkdown, mergeRecords, readRecords } from '../report/merge.js';
import { defaultWatchUrls, watch, watchRows, type WatchReport } from '../watch/watch.js';
import type { PipelineInput } from './inputs.js';
import type { StepManifest } from './step-manifest.js';

export type ToolValues = Record<string, string | undefined>;

export interface ToolRun {
  host: Host;
  values: ToolValues;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Loads the config the `config` input names (the step's own loader: problems fail the step). */
  config: () => Config | undefined;
  label: (name: string) => string;
}

/** A command shipped as an action and a task. Inputs are complete (no common ones are added). */
export interface PipelineTool extends StepManifest {
  run(run: ToolRun): Promise<void>;
}

const CONFIG_INPUT: PipelineInput = {
  name: 'config',
  description: 'Path of the d365-exo-sync config file (YAML or JSON), relative to the working directory.',
  required: true,
  kind: 'file',
};

/** Whether the report says something expires (as opposed to something that could not be checked). */
export function expiring(report: WatchReport): boolean {
  if (report.daysRemaining !== null && report.daysRemaining < report.minDays) return true;
  if (report.keys === null) return false;
  return !report.keys.some((k) => k.usage === 'Verify' && k.state === 'valid');
}

function watchMarkdown(report: WatchReport): string {
  const rows = watchRows(report);
  const verdict = report.ok
    ? `All fine: more than ${report.minDays} days left.`
    : report.problems.map((p) => `- ${p}`).join('\n');
  return `### d365-exo-sync · watch (threshold ${report.minDays} days)\n\n${markdownTable(['what', 'days left', 'details'], rows)}\n${verdict}\n`;
}

export const WATCH_TOOL: PipelineTool = {
  id: 'watch',
  title: 'Expiry check of the live TLS certificates and the keys on the Dynamics CRM service principal',
  runsOn: 'anywhere that reaches the D365 (and AD FS) URL and Microsoft Graph',
  changes: 'nothing',
  signsInToEntra: true,
  inputs: [
    CONFIG_INPUT,
    {
      name: 'min-days',
      description: 'Fewer days left than this fails the step with status "expiring".',
      default: '30',
    },
    {
      name: 'urls',
      description: 'https URLs to check instead of the configured ones (deployment.url and adfs.url), one per line.',
    },
    {
      name: 'skip-entra',
      description: '"true" checks only the TLS certificates and does not sign in to Entra ID.',
      default: 'false',
      options: ['false', 'true'],
    },
    {
      name: 'report-dir',
      description:
        'Folder for the JSON report (never a secret). Default: d365-exo-sync/watch in the runner temp folder.',
    },
  ],
  outputs: [
    {
      name: 'status',
      description:
        '"ok"; "expiring" (something expires within min-days, or no valid key is left); "unchecked" (something could not be checked: see the summary).',
    },
    { name: 'days-remaining', description: 'Fewest days left among the live certificates and the newest key.' },
    { name: 'report-file', description: 'Path of the JSON report this step wrote.' },
  ],
  async run({ host, values, env, cwd, config, label }) {
    const minDays = Number(values['min-days'] ?? '30');
    if (!Number.isInteger(minDays) || minDays < 0)
      throw new Error(`${label('min-days')} is "${values['min-days']}": give a whole number of days`);
    const urls = (values.urls ?? '')
      .split(/\r?\n/)
      .map((u) => u.trim())
      .filter(Boolean);
    for (const url of urls)
      if (!URL.canParse(url) || new URL(url).protocol !== 'https:')
        throw new Error(`${label('urls')}: ${url} is not an https:// URL`);
    const loaded = config();
    if (!loaded) return;
    const ca = loadExtraCa(env);
    const report = await watch({
      minDays,
      urls: urls.length ? urls : defaultWatchUrls(loaded),
      ...(values['skip-entra'] === 'true' ? {} : { entra: createEntraServices(loaded, host, env) }),
      ...(ca ? { ca } : {}),
      now: new Date(),
    });
    const dir = resolve(cwd, values['report-dir'] ?? join(host.tempDir(), 'watch'));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'watch.json');
    writeFileSync(file, host.mask(JSON.stringify(report, null, 2)) + '\n');
    const status = report.ok ? 'ok' : expiring(report) ? 'expiring' : 'unchecked';
    host.setOutput('status', status);
    host.setOutput('days-remaining', report.daysRemaining === null ? '' : String(report.daysRemaining));
    host.setOutput('report-file', file);
    await host.writeSummary(watchMarkdown(report));
    if (report.ok) host.setResult('succeeded', `watch: more than ${minDays} days left (${report.daysRemaining})`);
    else host.setResult('failed', `watch: ${status}: ${report.problems.join('; ')}`);
  },
};

export const REPORT_TOOL: PipelineTool = {
  id: 'report',
  title: 'One table of every phase, machine and step of a run, from the run records',
  runsOn: 'anywhere (after the records were downloaded)',
  changes: 'nothing',
  signsInToEntra: false,
  inputs: [
    {
      name: 'dir',
      description:
        'Folder holding the run records (searched recursively: downloaded artifacts come one folder per job).',
      required: true,
    },
    { name: 'run-id', description: 'Only the records of this pipeline run id.' },
  ],
  outputs: [{ name: 'status', description: '"succeeded" when every phase succeeded, else "failed".' }],
  async run({ host, values, cwd, label }) {
    const dir = resolve(cwd, values.dir!);
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new Error(`${label('dir')}: ${values.dir} is not a folder: download the record artifacts into it first`);
    const { records, problems } = readRecords(dir);
    for (const problem of problems) host.log.warn(`${problem.file}: ${problem.message}`);
    const runId = values['run-id'];
    const selected = runId ? records.filter((r) => r.record.runId === runId) : records;
    if (selected.length === 0) {
      host.setOutput('status', 'failed');
      host.setResult('failed', `report: no run record ${runId ? `of run ${runId} ` : ''}in ${values.dir}`);
      return;
    }
    const merged = mergeRecords(selected);
    host.setOutput('status', merged.status);
    await host.writeSummary(mergedMarkdown(merged));
    if (merged.status === 'succeeded')
      host.setResult('succeeded', `report: ${selected.length} record(s), every phase succeeded`);
    else host.setResult('failed', `report: a phase failed (${selected.length} record(s)); see the summary`);
  },
};

export const TOOLS: readonly PipelineTool[] = [WATCH_TOOL, REPORT_TOOL];
