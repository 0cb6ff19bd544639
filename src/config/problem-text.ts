// Config problems for the terminal, the way compilers print them: file:line:column, the key path and what
// is wrong, then the offending line quoted with a caret under the column.
import { DEFAULT_WIDTH, paragraph } from '../text/text-table.js';
import type { ConfigProblem } from './load.js';
import { quoteLine } from './positions.js';

export function formatConfigProblem(file: string, problem: ConfigProblem, width = DEFAULT_WIDTH): string {
  const where = problem.line ? `${file}:${problem.line}:${problem.column}` : file;
  // The message names the file for --json readers; here the file leads the line already.
  const message = problem.message.startsWith(`${file} `) ? problem.message.slice(file.length + 1) : problem.message;
  const what = problem.path === '(file)' ? message : `${problem.path}: ${message}`;
  let text = paragraph(`${where}: ${what}`, width, '', '    ');
  if (problem.line && problem.source !== undefined)
    text += quoteLine({ line: problem.line, column: problem.column ?? 1, source: problem.source }, width);
  return text;
}

export function formatConfigProblems(file: string, problems: ConfigProblem[], width = DEFAULT_WIDTH): string {
  return problems.map((p) => formatConfigProblem(file, p, width)).join('\n');
}
