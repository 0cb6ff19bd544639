// The README's dependency table names every package package.json declares, and declares every package
// it names: a dependency is there because the code uses it, and the README says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Package names in backticks in the first column of the README's "Dependencies" table. */
function namedInReadme(): Set<string> {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('\n## Dependencies\n'));
  const table = section.slice(0, section.indexOf('\n## ', 1));
  const names = new Set<string>();
  for (const line of table.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const firstColumn = line.split('|')[1]!;
    for (const [, name] of firstColumn.matchAll(/`([^`]+)`/g)) names.add(name!);
  }
  return names;
}

test('the README dependency table and package.json name the same packages', () => {
  const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]);
  const named = namedInReadme();
  assert.deepEqual(
    [...declared].filter((name) => !named.has(name)),
    [],
    'declared in package.json but not in the README',
  );
  assert.deepEqual(
    [...named].filter((name) => !declared.has(name)),
    [],
    'in the README but not declared in package.json',
  );
});
