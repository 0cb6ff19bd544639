// The private temporary folder of one PowerShell call: created 0700, files 0600 (readable by the current user
// only), made in the host's temp folder (RUNNER_TEMP / Agent.TempDirectory, which the runner empties after every job,
// so even a killed run leaves nothing there for long), removed in every outcome. A hook on
// process exit removes folders still open when Node goes down before a call could clean up; while a folder is open,
// SIGINT, SIGTERM and SIGHUP (a cancelled pipeline run: the runner and the agent send them before they kill)
// remove it too, then end the process as the signal would have. Only SIGKILL leaves it behind.
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const open = new Set<string>();
let hooked = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let signalsHooked = false;

function onSignal(signal: NodeJS.Signals): void {
  removeOpen();
  unhookSignals();
  // Nothing of ours is left on disk: end as the signal means to (the runner reads the run as cancelled).
  process.kill(process.pid, signal);
}

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function unhookSignals(): void {
  if (!signalsHooked) return;
  signalsHooked = false;
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

function removeOpen(): void {
  for (const dir of open) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort while exiting
    }
  }
  open.clear();
}

export class Workspace {
  private constructor(readonly dir: string) {}

  static create(root?: string): Workspace {
    const dir = mkdtempSync(join(root ?? tmpdir(), 'd365-exo-sync-ps-'));
    chmodSync(dir, 0o700);
    open.add(dir);
    hookSignals();
    if (!hooked) {
      hooked = true;
      process.once('exit', removeOpen);
    }
    return new Workspace(dir);
  }

  /** Writes a file readable and writable by the current user only (created with that mode, no window). */
  write(name: string, content: string | Buffer): string {
    const path = join(this.dir, name);
    writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
    return path;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
    open.delete(this.dir);
    if (open.size === 0) unhookSignals();
  }
}
