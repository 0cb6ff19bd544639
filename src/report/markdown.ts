// Renders steps and run records as the job summary (markdown) and as console tables.
import type { Step, StepResult } from '../phases/phase.js';
import type { RunRecord } from './run-record.js';

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
  const rows = steps.map((s) => [
    s.title,
    s.target,
    isResult(s) ? s.status + (s.error ? `: ${s.error}` : '') : s.action,
    renderValue(s.before),
    renderValue(s.after),
  ]);
  return { headers, rows };
}

export function recordMarkdown(record: RunRecord): string {
  const { headers, rows } = stepRows(record.steps);
  let md = `### d365-exo-sync · ${record.phase} (${record.mode}) · ${record.status}\n\n`;
  md += `${record.machine} · ${record.actor} · ${record.startedAt} · config ${record.configHash.slice(0, 19)}\n\n`;
  md += rows.length ? markdownTable(headers, rows) : '_No steps._\n';
  const warnings = record.steps.flatMap((s) => (isResult(s) ? (s.warnings ?? []) : []));
  if (warnings.length) md += '\n' + warnings.map((w) => `> ⚠️ ${w}`).join('\n') + '\n';
  if (record.error) md += `\n**Error:** ${record.error}\n`;
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

/** A plain-text table for the terminal, columns padded to the widest cell. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}
