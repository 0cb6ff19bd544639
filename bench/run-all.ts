// npm run bench: the four benchmarks in sequence, each in its own process (so one's heap and handles do not bend
// another's figures), with the machine they ran on. Copy the output into bench/RESULTS.md to compare later runs.
//   mailboxes   configure-mailboxes at scale against the per-mailbox baseline (round trips, wall-time ratio)
//   packages    each bundle's cold start against `node -e 0`, and its size
//   powershell  PowerShell processes per Windows phase per server (target exactly 1), against a bare pwsh start
//   plan        `plan` on the example config against `node -e 0`
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BENCHMARKS: [string, string[]][] = [
  ['mailboxes', ['bench/mailboxes.bench.ts']],
  ['packages', ['bench/packages.bench.ts']],
  ['powershell', ['bench/powershell.bench.ts']],
  ['plan', ['bench/plan.bench.ts']],
];

const only = process.argv.slice(2);
console.log(`# d365-exo-sync benchmarks, ${new Date().toISOString().slice(0, 10)}`);
console.log(
  `machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, node ${process.version}, ${process.platform}/${process.arch}`,
);
let failed = 0;
for (const [name, args] of BENCHMARKS) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n## ${name}\n`);
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: 'inherit' });
  console.log(`\n(${name}: ${((performance.now() - started) / 1000).toFixed(0)} s, exit ${result.status})`);
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
