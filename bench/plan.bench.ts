// Benchmark: `d365-exo-sync plan --config examples/contoso.yml` (the README's first command) as the installed
// command runs it (node bin/d365-exo-sync.js, the dist/cli.js bundle), against an empty Node process measured in
// the same run. Two figures: the plan as a user gets it (every phase asks for its current state: Entra ID and the
// D365 Web API of the example are not reachable from here, so it reports why for each), and the same plan with no
// PowerShell to find (D365_EXO_SYNC_PWSH naming nothing), which isolates what the Web API reads through PowerShell
// cost. The environment is empty apart from PATH and HOME: no pipeline, no secrets.
//
//   node --import tsx bench/plan.bench.ts [runs]
//
// Not a test: nothing asserts on time.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 5);
const root = fileURLToPath(new URL('..', import.meta.url));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);

function time(args: string[], env: NodeJS.ProcessEnv = {}): { ms: number; status: number | null; stdout: string } {
  const samples: number[] = [];
  let last: ReturnType<typeof spawnSync> | undefined;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    last = spawnSync(process.execPath, args, {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
    });
    samples.push(performance.now() - started);
  }
  return { ms: median(samples), status: last!.status, stdout: String(last!.stdout) };
}

const plan = ['bin/d365-exo-sync.js', 'plan', '--config', 'examples/contoso.yml'];
const baseline = time(['-e', '0']);
const asShipped = time(plan);
const withoutPowerShell = time(plan, { D365_EXO_SYNC_PWSH: join(root, 'no-such-pwsh') });

const unreachable = (out: string) => (out.match(/cannot plan from here/g) ?? []).length;
console.log(`node ${process.version}, ${runs} runs each (median)`);
const rows = [
  ['command', 'wall ms', '× node -e 0', 'exit', 'phases that could not plan from here'],
  ['node -e 0 (baseline)', baseline.ms.toFixed(0), '1.0', String(baseline.status), '—'],
  [
    'plan --config examples/contoso.yml',
    asShipped.ms.toFixed(0),
    (asShipped.ms / baseline.ms).toFixed(1),
    String(asShipped.status),
    String(unreachable(asShipped.stdout)),
  ],
  [
    '  same, no PowerShell found',
    withoutPowerShell.ms.toFixed(0),
    (withoutPowerShell.ms / baseline.ms).toFixed(1),
    String(withoutPowerShell.status),
    String(unreachable(withoutPowerShell.stdout)),
  ],
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
