// The installed command as a separate process (bin/d365-exo-sync.js, which loads the dist/cli.js bundle), for the
// tests that kill it in the middle of a phase: the bundle of the current sources in a layout on the sandbox's fake
// Windows server (test/support/fake-server-cli.ts), built once per test process, so a direct
// `node --test test/reliability/...` run tests the current code as `npm test` does.
import { spawn, type ChildProcess } from 'node:child_process';
import { fakeServerBin } from '../../support/fake-server-cli.js';

/** bin/d365-exo-sync.js with a dist/cli.js built from the current sources, on the fake servers. */
export function builtCli(): string {
  return fakeServerBin();
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `d365-exo-sync <argv>` as its own process with exactly `env` (plus PATH). */
export function spawnCli(argv: string[], env: NodeJS.ProcessEnv, cwd: string): CliProcess {
  const child = spawn(process.execPath, [builtCli(), ...argv], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs` with `what`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a process with this pid is still running. */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
