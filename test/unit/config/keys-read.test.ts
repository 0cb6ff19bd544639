// Every key of the config file does something: the test walks the schema (its JSON Schema form) and, for each
// key, finds the code that reads it — a property access or a destructuring outside src/config, in the TypeScript
// or the PowerShell module. A key that nothing reads (as retire.serverCertificates once was) fails here; a key
// kept only so old configs load must say so in its description, and its reader is the warning that says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { configJsonSchema } from '../../../src/config/json-schema.js';

const root = new URL('../../../', import.meta.url).pathname;

function files(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path, pattern));
    else if (pattern.test(name)) out.push(path);
  }
  return out;
}

interface Key {
  path: string;
  name: string;
}

/** Every property of the schema with its dotted path (union members merged). */
function keysOf(schema: Record<string, unknown>, prefix = ''): Key[] {
  const keys: Key[] = [];
  const variants = [schema, ...((schema.oneOf ?? schema.anyOf ?? []) as Record<string, unknown>[])];
  const items = schema.items as Record<string, unknown> | undefined;
  if (items) keys.push(...keysOf(items, `${prefix}[]`));
  for (const variant of variants) {
    const properties = (variant.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, child] of Object.entries(properties)) {
      const path = prefix ? `${prefix}.${name}` : name;
      keys.push({ path, name }, ...keysOf(child, path));
    }
  }
  return [...new Map(keys.map((k) => [k.path, k])).values()];
}

const sources = [
  ...files(join(root, 'src'), /\.ts$/).filter((path) => !relative(root, path).startsWith('src/config/')),
  ...files(join(root, 'powershell'), /\.ps1$|\.psm1$/),
].map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));

function readers(name: string): string[] {
  const escaped = name.replace(/\$/g, '\\$');
  const access = new RegExp(`\\.${escaped}\\b|\\[['"]${escaped}['"]\\]|\\{[^}=]*\\b${escaped}\\b[^}=]*\\}\\s*=(?!>)`);
  return sources.filter((source) => access.test(source.text)).map((source) => source.path);
}

// Keys the toolkit itself has no use for, by design.
const NOT_READ_BY_DESIGN: Record<string, string> = {
  $schema: 'for editors: the path of config.schema.json',
};

// Found by this test and left to the pipelines' owner: the workflows and the Azure DevOps stages take runner labels
// and environment resources from their own matrix, not from the config. The test fails when this list is out of
// date in either direction.
const KNOWN_UNREAD: Record<string, string> = {
  'deployment.servers[].runnerLabel':
    'pipelines: wire it into the generated runner matrix, or say in its description that the workflows do not read it',
};

test('every config key has code that reads it', () => {
  const keys = keysOf(configJsonSchema());
  assert.ok(keys.length > 60, `the walk found ${keys.length} keys`);
  const unread = keys.filter((key) => !(key.name in NOT_READ_BY_DESIGN) && readers(key.name).length === 0);
  assert.deepEqual(
    unread.map((key) => key.path),
    Object.keys(KNOWN_UNREAD),
    'config keys that no code reads: make them do what their description says, or say in it that they do nothing',
  );
});

test('keys kept only for compatibility say so, and their reader is the warning', () => {
  const retire = (configJsonSchema().properties as Record<string, Record<string, unknown>>).retire!;
  const serverCertificates = (retire.properties as Record<string, { description: string }>).serverCertificates!;
  assert.match(serverCertificates.description, /^No effect/);
  assert.deepEqual(readers('serverCertificates'), ['src/phases/retire-previous.ts']);
});
