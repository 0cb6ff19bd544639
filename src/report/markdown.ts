// Renders steps and run records as the job summary (markdown) and as console tables.
import type { Step, StepResult } from './step-result.js';
import type { RunRecord } from './run-record.js';
import { statusText } from './status.js';
import { timelineFromSteps } from './record-timeline.js';
import { timelineMermaid } from './timeline.js';
import { textTable, wrapText } from '../text/text-table.js';

export { textTable } from '../text/text-table.js';

/** Short, single-line rendering of a before/after value for tables. */
export function renderValue(value: unknown, max = 80): string {
  if (value === undefined || value === null) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

export function isResult(step: Step | StepResult): step is StepResult {
  return 'status' in step;
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(headers: string[], rows: string[][]): string {
  const head = `| ${headers.join(' | ')} |\n| ${headers.map(() => '---').join(' | ')} |\n`;
  return head + rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`).join('\n') + '\n';
}

export function stepRows(steps: (Step | StepResult)[]): { headers: string[]; rows: string[][] } {
  const headers = ['step', 'target', 'status', 'before', 'after'];
  const rows = steps.map((s) => [s.title, s.target, statusText(s), renderValue(s.before), renderValue(s.after)]);
  return { headers, rows };
}

export function recordMarkdown(record: RunRecord): string {
  const { headers, rows } = stepRows(record.steps);
  let md = `### d365-exo-sync · ${record.phase} (${record.mode}) · ${record.status}\n\n`;
  md += `${record.machine} · ${record.actor} · ${record.startedAt} · config ${record.configHash.slice(0, 19)}\n\n`;
  md += rows.length ? markdownTable(headers, rows) : '_No steps._\n';
  const warnings = stepWarnings(record.steps);
  if (warnings.length) md += '\n' + warnings.map((w) => `> ⚠️ ${w}`).join('\n') + '\n';
  if (record.error) md += `\n**Error:** ${record.error}\n`;
  const timeline = timelineFromSteps(record.steps, new Date(record.startedAt));
  if (timeline) md += '\n#### Validity timeline\n\n' + timelineMermaid(timeline);
  const outputs = Object.entries(record.outputs);
  if (outputs.length)
    md +=
      '\n' +
      markdownTable(
        ['output', 'value'],
        outputs.map(([k, v]) => [k, v]),
      );
  return md;
}

/** Errors of failed steps, each once and in full (they are left out of the table cells). */
export function stepErrors(steps: (Step | StepResult)[]): string[] {
  const errors = steps
    .filter((s): s is StepResult => isResult(s) && s.status === 'failed')
    .map((s) => `${s.title} (${s.target}): ${s.error ?? 'failed'}`);
  return [...new Set(errors)];
}

/** Warnings of the steps, each once. */
export function stepWarnings(steps: (Step | StepResult)[]): string[] {
  return [...new Set(steps.flatMap((s) => (isResult(s) ? (s.warnings ?? []) : [])))];
}

/** `mark text`, wrapped to the width with the continuation lines under the text. */
export function markedLines(mark: string, text: string, width: number, indent = ''): string {
  const lead = `${indent}${mark} `;
  const lines = wrapText(text.replace(/\s+/g, ' ').trim(), width - lead.length);
  return lines.map((line, i) => (i === 0 ? lead : ' '.repeat(lead.length)) + line).join('\n') + '\n';
}

/** Steps for the terminal: the table fitted to the width, then every error and warning in full, below it. */
export function stepsText(steps: (Step | StepResult)[], width: number, indent = ''): string {
  const { headers, rows } = stepRows(steps);
  let text = textTable(headers, rows, { width, indent });
  const errors = stepErrors(steps);
  const warnings = stepWarnings(steps);
  if (errors.length || warnings.length) text += '\n';
  for (const error of errors) text += markedLines('✗', error, width, indent);
  for (const warning of warnings) text += markedLines('!', warning, width, indent);
  return text;
}
