// Config problems carry where they are: file line and column from the YAML parser, the line quoted with a caret,
// and for a misspelt key the closest valid names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { loadConfigFile, parseConfigText, validateConfig } from '../../../src/config/load.js';
import { formatConfigProblems } from '../../../src/config/problem-text.js';
import { closestNames, quoteLine } from '../../../src/config/positions.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse as parseYaml } from 'yaml';

const example = readFileSync('examples/contoso.yml', 'utf8');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

function problemsOf(text: string, file = 'contoso.yml') {
  const parsed = parseConfigText(text, file);
  return parsed.document ? validateConfig(parsed.document, parsed.locate).problems : parsed.problems;
}

test('a misspelt key: its line and column, and the closest valid name', () => {
  const text = example.replace(/^(\s+)organization:/m, '$1organisation:');
  assert.notEqual(text, example);
  const problems = problemsOf(text);
  const problem = problems.find((p) => p.message.includes('organisation'));
  assert.ok(problem, JSON.stringify(problems));
  assert.equal(problem.path, 'deployment');
  assert.equal(problem.line, lineOf(text, 'organisation:'));
  assert.equal(problem.column, text.split('\n')[problem.line! - 1]!.indexOf('organisation') + 1);
  assert.deepEqual(problem.suggestions, ['organization']);
  assert.match(problem.message, /did you mean organization\?/);
  assert.match(problem.source!, /organisation: /);
});

test('an unknown key with no near name lists the names allowed there', () => {
  const text = example.replace(/^deployment:\n/m, 'deployment:\n  zzzzzzzzzz: 1\n');
  const problem = problemsOf(text).find((p) => p.message.includes('zzzzzzzzzz'))!;
  assert.equal(problem.line, lineOf(text, 'zzzzzzzzzz'));
  assert.equal(problem.suggestions, undefined);
  assert.match(problem.message, /the keys allowed here: .*url/);
});

test('a wrong value points at the value, a missing key at its section', () => {
  const bad = example.replace('name: CRMASYNC01', 'name: crmasync01.contoso.com');
  const value = problemsOf(bad).find((p) => p.path === 'deployment.servers.1.name')!;
  assert.equal(value.line, lineOf(bad, 'crmasync01.contoso.com'));
  assert.equal(value.column, bad.split('\n')[value.line! - 1]!.indexOf('crmasync01') + 1);
  const missing = example.replace(/^(\s+)organization:.*\n/m, '');
  const required = problemsOf(missing).find((p) => p.path === 'deployment.organization')!;
  assert.equal(required.line, lineOf(missing, 'deployment:'));
});

test('a YAML syntax error: line, column and the line quoted with a caret, not "line 3, column 1:" and nothing', () => {
  const text = 'deployment:\n  url: https://crm.contoso.com\n  servers: [CRMAPP01\n';
  const [problem] = problemsOf(text);
  assert.ok(problem);
  assert.equal(problem.path, '(file)');
  assert.ok(problem.line! >= 3, `line ${problem.line}`);
  assert.ok(problem.column! >= 1);
  assert.doesNotMatch(problem.message, /column \d+:\s*$/);
  const text2 = formatConfigProblems('contoso.yml', [problem]);
  assert.match(text2, new RegExp(`^contoso\\.yml:${problem.line}:${problem.column}: is not valid YAML: \\S`));
  const [, quoted, caret] = text2.trimEnd().split('\n').slice(-3);
  assert.match(quoted ?? text2, new RegExp(`^  ${problem.line} \\| `));
  assert.match(caret ?? '', /^\s+\| *\^$/);
});

test('a duplicate key and an unclosed quote are placed on their lines', () => {
  const dup = problemsOf('deployment:\n  url: a\n  url: b\n');
  assert.equal(dup[0]!.line, 3);
  assert.match(dup[0]!.source!, /url: b/);
});

test('a JSON config gets positions too (JSON is YAML), and a JSON syntax error its line', () => {
  const document = parseYaml(example) as Record<string, Record<string, unknown>>;
  document.deployment!.organisation = 'contoso';
  const text = JSON.stringify(document, null, 2);
  const problem = problemsOf(text, 'contoso.json').find((p) => p.message.includes('organisation'))!;
  assert.equal(problem.line, lineOf(text, '"organisation"'));
  assert.deepEqual(problem.suggestions, ['organization']);
  const broken = problemsOf('{\n  "deployment": {\n    "url": "x",,\n  }\n}\n', 'broken.json');
  assert.equal(broken[0]!.path, '(file)');
  if (broken[0]!.line !== undefined) assert.equal(broken[0]!.line, 3);
});

test('the CLI prints file:line:column, the quoted line and the caret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'd365-exo-sync-positions-'));
  const file = join(dir, 'contoso.yml');
  writeFileSync(file, example.replace(/^(\s+)organization:/m, '$1organisation:'));
  const loaded = loadConfigFile(file);
  const text = formatConfigProblems('contoso.yml', loaded.problems, 80);
  const line = lineOf(readFileSync(file, 'utf8'), 'organisation:');
  assert.match(text, new RegExp(`contoso\\.yml:${line}:\\d+: deployment: unknown key organisation: did you mean`));
  assert.match(text, new RegExp(`  ${line} \\|\\s+organisation: `));
  for (const l of text.split('\n')) assert.ok(l.length <= 80, l);
});

test('closest names: transpositions and one-letter slips, never far-off names', () => {
  assert.deepEqual(closestNames('organisation', ['organization', 'url', 'servers']), ['organization']);
  assert.deepEqual(closestNames('sevrers', ['organization', 'url', 'servers']), ['servers']);
  assert.deepEqual(closestNames('tenantt', ['organization', 'url', 'servers']), []);
});

test('a long quoted line is cut around the column so the caret stays on screen', () => {
  const source = 'x'.repeat(200) + 'HERE' + 'y'.repeat(200);
  const text = quoteLine({ line: 7, column: 201, source }, 80);
  const [quoted, caret] = text.trimEnd().split('\n');
  assert.ok(quoted!.length <= 80 && caret!.length <= 80);
  assert.equal(quoted![caret!.length - 1], 'H');
});
