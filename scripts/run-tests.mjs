// Runs every TypeScript test file (test/**/*.test.ts) under Node's own test runner, with tsx for TypeScript.
// Node 20's --test takes no glob patterns, so the files are collected here.
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

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = roots.flatMap((root) => (statSync(root).isDirectory() ? collect(root) : [root]));
if (files.length === 0) {
  console.error('No test files found under ' + roots.join(', '));
  process.exit(1);
}
console.log(`Running ${files.length} test files: ${files.map((f) => relative('.', f)).join(' ')}`);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
