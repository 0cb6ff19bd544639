// The unit lane's guard (scripts/unit-lane-guard.mjs) fails a test file that starts a process or opens
// a socket, even when the test catches the error, and lets a pure one pass. Each case runs a small test
// file under Node's test runner exactly as `npm run test:unit` does.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'unit-lane-guard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// This file itself runs inside a test runner's child; the nested runner must not think it is one.
const runnerEnv = { ...process.env };
delete runnerEnv.NODE_TEST_CONTEXT;

function runInUnitLane(name: string, body: string): { status: number | null; output: string } {
  const file = join(dir, name);
  writeFileSync(file, `import { test } from 'node:test';\n${body}\n`);
  const result = spawnSync(process.execPath, ['--import', join(ROOT, 'scripts/unit-lane-guard.mjs'), '--test', file], {
    cwd: ROOT,
    encoding: 'utf8',
    env: runnerEnv,
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('unit lane guard', () => {
  it('lets a pure test pass', () => {
    const { status, output } = runInUnitLane(
      'pure.test.mjs',
      "test('adds', () => { if (1 + 1 !== 2) throw new Error('no'); });",
    );
    assert.equal(status, 0, output);
  });

  it('fails a test that starts a process through a named import', () => {
    const { status, output } = runInUnitLane(
      'spawns.test.mjs',
      "import { spawnSync } from 'node:child_process';\ntest('spawns', () => { spawnSync('true'); });",
    );
    assert.notEqual(status, 0, output);
    assert.match(output, /child_process\.spawnSync\(\) in the unit lane/);
  });

  it('fails the file even when the test swallows the error', () => {
    const { status, output } = runInUnitLane(
      'swallows.test.mjs',
      "import { execFile } from 'node:child_process';\ntest('hides it', () => { try { execFile('true'); } catch {} });",
    );
    assert.notEqual(status, 0, output);
    assert.match(output, /unit-lane guard: 1 refused/);
  });

  it('fails a test that opens a server socket or connects one', () => {
    const listens = runInUnitLane(
      'listens.test.mjs',
      "import { createServer } from 'node:http';\ntest('listens', () => { createServer().listen(0, '127.0.0.1'); });",
    );
    assert.notEqual(listens.status, 0, listens.output);
    assert.match(listens.output, /a server listen in the unit lane/);

    const fetches = runInUnitLane(
      'fetches.test.mjs',
      "test('fetches', async () => { await fetch('http://127.0.0.1:8089/'); });",
    );
    assert.notEqual(fetches.status, 0, fetches.output);
    assert.match(fetches.output, /a socket connect in the unit lane/);
  });
});
