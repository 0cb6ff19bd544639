/* eslint-disable no-control-regex -- the live line is drawn with terminal escape sequences */
// Progress of long waits: a live line on a terminal, a line at least every 30 s (here: every few ms) in a log or a
// pipe, task.setprogress on Azure DevOps, and a heartbeat line inside the log group on GitHub.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { elapsedText, ProgressLine } from '../../../src/hosts/progress.js';
import { CliHost } from '../../../src/hosts/cli-host.js';
import type { Logger } from '../../../src/hosts/host.js';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cli(progressTty: boolean) {
  let stderr = '';
  const host = new CliHost({
    env: {},
    stdout: () => {},
    stderr: (text) => (stderr += text),
    cwd: process.cwd(),
    columns: 60,
    progressTty,
  });
  return { host, err: () => stderr };
}

describe('progress', () => {
  it('elapsed time in words', () => {
    assert.equal(elapsedText(45_000), '45 s');
    assert.equal(elapsedText(130_000), '2 min 10 s');
    assert.equal(elapsedText(120_000), '2 min');
  });

  it('without a progress display, a heartbeat line reaches the log when nothing was said for the interval', async () => {
    const lines: string[] = [];
    const log: Logger = { debug: () => {}, info: (m) => lines.push(m), warn: () => {}, error: () => {} };
    let clock = 0;
    const line = new ProgressLine({ log }, 'Test & Enable', () => clock, 20);
    line.update('37 of 40 have a result, 1 failed', 92);
    clock = 130_000;
    await wait(120);
    line.done();
    assert.ok(lines.length >= 1, 'at least one heartbeat');
    assert.equal(lines[0], 'Test & Enable: 37 of 40 have a result, 1 failed, 2 min 10 s');
  });

  it('on a terminal: one live line, redrawn under log lines, ended by the final state', () => {
    const { host, err } = cli(true);
    const line = new ProgressLine(host, 'Test & Enable', () => 0, 60_000);
    line.update('3 of 40 have a result', 7);
    host.log.info('a log line');
    line.update('40 of 40 have a result', 100);
    line.done('40 of 40 have a result');
    const out = err();
    assert.match(out, /^\r\x1b\[2KTest & Enable: 3 of 40 have a result, 0 s/);
    assert.match(out, /\r\x1b\[2Ka log line\nTest & Enable: 3 of 40 have a result, 0 s/);
    assert.ok(out.endsWith('\r\x1b[2KTest & Enable: 40 of 40 have a result, 0 s\n'));
  });

  it('in a pipe: no live line, only the heartbeat lines', async () => {
    const { host, err } = cli(false);
    const line = new ProgressLine(host, 'Test & Enable', () => 0, 20);
    line.update('3 of 40 have a result', 7);
    assert.equal(err(), '');
    await wait(120);
    line.done();
    assert.match(err(), /^Test & Enable: 3 of 40 have a result, 0 s\n/);
    assert.doesNotMatch(err(), /\r|\x1b/);
  });

  it('Azure DevOps: task.setprogress with the percentage, and a heartbeat line', async () => {
    // The task lib keeps its vault key in the agent's temp folder: give it one, so no .taskkey lands in the repo.
    process.env.AGENT_TEMPDIRECTORY ??= mkdtempSync(join(tmpdir(), 'd365-exo-sync-agent-'));
    const { AzureHost } = await import('../../../src/hosts/azure.js');
    let out = '';
    const host = new AzureHost((text) => (out += text));
    host.progress({
      title: 'Test & Enable',
      detail: 'x',
      elapsedMs: 0,
      text: 'Test & Enable: 37 of 40; ##vso[x]',
      percent: 92.4,
      kind: 'update',
    });
    host.progress({
      title: 'Test & Enable',
      detail: 'x',
      elapsedMs: 0,
      text: 'Test & Enable: 37 of 40',
      percent: 92,
      kind: 'heartbeat',
    });
    const lines = out.trim().split('\n');
    assert.equal(lines[0], '##vso[task.setprogress value=92;]Test & Enable: 37 of 40  ## vso[x ');
    assert.equal(lines[1], '##vso[task.setprogress value=92;]Test & Enable: 37 of 40');
    assert.equal(lines[2], 'Test & Enable: 37 of 40');
  });

  it('GitHub: the heartbeat is a plain log line (inside the phase group), never a workflow command', async () => {
    const { GitHubHost } = await import('../../../src/hosts/github.js');
    const host = new GitHubHost({});
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      host.progress({ title: 'T', detail: 'd', elapsedMs: 0, text: '::error::T: d, 0 s', kind: 'heartbeat' });
      host.progress({ title: 'T', detail: 'd', elapsedMs: 0, text: 'T: d, 0 s', kind: 'update' });
    } finally {
      process.stdout.write = original;
    }
    assert.deepEqual(written.join('').trim().split('\n'), [': :error::T: d, 0 s']);
  });
});
