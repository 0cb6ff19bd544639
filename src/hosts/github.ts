// The Host for GitHub Actions, on @actions/core: inputs from INPUT_*, every secret form registered with
// ::add-mask::, outputs to GITHUB_OUTPUT, the summary to GITHUB_STEP_SUMMARY, groups, and a failed
// step (exit code 1) with the underlying error when the phase fails.
import * as core from '@actions/core';
import { mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FederatedTokenSource, Host, HostResult, InputDefinition, ProgressUpdate } from './host.js';
import { githubActionsTokenSource } from './federated-token-sources.js';
import { Masker } from '../secrets/masker.js';

/** A line of our own output must never be read as a workflow command (`::set-output::`, `::add-mask::`...). */
function inert(text: string): string {
  return text.replace(/^(\s*)::/gm, '$1: :');
}

export class GitHubHost implements Host {
  readonly kind = 'github';
  private readonly masker = new Masker();
  private temp?: string;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  readonly log = {
    debug: (m: string) => core.debug(inert(this.mask(m))),
    info: (m: string) => core.info(inert(this.mask(m))),
    warn: (m: string) => core.warning(this.mask(m)),
    error: (m: string) => core.error(this.mask(m)),
  };

  getInput(input: InputDefinition): string | undefined {
    // Secrets keep their whitespace: a password may end in a space.
    const value = core.getInput(input.name, { trimWhitespace: !input.secret }) || input.default || '';
    if (input.required && !value) throw new Error(`Input required and not supplied: ${input.name}`);
    return value || undefined;
  }

  getSecret(input: InputDefinition): string | undefined {
    const value = this.getInput(input);
    if (value) this.registerSecret(value);
    return value;
  }

  registerSecret(value: string | Buffer): void {
    for (const form of this.masker.add(value)) core.setSecret(form);
  }

  mask(text: string): string {
    return this.masker.mask(text);
  }

  setOutput(name: string, value: string): void {
    core.setOutput(name, this.mask(value));
  }

  async writeSummary(markdown: string): Promise<void> {
    if (!this.env.GITHUB_STEP_SUMMARY) {
      core.debug('GITHUB_STEP_SUMMARY is not set: no job summary written');
      return;
    }
    await core.summary.addRaw(this.mask(markdown), true).write();
  }

  async group<T>(title: string, work: () => Promise<T>): Promise<T> {
    core.startGroup(inert(this.mask(title)));
    try {
      return await work();
    } finally {
      core.endGroup();
    }
  }

  /** Inside the phase's log group: a line when nothing was said for 30 s (each round has its own log line). */
  progress(update: ProgressUpdate): void {
    if (update.kind === 'heartbeat') core.info(inert(this.mask(update.text)));
  }

  tempDir(): string {
    if (!this.temp) {
      const base = this.env.RUNNER_TEMP || tmpdir();
      this.temp = join(base, 'd365-exo-sync');
      mkdirSync(this.temp, { recursive: true, mode: 0o700 });
    }
    return this.temp;
  }

  identity() {
    const { GITHUB_ACTOR, RUNNER_NAME, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_SERVER_URL, GITHUB_REPOSITORY } =
      this.env;
    const runId = GITHUB_RUN_ID || 'local';
    const runUrl =
      GITHUB_SERVER_URL && GITHUB_REPOSITORY && GITHUB_RUN_ID
        ? `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}` +
          (GITHUB_RUN_ATTEMPT ? `/attempts/${GITHUB_RUN_ATTEMPT}` : '')
        : undefined;
    return {
      actor: GITHUB_ACTOR || 'unknown',
      machine: RUNNER_NAME || hostname(),
      runId,
      ...(runUrl ? { runUrl } : {}),
    };
  }

  /** The job's OIDC token, when the workflow gives the job `permissions: id-token: write`. */
  federatedTokenSource(): FederatedTokenSource | undefined {
    return githubActionsTokenSource(this.env, this);
  }

  setResult(result: HostResult, message: string): void {
    const text = this.mask(message);
    if (result === 'failed') core.setFailed(text);
    else if (result === 'succeeded-with-issues') core.warning(text);
    else core.info(inert(text));
  }
}
