// Plain-text tables for the terminal, sized to it: columns padded to their widest cell, and when the table
// would be wider than the terminal, the widest columns narrowed and their cells wrapped onto more lines.
// Nothing is cut here: the full text of every cell is shown (and is in the run record and --json).

/** The width a table may take: --wide (unlimited), COLUMNS, the terminal's own width, else 100. */
export function terminalWidth(options: { wide?: boolean; env?: NodeJS.ProcessEnv; columns?: number }): number {
  if (options.wide) return Infinity;
  const fromEnv = Number(options.env?.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv >= 20) return fromEnv;
  if (options.columns && options.columns >= 20) return options.columns;
  return DEFAULT_WIDTH;
}

export const DEFAULT_WIDTH = 100;
const GAP = 2;
/** No column is narrowed below this (or its natural width, when smaller). */
const MIN_COLUMN = 6;

/** Splits text into lines of at most `width` characters, at spaces where it can, inside a word when it must. */
export function wrapText(text: string, width: number): string[] {
  if (!Number.isFinite(width) || width <= 0) return text.split('\n');
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/)) {
      let rest = word;
      if (line && line.length + 1 + rest.length <= width) {
        line += ' ' + rest;
        continue;
      }
      if (line) lines.push(line);
      while (rest.length > width) {
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
      line = rest;
    }
    lines.push(line);
  }
  return lines;
}

/** Column widths that fit `available` characters: the narrowest cap that the widest columns share. */
function fitWidths(natural: number[], available: number): number[] {
  const sum = (widths: number[]) => widths.reduce((a, b) => a + b, 0);
  if (sum(natural) <= available) return natural;
  const floors = natural.map((w) => Math.min(w, MIN_COLUMN));
  if (sum(floors) >= available) {
    // More columns than room: share what there is, at least 1 character each.
    const each = Math.max(1, Math.floor(available / natural.length));
    return natural.map((w) => Math.min(w, each));
  }
  let low = MIN_COLUMN;
  let high = Math.max(...natural);
  while (low < high) {
    const cap = Math.ceil((low + high) / 2);
    if (sum(natural.map((w) => Math.min(w, cap))) <= available) low = cap;
    else high = cap - 1;
  }
  const widths = natural.map((w) => Math.min(w, low));
  // Hand the remainder to the capped columns, left to right.
  let spare = available - sum(widths);
  for (let i = 0; i < widths.length && spare > 0; i++) {
    if (natural[i]! > widths[i]!) {
      const more = Math.min(spare, natural[i]! - widths[i]!);
      widths[i]! += more;
      spare -= more;
    }
  }
  return widths;
}

export interface TableOptions {
  /** The widest a line may be, indent included (Infinity: unlimited). Default 100. */
  width?: number;
  /** Put before every line (it counts towards the width). */
  indent?: string;
}

/** A plain-text table, columns padded to the widest cell and fitted to the width. */
export function textTable(headers: string[], rows: string[][], options: TableOptions = {}): string {
  const indent = options.indent ?? '';
  const width = options.width ?? DEFAULT_WIDTH;
  const cells = [headers, ...rows].map((row) => headers.map((_, i) => (row[i] ?? '').replace(/[\t\r]/g, ' ')));
  const natural = headers.map((_, i) => Math.max(...cells.map((row) => longestLine(row[i]!))));
  const available = width - indent.length - GAP * (headers.length - 1);
  const widths = Number.isFinite(width) ? fitWidths(natural, available) : natural;
  const render = (row: string[]) => {
    const wrapped = row.map((cell, i) => wrapText(cell, widths[i]!));
    const height = Math.max(...wrapped.map((lines) => lines.length));
    const lines: string[] = [];
    for (let l = 0; l < height; l++) {
      const line = wrapped.map((cellLines, i) => (cellLines[l] ?? '').padEnd(widths[i]!)).join(' '.repeat(GAP));
      lines.push((indent + line).trimEnd());
    }
    return lines;
  };
  const [head, ...body] = cells;
  const out = [...render(head!), (indent + widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP))).trimEnd()];
  for (const row of body) out.push(...render(row));
  return out.join('\n') + '\n';
}

const longestLine = (text: string) => Math.max(...text.split('\n').map((line) => line.length));

/** The widest line of a text, for tests and callers that check a fit. */
export function widestLine(text: string): number {
  return Math.max(0, ...text.split('\n').map((line) => [...line].length));
}

/** A paragraph wrapped to the width: the first line after `first`, the others after `rest` (default: as deep). */
export function paragraph(text: string, width: number, first = '', rest = ' '.repeat(first.length)): string {
  const lines = wrapText(text.replace(/[ \t]+/g, ' ').trim(), width - Math.max(first.length, rest.length));
  return lines.map((line, i) => (i === 0 ? first : rest) + line).join('\n') + '\n';
}

/** Wraps every line wider than the width (continuation lines indented two more than the line): prose that fits. */
export function fitLines(text: string, width: number): string {
  if (!Number.isFinite(width)) return text;
  return text
    .split('\n')
    .map((line) => {
      if ([...line].length <= width) return line;
      const lead = /^ */.exec(line)![0];
      return paragraph(line.slice(lead.length), width, lead, lead + '  ').slice(0, -1);
    })
    .join('\n');
}
