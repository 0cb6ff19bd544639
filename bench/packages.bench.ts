// Start time and size of the pipeline bundles, against a baseline measured in the same run: an empty
// Node process. "start" runs a bundle without inputs (it loads everything, then fails the step on the
// missing config input); the difference to the baseline is what the bundle costs a pipeline step.
// Run: node --import tsx bench/packages.bench.ts [runs]
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from '../scripts/packages.js';
import { ACTION_MAIN, TASK_TARGET } from '../src/pipeline/manifests.js';
import { PHASES } from '../src/phases/registry.js';

const runs = Number(process.argv[2] ?? 7);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(args: string[], env: NodeJS.ProcessEnv): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    spawnSync(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
}

const baseline = time(['-e', ''], {});
const rows: string[][] = [['bundle', 'size KB', 'start ms (median)', 'over baseline ms', '× baseline']];
for (const phase of PHASES) {
  const bundles: [string, NodeJS.ProcessEnv][] = [
    [join('actions', phase.id, ACTION_MAIN), { RUNNER_TEMP: tmpdir(), GITHUB_OUTPUT: '', GITHUB_STEP_SUMMARY: '' }],
    [join('tasks', phase.id, TASK_TARGET), { AGENT_TEMPDIRECTORY: tmpdir() }],
  ];
  for (const [file, env] of bundles) {
    const ms = time([join(ROOT, file)], env);
    rows.push([
      file,
      (statSync(join(ROOT, file)).size / 1024).toFixed(0),
      ms.toFixed(0),
      (ms - baseline).toFixed(0),
      (ms / baseline).toFixed(1),
    ]);
  }
}
console.log(`node ${process.version}, ${runs} runs each; baseline (empty node process): ${baseline.toFixed(0)} ms`);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
