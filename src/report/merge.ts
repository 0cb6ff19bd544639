// Merges the run records of one renewal (a folder of record JSON files, e.g. the downloaded artifacts of
// every job) into one table: every step of every phase on every machine, in renewal order. The audit
// trail of a run in one place.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PHASE_IDS } from './step-result.js';
import { isResult, markdownTable, markedLines, renderValue } from './markdown.js';
import { stepReason } from './status.js';
import { DEFAULT_WIDTH, paragraph, textTable } from '../text/text-table.js';
import { timelineFromSteps } from './record-timeline.js';
import { timelineMermaid, timelineText, type Timeline } from './timeline.js';
import { RUN_RECORD_SCHEMA, type RunRecord } from './run-record.js';

export interface RecordFile {
  file: string;
  record: RunRecord;
}

export interface RecordProblem {
  file: string;
  message: string;
}

/** Files larger than this are not run records (a record is a few kilobytes, a big mailbox run a few MB). */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return jsonFiles(path);
      return entry.isFile() && entry.name.toLowerCase().endsWith('.json') ? [path] : [];
    });
}

/** Reads every run record under dir (searched recursively: artifacts come one folder per job). */
export function readRecords(dir: string): { records: RecordFile[]; problems: RecordProblem[] } {
  const records: RecordFile[] = [];
  const problems: RecordProblem[] = [];
  for (const path of jsonFiles(dir)) {
    const file = relative(dir, path);
    if (statSync(path).size > MAX_RECORD_BYTES) {
      problems.push({ file, message: 'too large to be a run record' });
      continue;
    }
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      problems.push({ file, message: `not valid JSON (${(error as Error).message})` });
      continue;
    }
    const candidate = document as Partial<RunRecord> | null;
    if (!candidate || typeof candidate !== 'object' || candidate.schema !== RUN_RECORD_SCHEMA) continue; // some other JSON file
    if (
      typeof candidate.phase !== 'string' ||
      !Array.isArray(candidate.steps) ||
      typeof candidate.startedAt !== 'string'
    ) {
      problems.push({ file, message: `a ${RUN_RECORD_SCHEMA} record without phase, steps or startedAt` });
      continue;
    }
    records.push({ file, record: candidate as RunRecord });
  }
  return { records, problems };
}

export interface MergedRow {
  phase: string;
  mode: string;
  machine: string;
  step: string;
  target: string;
  /** The status as the record has it (changed, unchanged, skipped, not-checked, failed; "plan: create"...). */
  status: string;
  /** Why a step was skipped or not checked. */
  reason?: string;
  before: string;
  after: string;
  error?: string;
}

export interface MergedRun {
  status: 'succeeded' | 'failed';
  runIds: string[];
  runUrls: string[];
  actors: string[];
  configHashes: string[];
  startedAt?: string;
  finishedAt?: string;
  phases: {
    phase: string;
    mode: string;
    machine: string;
    status: string;
    startedAt: string;
    error?: string;
    file: string;
  }[];
  rows: MergedRow[];
  outputs: Record<string, string>;
  warnings: string[];
  /** The keys and certificates over time, as the run's records last saw them; absent when none did. */
  timeline?: Timeline;
}

const unique = (values: (string | undefined)[]) => [...new Set(values.filter((v): v is string => !!v))];

function phaseOrder(phase: string): number {
  const index = (PHASE_IDS as readonly string[]).indexOf(phase);
  return index < 0 ? PHASE_IDS.length : index;
}

/** One run's records as one table, in renewal order (then machine, then start time). */
export function mergeRecords(files: RecordFile[]): MergedRun {
  const sorted = [...files].sort(
    (a, b) =>
      phaseOrder(a.record.phase) - phaseOrder(b.record.phase) ||
      a.record.machine.localeCompare(b.record.machine) ||
      a.record.startedAt.localeCompare(b.record.startedAt),
  );
  const rows: MergedRow[] = [];
  const outputs: Record<string, string> = {};
  for (const { record } of sorted) {
    for (const step of record.steps) {
      rows.push({
        phase: record.phase,
        mode: record.mode,
        machine: record.machine,
        step: step.title,
        target: step.target,
        status: isResult(step) ? step.status : `plan: ${step.action}`,
        before: renderValue(step.before, 60),
        after: renderValue(step.after, 60),
        ...(isResult(step) && step.error ? { error: step.error } : {}),
        ...(isResult(step) && stepReason(step) ? { reason: stepReason(step) } : {}),
      });
    }
    // Later phases win: they read back what earlier ones set. A family of outputs (mailboxes-succeeded and
    // mailboxes-failed) comes whole from one record, never half from configure-mailboxes and half from verify.
    for (const name of Object.keys(record.outputs ?? {})) {
      const family = outputFamily(name);
      for (const earlier of Object.keys(outputs)) if (outputFamily(earlier) === family) delete outputs[earlier];
    }
    Object.assign(outputs, record.outputs ?? {});
  }
  const runIds = unique(sorted.map((f) => f.record.runId));
  const configHashes = unique(sorted.map((f) => f.record.configHash));
  const warnings: string[] = [];
  if (runIds.length > 1)
    warnings.push(
      `the records come from ${runIds.length} runs (${runIds.join(', ')}): give the records of one run, or --run-id`,
    );
  if (configHashes.length > 1)
    warnings.push(
      `the phases ran with ${configHashes.length} different configs (${configHashes.map((h) => h.slice(0, 19)).join(', ')})`,
    );
  const missing = PHASE_IDS.filter((id) => !sorted.some((f) => f.record.phase === id));
  if (sorted.length && missing.length)
    warnings.push(`no record of ${missing.join(', ')} (not run, skipped, or its artifact is missing)`);
  const starts = sorted.map((f) => f.record.startedAt).sort();
  const ends = sorted.map((f) => f.record.finishedAt).sort();
  // Steps in the order they ran, so the last reading of the keys is the one drawn.
  const byTime = [...sorted].sort((a, b) => a.record.startedAt.localeCompare(b.record.startedAt));
  const timeline = ends.length
    ? timelineFromSteps(
        byTime.flatMap((f) => f.record.steps),
        new Date(ends[ends.length - 1]!),
      )
    : undefined;
  return {
    status: sorted.some((f) => f.record.status !== 'succeeded') ? 'failed' : 'succeeded',
    runIds,
    runUrls: unique(sorted.map((f) => f.record.runUrl)),
    actors: unique(sorted.map((f) => f.record.actor)),
    configHashes,
    ...(starts[0] ? { startedAt: starts[0] } : {}),
    ...(ends.length ? { finishedAt: ends[ends.length - 1] } : {}),
    phases: sorted.map(({ file, record }) => ({
      phase: record.phase,
      mode: record.mode,
      machine: record.machine,
      status: record.status,
      startedAt: record.startedAt,
      ...(record.error ? { error: record.error } : {}),
      file,
    })),
    rows,
    outputs,
    warnings,
    ...(timeline ? { timeline } : {}),
  };
}

/** "mailboxes-failed" → "mailboxes": outputs that count the same things. */
const outputFamily = (name: string) => name.split('-')[0]!;

/** A merged row's state in words: "not checked (why)", "skipped (why)", "failed"... */
function rowStatus(row: MergedRow): string {
  if (row.status === 'not-checked') return `not checked (${row.reason ?? 'it could not run'})`;
  if (row.status === 'skipped' && row.reason) return `skipped (${row.reason})`;
  return row.status;
}

const STEP_HEADERS = ['phase', 'machine', 'step', 'target', 'status', 'before', 'after'];

const flat = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The cells of a step row; a job summary keeps the error in the status cell (markdown wraps it). */
function stepCells(row: MergedRow, withError = false): string[] {
  const cells = [
    row.phase + (row.mode === 'plan' ? ' (plan)' : ''),
    row.machine,
    row.step,
    row.target,
    rowStatus(row) + (withError && row.error ? `: ${row.error}` : ''),
    row.before,
    row.after,
  ];
  return cells.map(flat);
}

function headline(run: MergedRun): string {
  const runs = run.runIds.join(', ') || '—';
  return `${run.status} · run ${runs} · ${run.phases.length} record(s) · by ${run.actors.join(', ') || '—'} · ${run.startedAt ?? '—'} → ${run.finishedAt ?? '—'}`;
}

export function mergedMarkdown(run: MergedRun): string {
  let md = `### d365-exo-sync renewal report\n\n${headline(run)}\n\n`;
  if (run.runUrls.length) md += run.runUrls.map((url) => `- ${url}`).join('\n') + '\n\n';
  md += markdownTable(
    ['phase', 'machine', 'status', 'started', 'error'],
    run.phases.map((p) => [
      p.phase + (p.mode === 'plan' ? ' (plan)' : ''),
      p.machine,
      p.status,
      p.startedAt,
      flat(p.error ?? ''),
    ]),
  );
  md +=
    '\n' +
    (run.rows.length
      ? markdownTable(
          STEP_HEADERS,
          run.rows.map((row) => stepCells(row, true)),
        )
      : '_No steps._\n');
  const outputs = Object.entries(run.outputs);
  if (outputs.length) md += '\n' + markdownTable(['output', 'value'], outputs);
  if (run.warnings.length) md += '\n' + run.warnings.map((w) => `> ⚠️ ${w}`).join('\n') + '\n';
  if (run.timeline) md += '\n#### Validity timeline\n\n' + timelineMermaid(run.timeline);
  return md;
}

/** The merged report for the terminal: tables fitted to the width, each error once and in full below them. */
export function mergedText(run: MergedRun, width = DEFAULT_WIDTH): string {
  let text = paragraph(`d365-exo-sync renewal report: ${headline(run)}`, width, '', '  ');
  for (const url of run.runUrls) text += paragraph(url, width, '  ');
  text +=
    '\n' +
    textTable(
      ['phase', 'machine', 'status', 'started'],
      run.phases.map((p) => [p.phase + (p.mode === 'plan' ? ' (plan)' : ''), p.machine, p.status, p.startedAt]),
      { width },
    );
  text +=
    '\n' +
    (run.rows.length
      ? textTable(
          STEP_HEADERS,
          run.rows.map((row) => stepCells(row)),
          { width },
        )
      : 'No steps.\n');
  const errors = [
    ...run.rows.filter((r) => r.error).map((r) => `${r.phase} on ${r.machine}: ${r.step} (${r.target}): ${r.error}`),
    // A phase error no step carries (the phase stopped before its steps).
    ...run.phases
      .filter((p) => p.error && !run.rows.some((r) => r.phase === p.phase && r.machine === p.machine && r.error))
      .map((p) => `${p.phase} on ${p.machine}: ${p.error}`),
  ];
  if (errors.length) text += '\n';
  for (const error of [...new Set(errors)]) text += markedLines('✗', flat(error), width);
  for (const [name, value] of Object.entries(run.outputs)) text += paragraph(`output ${name}=${value}`, width);
  for (const warning of run.warnings) text += paragraph(`warning: ${warning}`, width, '', '  ');
  if (run.timeline) text += '\n' + timelineText(run.timeline, width);
  return text;
}
