// The Host for the command line: output to the terminal with every secret masked, inputs from flags,
// secrets only from environment variables named on the command line (never from argv itself).
import { mkdirSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FederatedTokenSource, Host, HostResult, InputDefinition, ProgressUpdate } from './host.js';
import { pipelineTokenSource } from './federated-token-sources.js';
import { Masker } from '../secrets/masker.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  /** The terminal's width when stdout is one (tables fit it); undefined for a pipe or a file. */
  columns?: number;
  /** stderr is a terminal: progress is one live line instead of a line every 30 s. */
  progressTty?: boolean;
}

export class CliHost implements Host {
  readonly kind = 'cli';
  private readonly masker = new Masker();
  private readonly runId = randomUUID();
  private temp?: string;
  readonly outputs: Record<string, string> = {};
  summary = '';
  result?: { result: HostResult; message: string };

  constructor(
    private readonly io: CliIo,
    /** Plain inputs given with --set name=value. */
    private readonly values: Record<string, string> = {},
    /** Secret inputs: input name -> environment variable name (from --password-env and the like). */
    private readonly secretEnv: Record<string, string> = {},
    private readonly verbose = false,
  ) {}

  /** The live progress line on a terminal, redrawn under every log line while a wait goes on. */
  private live = '';

  /** Writes a line to stderr; on a terminal the live line is cleared first and drawn again after it. */
  private line(text: string): void {
    if (this.live) this.io.stderr(`\r\x1b[2K${text}\n${this.live}`);
    else this.io.stderr(text + '\n');
  }

  readonly log = {
    debug: (m: string) => {
      if (this.verbose) this.line(this.mask(m));
    },
    info: (m: string) => this.line(this.mask(m)),
    warn: (m: string) => this.line('warning: ' + this.mask(m)),
    error: (m: string) => this.line('error: ' + this.mask(m)),
  };

  /** On a terminal one live line (phase step, state, elapsed); in a pipe or a file a line every 30 s. */
  progress(update: ProgressUpdate): void {
    const text = this.mask(update.text);
    if (!this.io.progressTty) {
      if (update.kind === 'heartbeat') this.io.stderr(text + '\n');
      return;
    }
    const width = this.io.columns ?? 100;
    const shown = text.length >= width ? text.slice(0, width - 2) + '…' : text;
    if (update.kind === 'done') {
      this.live = '';
      this.io.stderr(`\r\x1b[2K${shown}\n`);
    } else {
      this.live = shown;
      this.io.stderr(`\r\x1b[2K${shown}`);
    }
  }

  getInput(input: InputDefinition): string | undefined {
    const value = this.values[input.name] ?? input.default;
    if (input.required && !value) throw new Error(`${input.name} is required: pass --set ${input.name}=VALUE`);
    return value === '' ? undefined : value;
  }

  getSecret(input: InputDefinition): string | undefined {
    const envName = this.secretEnv[input.name];
    const value = envName ? this.io.env[envName] : undefined;
    if (value) this.registerSecret(value);
    if (input.required && !value) {
      throw new Error(
        envName
          ? `${input.name}: the environment variable ${envName} is empty or not set`
          : `${input.name} is required: name the environment variable that holds it`,
      );
    }
    return value || undefined;
  }

  registerSecret(value: string | Buffer): void {
    this.masker.add(value);
  }

  mask(text: string): string {
    return this.masker.mask(text);
  }

  setOutput(name: string, value: string): void {
    this.outputs[name] = this.mask(value);
  }

  async writeSummary(markdown: string): Promise<void> {
    this.summary += this.mask(markdown);
  }

  async group<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.io.stderr(`== ${this.mask(title)}\n`);
    return work();
  }

  tempDir(): string {
    if (!this.temp) {
      this.temp = join(tmpdir(), `d365-exo-sync-${this.runId}`);
      mkdirSync(this.temp, { recursive: true, mode: 0o700 });
    }
    return this.temp;
  }

  identity() {
    let actor = 'unknown';
    try {
      actor = userInfo().username;
    } catch {
      // No passwd entry (some containers): the actor stays unknown rather than failing the run.
    }
    return { actor, machine: hostname(), runId: this.runId };
  }

  /**
   * The command line may run in a pipeline's script step: GitHub Actions' OIDC token, else Azure DevOps' (with
   * AZURESUBSCRIPTION_SERVICE_CONNECTION_ID), from the environment it was given.
   */
  federatedTokenSource(): FederatedTokenSource | undefined {
    return pipelineTokenSource(this.io.env, this);
  }

  setResult(result: HostResult, message: string): void {
    this.result = { result, message: this.mask(message) };
  }
}
