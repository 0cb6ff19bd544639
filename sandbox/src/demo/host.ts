// The Host of the demo: one per phase run (the job of a pipeline), all sharing one mask, so a secret registered by
// any of them (the PFX password, the client secret, a token, a one-time PFX password) is masked everywhere. Each
// names the machine its job runs on (the emulated server for the Windows phases), and each round of the demo is one
// pipeline run (one run id). Log lines go to the demo's log file, masked; --verbose also shows them on stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Masker, type Host, type HostResult, type InputDefinition } from '../../../src/index.js';

/** What every host of one demo shares: the mask, the log, the actor and the temporary folder. */
export class DemoSession {
  readonly masker = new Masker();
  readonly actor: string;
  private readonly lines: string[] = [];
  private readonly started = Date.now();
  private temp?: string;

  constructor(private readonly echo?: (line: string) => void) {
    let actor = 'unknown';
    try {
      actor = userInfo().username;
    } catch {
      // No passwd entry (some containers): the actor stays unknown.
    }
    this.actor = actor;
  }

  registerSecret(value: string | Buffer): void {
    this.masker.add(value);
  }

  mask(text: string): string {
    return this.masker.mask(text);
  }

  /** Appends a (masked) line to the demo's log, with the seconds since the demo started. */
  log(line: string): void {
    const elapsed = ((Date.now() - this.started) / 1000).toFixed(1).padStart(6);
    const masked = `${elapsed}s ${this.mask(line)}`;
    this.lines.push(masked);
    this.echo?.(masked);
  }

  /** The log so far (every line already masked). */
  logText(): string {
    return this.lines.map((line) => line + '\n').join('');
  }

  tempDir(): string {
    this.temp ??= mkdtempSync(join(tmpdir(), 'd365-exo-sync-demo-tmp-'));
    return this.temp;
  }

  dispose(): void {
    if (this.temp) rmSync(this.temp, { recursive: true, force: true });
    this.temp = undefined;
  }
}

export interface DemoJob {
  /** The machine the job runs on, as the run record names it. */
  machine: string;
  /** The pipeline run this job belongs to. */
  runId: string;
  /** The job's name in the log ("install-certificate CRMAPP01"). */
  name: string;
  /** Plain inputs read through getInput (pipeline inputs); the demo passes chained outputs as ctx.inputs instead. */
  values?: Record<string, string>;
}

export class DemoHost implements Host {
  readonly kind = 'demo';
  readonly outputs: Record<string, string> = {};
  summary = '';
  result?: { result: HostResult; message: string };
  readonly warnings: string[] = [];

  constructor(
    private readonly session: DemoSession,
    private readonly job: DemoJob,
  ) {}

  private line(level: string, message: string): void {
    this.session.log(`[${this.job.name}] ${level}${message}`);
  }

  readonly log = {
    debug: (m: string) => this.line('debug: ', m),
    info: (m: string) => this.line('', m),
    warn: (m: string) => {
      this.warnings.push(this.mask(m));
      this.line('warning: ', m);
    },
    error: (m: string) => this.line('error: ', m),
  };

  getInput(input: InputDefinition): string | undefined {
    const value = this.job.values?.[input.name] ?? input.default;
    if (input.required && !value) throw new Error(`${input.name} is required`);
    return value === '' ? undefined : value;
  }

  getSecret(input: InputDefinition): string | undefined {
    // The demo hands its secrets over directly (certificate, environment of the services), never as inputs.
    if (input.required) throw new Error(`${input.name}: the demo passes no secret inputs`);
    return undefined;
  }

  registerSecret(value: string | Buffer): void {
    this.session.registerSecret(value);
  }

  mask(text: string): string {
    return this.session.mask(text);
  }

  setOutput(name: string, value: string): void {
    this.outputs[name] = this.mask(value);
  }

  async writeSummary(markdown: string): Promise<void> {
    this.summary += this.mask(markdown);
  }

  async group<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.line('', `== ${title}`);
    return work();
  }

  tempDir(): string {
    return this.session.tempDir();
  }

  identity() {
    return { actor: this.session.actor, machine: this.job.machine, runId: this.job.runId };
  }

  setResult(result: HostResult, message: string): void {
    this.result = { result, message: this.mask(message) };
  }
}
