// The Azure DevOps pipelines checked against Microsoft's own Azure Pipelines YAML schema (the one the
// Azure Pipelines extension validates with; fixture and provenance in fixtures/azure-pipelines-schema),
// extended with this extension's tasks the way an organization's schema lists its installed tasks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  getLanguageService,
  parse as parseYaml,
  TextDocument,
  type JSONSchema,
} from 'azure-pipelines-language-service';
import { ROOT } from '../../scripts/packages.js';

type Json = Record<string, unknown>;
type TaskInput = { name: string; type: string; required?: boolean; options?: Record<string, string> };
type TaskJson = { name: string; version: { Major: number }; inputs: TaskInput[] };

const SCHEMA_FILE = join(ROOT, 'test', 'packaging', 'fixtures', 'azure-pipelines-schema', 'service-schema.json');

function ourTasks(): TaskJson[] {
  const dir = join(ROOT, 'tasks');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => JSON.parse(readFileSync(join(dir, d.name, 'task.json'), 'utf8')) as TaskJson);
}

/** One task's entry in the same shape as the built-in ones in Microsoft's schema. */
function taskEntry(task: TaskJson): Json {
  const ref = `${task.name}@${task.version.Major}`;
  const properties: Json = {};
  for (const input of task.inputs) {
    if (input.type === 'boolean') properties[input.name] = { type: 'boolean' };
    else if (input.type.toLowerCase() === 'picklist' && input.options)
      properties[input.name] = { enum: Object.keys(input.options), ignoreCase: 'all' };
    else properties[input.name] = { type: 'string', ignoreCase: 'key' };
  }
  const required = task.inputs.filter((i) => i.required).map((i) => i.name);
  return {
    properties: {
      task: { pattern: `^${ref}$`, ignoreCase: 'value' },
      inputs: { properties, additionalProperties: false, required },
    },
    firstProperty: ['task'],
    required: required.length ? ['task', 'inputs'] : ['task'],
  };
}

function organizationSchema(): Json {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Json;
  const task = (schema.definitions as Record<string, Json>).task as {
    properties: { task: { anyOf: Json[] } };
    anyOf: Json[];
  };
  for (const t of ourTasks()) {
    task.properties.task.anyOf.push({ enum: [`${t.name}@${t.version.Major}`], ignoreCase: 'value' });
    task.anyOf.push(taskEntry(t));
  }
  return schema;
}

/** Microsoft's Azure Pipelines language service (the validator of the Azure Pipelines extension). */
async function validate(text: string): Promise<string[]> {
  const schema = organizationSchema() as JSONSchema;
  const service = getLanguageService(async () => schema, [], null as never);
  service.configure({ validate: true, schemas: [{ uri: 'inmemory://azure-pipelines', fileMatch: ['*'], schema }] });
  const document = TextDocument.create('file:///pipeline.yml', 'azure-pipelines', 1, text);
  const diagnostics = await service.doValidation(document, parseYaml(text));
  return diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
}

function pipelines(): string[] {
  const dir = join(ROOT, 'workflows', 'azure');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(dir, f));
}

/**
 * The pipeline as Azure DevOps validates it: compile-time `${{ parameters.NAME }}` values expanded
 * (the service expands templates before it checks task inputs; the editor alone would flag a pickList
 * input given an expression), once per allowed value of each parameter that lists its values.
 * Values go in as quoted YAML scalars; runtime macros `$(…)` stay as text, as they do there.
 */
function expanded(text: string): string[] {
  const parameters = ((parse(text) as Json).parameters ?? []) as {
    name: string;
    default?: unknown;
    values?: unknown[];
  }[];
  const scalar = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  const fill = (chosen: Map<string, string>) =>
    text.replace(/\$\{\{\s*parameters\.([A-Za-z0-9_]+)\s*\}\}/g, (whole, name: string) =>
      chosen.has(name) ? JSON.stringify(chosen.get(name)) : whole,
    );
  const defaults = new Map(
    parameters.flatMap((p) => (scalar(p.default) === undefined ? [] : [[p.name, scalar(p.default)!]])),
  );
  const variants = [fill(defaults)];
  for (const p of parameters)
    for (const value of p.values ?? []) variants.push(fill(new Map([...defaults, [p.name, String(value)]])));
  return [...new Set(variants)];
}

describe("Azure Pipelines YAML schema (Microsoft's language service and service-schema.json)", () => {
  for (const file of pipelines()) {
    it(`${file.slice(ROOT.length + 1)} has no problem`, async () => {
      for (const text of expanded(readFileSync(file, 'utf8'))) assert.deepEqual(await validate(text), []);
    });
  }

  it('catches a misspelt key, an input a task does not declare and a value its pickList does not offer', async () => {
    const text = readFileSync(
      pipelines().find((f) => f.endsWith('renewal.yml'))!,
      'utf8',
    );
    const once = (from: RegExp, to: string) => {
      const changed = text.replace(from, to);
      assert.notEqual(changed, text, `the mutation ${from} applies`);
      return changed;
    };
    const misspelt = await validate(once(/^(\s+)timeoutInMinutes:/m, '$1timeoutInMinute:'));
    assert.ok(
      misspelt.some((m) => /timeoutInMinute\b/.test(m)),
      misspelt.join('\n'),
    );
    const unknownInput = await validate(once(/^(\s+)config: (.*)$/m, '$1config: $2\n$1pfxPasword: x'));
    assert.ok(
      unknownInput.some((m) => /pfxPasword/.test(m)),
      unknownInput.join('\n'),
    );
    const badValue = await validate(once(/^(\s+)mode: .*$/m, '$1mode: aply'));
    assert.ok(badValue.length > 0, 'mode: aply is refused');
  });
});
