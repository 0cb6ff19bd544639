// Benchmark: PowerShell processes per Windows phase per server. Each Windows phase runs through the invoker on each
// server it runs on (install-certificate on every D365 server, configure-crm on the Deployment Tools server,
// configure-adfs on the AD FS server), in plan and apply mode, against a fresh fake Windows server (the module's
// Windows cmdlets replaced by the sandbox's fake Windows server), counting the processes with onSpawn. The
// target is exactly one process per phase per server. Baselines measured in the same run: the steps each run
// performed (what a process per step would start) and a bare PowerShell start (pwsh -NoProfile -Command exit).
//
//   node --import tsx bench/powershell.bench.ts [runs-of-bare-start]
//
// Not a test: nothing asserts; the target is printed next to the figures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigSchema } from '../src/config/schema.js';
import { createWindowsServices } from '../src/phases/windows/powershell-service.js';
import { findPhase } from '../src/phases/registry.js';
import type { PhaseContext } from '../src/phases/phase.js';
import { resolvePowerShell } from '../src/powershell/index.js';
import { FAKE_SERVER_MODULE_PATH } from '@d365-exo-sync/sandbox';
import { makeTestPfx } from '../test/integration/powershell/helpers.js';
import { TestHost } from '../test/support/test-host.js';

const bareRuns = Number(process.argv[2] ?? 5);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'd365-bench-powershell-'));
const pwsh = resolvePowerShell();

// The bare start: the least any phase can cost.
const bare: number[] = [];
for (let i = 0; i < bareRuns; i++) {
  const started = performance.now();
  spawnSync(pwsh.command, [...pwsh.prefixArgs, '-NoProfile', '-NonInteractive', '-Command', 'exit 0'], {
    stdio: 'ignore',
  });
  bare.push(performance.now() - started);
}
const bareMs = median(bare);

const config = ConfigSchema.parse(parse(readFileSync(new URL('../examples/contoso.yml', import.meta.url), 'utf8')));
const organizationId = '0c0c0c0c-0000-4000-8000-000000000001';
const certificate = makeTestPfx('crm.contoso.com');

interface Run {
  phase: string;
  server: string;
  mode: 'plan' | 'apply';
  processes: number;
  steps: number;
  ms: number;
  status: string;
}

const servers: [string, string][] = [
  ...config.deployment.servers.map((s): [string, string] => ['install-certificate', s.name]),
  ['configure-crm', config.deployment.servers.find((s) => s.roles.includes('deployment-tools'))!.name],
  ['configure-adfs', config.adfs!.server],
];

const runs: Run[] = [];
for (const [phaseId, server] of servers) {
  const stateFile = join(dir, `${phaseId}-${server}.json`);
  for (const mode of ['plan', 'apply'] as const) {
    let processes = 0;
    const host = new TestHost();
    const windows = createWindowsServices(
      host,
      { ...process.env, FAKE_WINDOWS_STATE_FILE: stateFile },
      {
        modulePath: FAKE_SERVER_MODULE_PATH,
        computerName: server,
        tempRoot: dir,
        onSpawn: () => void processes++,
      },
    );
    const ctx: PhaseContext = {
      config,
      host,
      inputs: phaseId === 'configure-adfs' ? { 'organization-id': organizationId } : {},
      now: new Date(),
      certificate: { pfx: certificate.pfx, password: certificate.password, source: 'bench certificate' },
      services: { windows },
    };
    const phase = findPhase(phaseId)!;
    const started = performance.now();
    let steps = 0;
    let status = 'succeeded';
    try {
      if (mode === 'plan') steps = (await phase.plan(ctx)).length;
      else {
        const outcome = await phase.apply(ctx);
        steps = outcome.results.length;
        if (outcome.results.some((r) => r.status === 'failed')) status = 'failed';
      }
    } catch (error) {
      status = `error: ${(error as Error).message.slice(0, 60)}`;
    }
    runs.push({ phase: phaseId, server, mode, processes, steps, ms: performance.now() - started, status });
  }
  writeFileSync(stateFile, '');
}
rmSync(dir, { recursive: true, force: true });

console.log(
  `PowerShell: ${pwsh.source.replace(/\s+(\/|[A-Za-z]:\\).*$/, '')}; bare start (baseline, median of ${bareRuns}): ${bareMs.toFixed(0)} ms`,
);
const rows = [
  ['phase', 'server', 'mode', 'processes', 'target', 'steps', 'steps/process', 'wall ms', '× bare start', 'result'],
  ...runs.map((r) => [
    r.phase,
    r.server,
    r.mode,
    String(r.processes),
    r.processes === 1 ? '1 MET' : '1 MISSED',
    String(r.steps),
    r.processes ? (r.steps / r.processes).toFixed(1) : '—',
    r.ms.toFixed(0),
    (r.ms / bareMs).toFixed(2),
    r.status,
  ]),
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
const all = runs.every((r) => r.processes === 1);
console.log(
  `\nprocesses per Windows phase per server: ${all ? 'exactly 1 in every run (target MET)' : 'target MISSED'}`,
);
