// Runs every TypeScript test file (test/**/*.test.ts) under Node's own test runner, with tsx for TypeScript.
// Node 20's --test takes no glob patterns, so the files are collected here.
// --unit: the pure lane (test/unit), where scripts/unit-lane-guard.mjs fails a test file that starts a
// process or opens a socket.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...collect(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const args = process.argv.slice(2);
const unitLane = args.includes('--unit');
const given = args.filter((arg) => arg !== '--unit');
const roots = given.length ? given : [unitLane ? 'test/unit' : 'test'];
const files = roots.flatMap((root) => (statSync(root).isDirectory() ? collect(root) : [root]));
if (files.length === 0) {
  console.error('No test files found under ' + roots.join(', '));
  process.exit(1);
}
console.log(`Running ${files.length} test files: ${files.map((f) => relative('.', f)).join(' ')}`);
const guard = unitLane ? ['--import', './scripts/unit-lane-guard.mjs'] : [];
const result = spawnSync(process.execPath, ['--import', 'tsx', ...guard, '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
