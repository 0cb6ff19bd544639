// Runs one phase of the static PowerShell module in one PowerShell process: parameters in as a JSON file,
// secrets only in that process's environment, output streamed line by line (masked), result back as a JSON file.
//
// node:child_process rather than @actions/exec: the invoker must own the child (its pid, to kill the whole process
// tree on timeout or when the parent fails) and must never echo a command line; @actions/exec returns only the exit
// code and has no way to kill what it started. Nothing here goes through a shell.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { defaultModulePath, ENTRY_SCRIPT, resolvePowerShell } from './resolve.js';
import {
  POWERSHELL_PHASES,
  PowerShellPhaseError,
  PowerShellTimeoutError,
  type PhaseScriptError,
  type PhaseScriptResult,
  type PowerShellInvocation,
  type PowerShellRuntime,
} from './types.js';
import { Workspace } from './workspace.js';

export const ERROR_MARKER = 'D365EXOSYNC-ERROR ';
const SECRET_ENV_PREFIX = 'D365EXOSYNC_SECRET_';
const STDERR_TAIL = 20;
const KILL_GRACE_MS = 5_000;

/** The child's environment: the parent's, minus pipeline inputs and earlier secret slots, plus this call's secrets. */
function childEnvironment(base: NodeJS.ProcessEnv, secretEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    // GitHub hands action inputs (secrets included) to the action as INPUT_*: they are not the child's business.
    if (/^INPUT_/i.test(name) || name.toUpperCase().startsWith(SECRET_ENV_PREFIX)) continue;
    env[name] = value;
  }
  env.POWERSHELL_TELEMETRY_OPTOUT = '1';
  env.POWERSHELL_UPDATECHECK = 'Off';
  env.NO_COLOR = '1';
  return { ...env, ...secretEnv };
}

function killTree(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (process.platform === 'win32') {
    spawnSync('taskkill', ['/PID', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    return;
  }
  try {
    // The child leads its own process group (detached): the whole tree goes.
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: Buffer): void {
    this.rest += this.decoder.write(chunk);
    const lines = this.rest.split(/\r?\n/);
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
  }
  end(): void {
    this.rest += this.decoder.end();
    if (this.rest) this.emit(this.rest);
    this.rest = '';
  }
}

function readResult(path: string): PhaseScriptResult | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  if (!text.trim()) return undefined;
  const parsed = JSON.parse(text) as PhaseScriptResult;
  // Windows PowerShell's ConvertTo-Json writes what it is given; make the lists lists.
  parsed.steps = Array.isArray(parsed.steps) ? parsed.steps : parsed.steps ? [parsed.steps] : [];
  parsed.warnings = Array.isArray(parsed.warnings) ? parsed.warnings : parsed.warnings ? [parsed.warnings] : [];
  parsed.evidence ??= {};
  return parsed;
}

function describe(detail: PhaseScriptError): string {
  return `PowerShell phase ${detail.phase} failed at step '${detail.step}' on ${detail.server}: ${detail.message}`;
}

function validate(inv: PowerShellInvocation): void {
  if (!POWERSHELL_PHASES.includes(inv.phase)) throw new Error(`Unknown PowerShell phase '${String(inv.phase)}'`);
  if (inv.mode !== 'plan' && inv.mode !== 'apply')
    throw new Error(`Unknown mode '${String(inv.mode)}' (plan or apply)`);
  if (!Number.isFinite(inv.timeoutMs) || inv.timeoutMs <= 0) throw new Error('timeoutMs must be a positive number');
  for (const name of Object.keys(inv.secrets ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name))
      throw new Error(`Secret parameter name '${name}' is not a PowerShell parameter name`);
    if (Object.keys(inv.parameters).some((key) => key.toLowerCase() === name.toLowerCase())) {
      throw new Error(`'${name}' is given both as a parameter and as a secret`);
    }
  }
}

/**
 * Runs one phase in one PowerShell process and returns its parsed result. Rejects (never resolves) when the script
 * exits non-zero, writes no result, reports ok = false, times out, is killed, or when anything in this process fails
 * while it runs; the temporary folder (parameter file, PFX, result) is removed in every one of those outcomes.
 */
export async function invokePowerShellPhase(
  inv: PowerShellInvocation,
  rt: PowerShellRuntime,
): Promise<PhaseScriptResult> {
  validate(inv);
  const powershell = resolvePowerShell({
    ...(rt.pwshPath ? { pwshPath: rt.pwshPath } : {}),
    ...(rt.env ? { env: rt.env } : {}),
  });
  const modulePath = rt.modulePath ?? defaultModulePath();
  const entry = join(modulePath, ENTRY_SCRIPT);
  if (!existsSync(entry)) throw new Error(`PowerShell entry script not found: ${entry}`);

  const secretValues = Object.values(inv.secrets ?? {}).filter((value) => value.length > 0);
  const maskLine = (line: string): string => {
    let text = line;
    for (const value of secretValues) text = text.split(value).join('***');
    return rt.mask(text);
  };

  const workspace = Workspace.create(rt.tempRoot);
  let child: ChildProcess | undefined;
  try {
    const secretEnv: Record<string, string> = {};
    const secretSlots: Record<string, string> = {};
    Object.entries(inv.secrets ?? {}).forEach(([name, value], index) => {
      const variable = `${SECRET_ENV_PREFIX}${index + 1}`;
      secretEnv[variable] = value;
      secretSlots[name] = variable;
    });
    const request: Record<string, unknown> = {
      phase: inv.phase,
      mode: inv.mode,
      parameters: inv.parameters,
      secretEnv: secretSlots,
    };
    if (inv.pfx) request.pfxPath = workspace.write('certificate.pfx', inv.pfx);
    const parameterFile = workspace.write('parameters.json', JSON.stringify(request));
    const resultFile = workspace.path('result.json');

    const args = [
      ...powershell.prefixArgs,
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-File',
      entry,
      '-ParameterFile',
      parameterFile,
      '-ResultFile',
      resultFile,
    ];

    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string[] }>(
      (resolvePromise, reject) => {
        let settled = false;
        let failure: Error | undefined;
        const stderrTail: string[] = [];
        // On failure the process tree is killed and the promise rejects once the child is gone (at most a few
        // seconds later), so nothing of it outlives the call and its files can be removed.
        const fail = (error: unknown): void => {
          if (settled || failure) return;
          failure = error instanceof Error ? error : new Error(String(error));
          clearTimeout(timer);
          if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
            settled = true;
            reject(failure);
            return;
          }
          killTree(child);
          setTimeout(() => {
            if (settled) return;
            settled = true;
            reject(failure);
          }, KILL_GRACE_MS).unref();
        };
        const deliver = (stream: 'stdout' | 'stderr') => (line: string) => {
          if (settled || failure) return;
          try {
            const masked = maskLine(line);
            if (stream === 'stderr') {
              stderrTail.push(masked);
              if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
            }
            rt.onLine(masked, stream);
          } catch (error) {
            fail(error);
          }
        };
        const timer = setTimeout(() => {
          fail(
            new PowerShellTimeoutError(
              `PowerShell phase ${inv.phase} (${inv.mode}) did not finish within ${inv.timeoutMs} ms; its process tree was killed`,
            ),
          );
        }, inv.timeoutMs);

        try {
          child = spawn(powershell.command, args, {
            env: childEnvironment(rt.env ?? process.env, secretEnv),
            stdio: ['ignore', 'pipe', 'pipe'],
            windowsHide: true,
            detached: process.platform !== 'win32',
            shell: false,
          });
        } catch (error) {
          fail(error);
          return;
        }
        const stdout = new LineSplitter(deliver('stdout'));
        const stderr = new LineSplitter(deliver('stderr'));
        child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
        child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
        child.on('error', (error) =>
          fail(new Error(`Could not start PowerShell (${powershell.source}): ${error.message}`)),
        );
        child.on('close', (code, signal) => {
          stdout.end();
          stderr.end();
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (failure) reject(failure);
          else resolvePromise({ code, signal, stderrTail });
        });
        try {
          rt.onSpawn?.({ pid: child.pid, command: powershell.command, args: [...args], workspace: workspace.dir });
        } catch (error) {
          fail(error);
        }
      },
    );

    let result: PhaseScriptResult | undefined;
    let unreadable: string | undefined;
    try {
      result = readResult(resultFile);
    } catch (error) {
      unreadable = (error as Error).message;
    }
    if (outcome.signal) {
      throw new Error(`PowerShell phase ${inv.phase} (${inv.mode}) was killed (${outcome.signal}) before it finished`);
    }
    if (outcome.code !== 0) {
      let detail = result?.error;
      if (!detail) {
        const marked = [...outcome.stderrTail].reverse().find((line) => line.startsWith(ERROR_MARKER));
        if (marked) {
          try {
            detail = JSON.parse(marked.slice(ERROR_MARKER.length)) as PhaseScriptError;
          } catch {
            // fall through to the generic message
          }
        }
      }
      detail ??= {
        phase: inv.phase,
        step: 'unknown',
        server: 'unknown',
        message: `PowerShell exited with code ${outcome.code}${outcome.stderrTail.length ? `: ${outcome.stderrTail.join(' | ')}` : ''}`,
      };
      detail = { ...detail, message: maskLine(detail.message) };
      throw new PowerShellPhaseError(describe(detail), detail, result, outcome.code);
    }
    if (!result) {
      throw new Error(
        `PowerShell phase ${inv.phase} exited 0 but wrote no readable result${unreadable ? ` (${unreadable})` : ''}`,
      );
    }
    if (result.ok !== true || result.error) {
      const detail = result.error ?? {
        phase: inv.phase,
        step: 'unknown',
        server: result.server ?? 'unknown',
        message: 'the result says ok = false',
      };
      throw new PowerShellPhaseError(describe({ ...detail, message: maskLine(detail.message) }), detail, result, 0);
    }
    if (result.phase !== inv.phase || result.mode !== inv.mode) {
      throw new Error(
        `PowerShell returned a result for ${result.phase} (${result.mode}), expected ${inv.phase} (${inv.mode})`,
      );
    }
    return result;
  } finally {
    if (child) killTree(child);
    workspace.remove();
  }
}
