/* eslint-disable @typescript-eslint/no-explicit-any -- the cases mutate arbitrary parsed YAML documents */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateConfig, parseConfigText } from '../../../src/config/load.js';
import { configJsonSchemaText } from '../../../src/config/json-schema.js';
import { BAD_CONFIGS } from './bad-configs.js';

const example = () => parse(readFileSync('examples/contoso.yml', 'utf8')) as Record<string, any>;

function problemsOf(mutate: (doc: any) => void) {
  const doc = example();
  mutate(doc);
  return validateConfig(doc).problems;
}

test('the example config is valid and gets its defaults', () => {
  const { config, problems } = validateConfig(example());
  assert.deepEqual(problems, []);
  assert.equal(config?.deployment.webApi.auth, 'windows');
  assert.equal(config?.deployment.webApi.batchSize, 100);
  assert.equal(config?.tenant.cloud, 'public');
  assert.equal(config?.email.mailboxes.poll.intervalSeconds, 30);
});

test('config.schema.json is what the schema generates (run npm run generate)', () => {
  assert.equal(readFileSync('config.schema.json', 'utf8'), configJsonSchemaText());
});

const BAD = BAD_CONFIGS;

for (const [name, mutate, path, message] of BAD) {
  test(`bad config: ${name} → ${path}`, () => {
    const problems = problemsOf(mutate);
    const hit = problems.find((p) => p.path === path);
    assert.ok(hit, `expected a problem at ${path}, got ${JSON.stringify(problems)}`);
    assert.match(hit.message, message);
  });
}

test('a pasted character is reported once, not also as a format error of the same field', () => {
  const problems = problemsOf((d) => (d.tenant.id = '\u201C11111111-2222-3333-4444-555555555555\u201D'));
  assert.equal(problems.filter((p) => p.path === 'tenant.id').length, 1);
});

test('YAML syntax errors and duplicate keys are problems of the file', () => {
  assert.match(parseConfigText('deployment: [\n', 'bad.yml').problems[0]!.message, /not valid YAML/);
  assert.match(parseConfigText('a: 1\na: 2\n', 'dup.yml').problems[0]!.message, /not valid YAML/);
  assert.match(parseConfigText('{"a":', 'bad.json').problems[0]!.message, /not valid JSON/);
  assert.match(parseConfigText('  \n', 'empty.yml').problems[0]!.message, /empty/);
});
