// The demo's terminal output: the sandbox, each job's step table (mailboxes with the same outcome folded into one
// row; failures always on their own with the error and its fix), the rerun as one table, each run's merged report
// (src/report/merge.ts, mailbox rows folded the same way) and the rehearsal's checks.
import type { StepResult } from '../phases/phase.js';
import { isResult, markedLines, renderValue } from '../report/markdown.js';
import { statusText } from '../report/status.js';
import { DEFAULT_WIDTH, paragraph, textTable } from '../text/text-table.js';
import { mergedText, type MergedRow, type MergedRun } from '../report/merge.js';
import type { Check, DemoEvent, JobOutcome, RoundOutcome, RoundPlan } from './rehearsal.js';

const FOLD_AT = 3;
const VALUE_WIDTH = 44;
const TARGET_WIDTH = 48;
const ERROR_WIDTH = 60;

const short = (thumbprint: string) => thumbprint.slice(0, 8) + '…';

/** Wraps text at `width`, every line after the first indented by `indent`. */
export function wrap(text: string, width = 110, indent = '      '): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

interface Row {
  step: string;
  target: string;
  status: string;
  before: string;
  after: string;
}

/** Mailbox steps with the same status, before and after as one row ("39 mailboxes", first … last). */
function foldMailboxes<T>(
  items: T[],
  isMailbox: (item: T) => boolean,
  key: (item: T) => string,
  target: (item: T) => string,
  folded: (first: T, count: number, range: string) => T,
): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    if (!isMailbox(item)) continue;
    const list = groups.get(key(item)) ?? [];
    list.push(item);
    groups.set(key(item), list);
  }
  const out: T[] = [];
  const emitted = new Set<string>();
  for (const item of items) {
    if (!isMailbox(item)) {
      out.push(item);
      continue;
    }
    const group = groups.get(key(item))!;
    if (group.length < FOLD_AT) {
      out.push(item);
      continue;
    }
    if (emitted.has(key(item))) continue;
    emitted.add(key(item));
    const range = `${target(group[0]!)} … ${target(group[group.length - 1]!)}`;
    out.push(folded(group[0]!, group.length, range));
  }
  return out;
}

export function jobRows(steps: StepResult[]): Row[] {
  const rows: Array<Row & { mailbox: boolean }> = steps.map((s) => ({
    step: s.title,
    target: renderValue(s.target, TARGET_WIDTH),
    status: s.status === 'failed' ? 'FAILED' : statusText(s),
    before: renderValue(s.before, VALUE_WIDTH),
    after: renderValue(s.after, VALUE_WIDTH),
    mailbox: s.id.startsWith('mailbox.') && s.status !== 'failed',
  }));
  return foldMailboxes(
    rows,
    (r) => r.mailbox,
    (r) => [r.status, r.before, r.after].join('\u0000'),
    (r) => r.target,
    (first, count, range) => ({ ...first, step: `${count} mailboxes`, target: range }),
  );
}

function table(rows: Row[], width: number): string {
  return textTable(
    ['step', 'target', 'status', 'before', 'after'],
    rows.map((r) => [r.step, r.target, r.status, r.before, r.after]),
    { width, indent: '    ' },
  );
}

export function renderSandboxLines(lines: Array<[string, string]>, lineWidth = DEFAULT_WIDTH): string {
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => paragraph(v, lineWidth, `  ${k.padEnd(width)}  `)).join('');
}

export function renderRoundStart(round: RoundPlan): string {
  const bar = '='.repeat(Math.min(100, round.title.length + 6));
  return `\n${bar}\n== ${round.title}\n${bar}\n`;
}

function countsText(job: JobOutcome): string {
  if (!job.counts) return '';
  const c = job.counts;
  const parts = [
    c.changed && `${c.changed} changed`,
    c.unchanged && `${c.unchanged} unchanged`,
    c.skipped && `${c.skipped} skipped`,
    c['not-checked'] && `${c['not-checked']} not checked`,
    c.failed && `${c.failed} failed`,
  ].filter(Boolean);
  return parts.join(', ') || 'no steps';
}

export function renderJobHeadline(job: JobOutcome, width = DEFAULT_WIDTH): string {
  const mark = job.ok ? '✓' : '✗';
  if (job.notRun)
    return '\n' + paragraph(`${job.name} on ${job.machine}: NOT RUN: ${job.notRun}`, width, `${mark} `, '    ');
  const verdict = job.ok ? `as expected (${job.expected})` : `NOT as expected: ${job.problems.join('; ')}`;
  return (
    '\n' +
    paragraph(
      `${job.name} on ${job.machine}: ${job.record!.status} · ${countsText(job)} · ${job.seconds} s · ${verdict}`,
      width,
      `${mark} `,
      '    ',
    )
  );
}

/** One job in full: headline, step table, errors with their fixes, warnings, outputs. */
export function renderJob(job: JobOutcome, seenWarnings: Set<string>, width = DEFAULT_WIDTH): string {
  let text = renderJobHeadline(job, width);
  const record = job.record;
  if (!record) return text;
  const steps = record.steps.filter(isResult);
  text += steps.length ? table(jobRows(steps), width) : '    (no steps)\n';
  // Errors and warnings once each, in full, below the table.
  for (const step of steps.filter((s) => s.status === 'failed')) {
    text += markedLines('✗', `${step.title}: ${step.error ?? 'failed'}`, width, '    ');
  }
  if (record.error && !steps.some((s) => s.status === 'failed')) text += markedLines('✗', record.error, width, '    ');
  const warnings = [...new Set([...steps.flatMap((s) => s.warnings ?? []), ...job.warnings])];
  for (const warning of warnings) {
    if (seenWarnings.has(warning)) continue;
    seenWarnings.add(warning);
    text += markedLines('!', warning, width, '    ');
  }
  const outputs = Object.entries(record.outputs);
  if (outputs.length) text += paragraph(outputs.map(([k, v]) => `${k}=${v}`).join(', '), width, '    outputs: ');
  return text;
}

export function renderCheck(check: Check): string {
  return `  ${check.ok ? '✓' : '✗'} check: ${check.what}: ${check.actual}${check.ok ? '' : ` (expected ${check.expected})`}\n`;
}

export function renderEvent(event: DemoEvent, width = DEFAULT_WIDTH): string {
  return '\n' + paragraph(event.text, width, '» ', '  ');
}

/** The rerun as one table: every job with its step counts. */
export function renderRerunTable(round: RoundOutcome, width = DEFAULT_WIDTH): string {
  // "not checked" gets a column when a job has such a step (then it is never hidden among the others).
  const notChecked = round.jobs.some((j) => (j.counts?.['not-checked'] ?? 0) > 0);
  const rows = round.jobs.map((j) => [
    j.phase,
    j.machine,
    j.notRun ? 'not run' : j.record!.status,
    String(j.counts?.changed ?? '—'),
    String(j.counts?.unchanged ?? '—'),
    String(j.counts?.skipped ?? '—'),
    ...(notChecked ? [String(j.counts?.['not-checked'] ?? '—')] : []),
    String(j.counts?.failed ?? '—'),
    j.ok ? '✓ nothing changed' : `✗ ${j.notRun ? 'not run' : j.problems.join('; ')}`,
  ]);
  const headers = [
    'phase',
    'machine',
    'status',
    'changed',
    'unchanged',
    'skipped',
    ...(notChecked ? ['not checked'] : []),
    'failed',
    'rerun',
  ];
  return '\n' + textTable(headers, rows, { width, indent: '  ' });
}

/**
 * The merged report of one run for the terminal: mailbox rows folded, long targets and errors cut (each job's table
 * above has them in full; the records have everything: `report --dir`).
 */
export function foldMerged(run: MergedRun): MergedRun {
  const cut = run.rows.map((r) => ({
    ...r,
    target: renderValue(r.target, TARGET_WIDTH),
    ...(r.error ? { error: renderValue(r.error, ERROR_WIDTH) } : {}),
  }));
  const rows = foldMailboxes<MergedRow>(
    cut,
    (r) => r.step.startsWith('Mailbox ') && !r.status.startsWith('failed'),
    (r) => [r.phase, r.machine, r.status, r.before, r.after].join('\u0000'),
    (r) => r.target,
    (first, count, range) => ({ ...first, step: `${count} mailboxes`, target: range }),
  );
  const phases = run.phases.map((p) => (p.error ? { ...p, error: renderValue(p.error, ERROR_WIDTH) } : p));
  return { ...run, phases, rows };
}

export function renderMerged(
  title: string,
  folder: string,
  run: MergedRun,
  expectedFailures: string[] = [],
  width = DEFAULT_WIDTH,
): string {
  const note = expectedFailures.length ? `(failed as the rehearsal expects: ${expectedFailures.join(', ')})\n` : '';
  return `\n-- ${title} (records: ${folder})\n` + mergedText(foldMerged(run), width) + note;
}

export function describeCertificate(label: string, cert: { thumbprint: string; notAfter: Date }): string {
  return `${label} ${short(cert.thumbprint)} (ends ${cert.notAfter.toISOString().slice(0, 10)})`;
}
