// A Host for tests: keeps everything it is given in memory so tests can assert on logs, outputs,
// the summary and the result, and check that no secret reached any of them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FederatedTokenSource, Host, HostResult, InputDefinition } from '../../src/hosts/host.js';
import { pipelineTokenSource } from '../../src/hosts/federated-token-sources.js';
import { Masker } from '../../src/secrets/masker.js';

export class TestHost implements Host {
  readonly kind = 'test';
  readonly lines: string[] = [];
  readonly outputs: Record<string, string> = {};
  summary = '';
  result?: { result: HostResult; message: string };
  private readonly masker = new Masker();
  private temp?: string;

  constructor(private readonly values: Record<string, string> = {}) {}

  readonly log = {
    debug: (m: string) => this.lines.push('debug: ' + this.mask(m)),
    info: (m: string) => this.lines.push(this.mask(m)),
    warn: (m: string) => this.lines.push('warning: ' + this.mask(m)),
    error: (m: string) => this.lines.push('error: ' + this.mask(m)),
  };

  getInput(input: InputDefinition): string | undefined {
    const value = this.values[input.name] ?? input.default;
    if (input.required && !value) throw new Error(`Input required and not supplied: ${input.name}`);
    return value || undefined;
  }

  getSecret(input: InputDefinition): string | undefined {
    const value = this.getInput(input);
    if (value) this.registerSecret(value);
    return value;
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
    this.lines.push(`[group] ${title}`);
    try {
      return await work();
    } finally {
      this.lines.push('[endgroup]');
    }
  }

  tempDir(): string {
    this.temp ??= mkdtempSync(join(tmpdir(), 'd365-exo-sync-test-'));
    return this.temp;
  }

  identity() {
    return { actor: 'test-actor', machine: 'TESTMACHINE', runId: 'test-run' };
  }

  setResult(result: HostResult, message: string): void {
    this.result = { result, message: this.mask(message) };
  }

  /** The pipeline variables this host finds its OIDC token in, like the command line's (a test sets them). */
  pipelineEnv?: NodeJS.ProcessEnv;

  federatedTokenSource(): FederatedTokenSource | undefined {
    return this.pipelineEnv ? pipelineTokenSource(this.pipelineEnv, this) : undefined;
  }

  /** Everything this host wrote, for leak checks. */
  allText(): string {
    return [...this.lines, JSON.stringify(this.outputs), this.summary, this.result?.message ?? ''].join('\n');
  }
}
