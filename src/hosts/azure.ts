// The Host for Azure DevOps tasks, on azure-pipelines-task-lib: inputs by their task.json names
// (camelCase of ours), every secret form registered line by line (the task lib refuses multi-line
// secrets), outputs as output variables, the summary as a markdown file uploaded to the run, and the
// task result with the underlying error.
import * as tl from 'azure-pipelines-task-lib/task.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type {
  EntraConnection,
  FederatedTokenSource,
  Host,
  HostResult,
  InputDefinition,
  ProgressUpdate,
} from './host.js';
import { Masker } from '../secrets/masker.js';
import { azureName } from './azure-name.js';
import { readServiceConnection } from './azure-connection.js';
import { azureDevOpsEnvTokenSource } from './federated-token-sources.js';

/** The agent runs any `##vso[...]` (and formats `##[...]`) it finds in a line: our own text must not. */
function inert(text: string): string {
  return text.replace(/##vso\[/gi, '## vso[').replace(/##\[/g, '## [');
}

/**
 * Azure DevOps leaves a macro whose variable is not defined as it is: `$(d365-pfx)` reaches the task as
 * that text. Such a value is never a certificate or a password, so it is refused by name.
 */
export function refuseMacro(inputName: string, value: string): void {
  const macro = /\$\(([^()\s]+)\)/.exec(value);
  if (macro) {
    throw new Error(
      `${inputName}: pipeline variable ${macro[1]} is not defined (the input still holds the text $(${macro[1]})). ` +
        'Define it in the pipeline, in a variable group, or as a Key Vault secret of a variable group linked to Azure Key Vault, and make sure the job can use that group.',
    );
  }
}

/** Swallows what the task lib writes while it reads a secret input (it logs `name=value` as debug). */
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

export class AzureHost implements Host {
  readonly kind = 'azure-devops';
  private readonly masker = new Masker();
  private readonly registered = new Set<string>();
  private temp?: string;
  private summaries = 0;

  constructor(private readonly out: (text: string) => void = (text) => process.stdout.write(text)) {}

  readonly log = {
    debug: (m: string) => tl.debug(inert(this.mask(m))),
    info: (m: string) => this.out(inert(this.mask(m)) + '\n'),
    warn: (m: string) => tl.warning(this.mask(m)),
    error: (m: string) => tl.error(this.mask(m)),
  };

  private read(input: InputDefinition): string | undefined {
    const name = azureName(input.name);
    const value = tl.getInput(name, false) || input.default || '';
    if (input.required && !value) throw new Error(`Input required: ${name}`);
    refuseMacro(name, value);
    return value || undefined;
  }

  getInput(input: InputDefinition): string | undefined {
    return this.read(input);
  }

  getSecret(input: InputDefinition): string | undefined {
    // tl.getInput writes "##vso[task.debug]<name>=<value>": silence it, or the secret is in the log.
    tl.setStdStream(discard);
    let value: string | undefined;
    try {
      value = this.read(input);
    } finally {
      tl.setStdStream(process.stdout);
    }
    if (value) this.registerSecret(value);
    return value;
  }

  registerSecret(value: string | Buffer): void {
    for (const form of this.masker.add(value)) {
      for (const line of form.split(/\r\n|\r|\n/)) {
        // Each line on its own: setSecret throws on a multi-line value. The masker already dropped forms
        // too short to mask; a line of one is just as short.
        if (line.trim().length >= 4 && !this.registered.has(line)) {
          this.registered.add(line);
          tl.setSecret(line);
        }
      }
    }
  }

  mask(text: string): string {
    return this.masker.mask(text);
  }

  setOutput(name: string, value: string): void {
    tl.setVariable(azureName(name), this.mask(value), false, true);
  }

  async writeSummary(markdown: string): Promise<void> {
    this.summaries += 1;
    const file = join(this.tempDir(), `summary-${process.pid}-${this.summaries}.md`);
    writeFileSync(file, this.mask(markdown), { mode: 0o600 });
    tl.uploadSummary(file);
  }

  async group<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.out(`##[group]${inert(this.mask(title))}\n`);
    try {
      return await work();
    } finally {
      this.out('##[endgroup]\n');
    }
  }

  /** The task's progress in the run view (`task.setprogress`), and a plain line when nothing was said for 30 s. */
  progress(update: ProgressUpdate): void {
    const text = inert(this.mask(update.text)).replace(/[\r\n;\]]/g, ' ');
    if (update.percent !== undefined)
      this.out(`##vso[task.setprogress value=${Math.max(0, Math.min(100, Math.round(update.percent)))};]${text}\n`);
    if (update.kind === 'heartbeat') this.out(`${text}\n`);
  }

  tempDir(): string {
    if (!this.temp) {
      const base = tl.getVariable('Agent.TempDirectory') || tmpdir();
      this.temp = join(base, 'd365-exo-sync');
      mkdirSync(this.temp, { recursive: true, mode: 0o700 });
    }
    return this.temp;
  }

  identity() {
    const buildId = tl.getVariable('Build.BuildId');
    const collection = tl.getVariable('System.CollectionUri');
    const project = tl.getVariable('System.TeamProject');
    const runUrl =
      buildId && collection && project
        ? `${collection.replace(/\/?$/, '/')}${encodeURIComponent(project)}/_build/results?buildId=${buildId}`
        : undefined;
    return {
      actor: tl.getVariable('Build.RequestedFor') || 'unknown',
      machine: tl.getVariable('Agent.MachineName') || hostname(),
      runId: buildId || 'local',
      ...(runUrl ? { runUrl } : {}),
    };
  }

  entraConnection(): EntraConnection | undefined {
    if (this.connection === undefined) this.connection = readServiceConnection(this) ?? null;
    return this.connection ?? undefined;
  }

  private connection?: EntraConnection | null;

  /** Without a service connection in azureSubscription: the job's own OIDC variables, when it has them. */
  federatedTokenSource(): FederatedTokenSource | undefined {
    return azureDevOpsEnvTokenSource(process.env, this);
  }

  setResult(result: HostResult, message: string): void {
    const text = this.mask(message);
    if (result === 'failed') tl.setResult(tl.TaskResult.Failed, text);
    else if (result === 'succeeded-with-issues') tl.setResult(tl.TaskResult.SucceededWithIssues, text);
    else tl.setResult(tl.TaskResult.Succeeded, text);
  }
}
