// Runs the built packages the way the runners do, and reads back what they leave: GitHub (INPUT_*,
// GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, exit code) and Azure DevOps (the task lib's mock
// test runner, and a task folder from the .vsix started as a plain process; ##vso commands on stdout).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import mockTest from 'azure-pipelines-task-lib/mock-test.js';
import taskCommand from 'azure-pipelines-task-lib/taskcommand.js';
import { makeLeaf, makePfx } from '../../support/certs.js';
import { ROOT } from '../../../scripts/packages.js';
import { SANDBOX_CLIENT_SECRET, type EntraSandbox } from './entra-sandbox.js';

export const PFX_PASSWORD = 'Recognisable-Pfx-Pa55word-7d1c!';

export interface Workspace {
  dir: string;
  /** The config file name, relative to dir. */
  config: string;
  pfx: Buffer;
  pfxBase64: string;
  thumbprint: string;
  /** What the workflow maps into the step's environment (the Entra sandbox's client secret and CA). */
  env: Record<string, string>;
  /** Secrets besides the certificate's that must never be written (the sandbox client secret). */
  otherSecrets: string[];
  remove(): void;
}

export interface WorkspaceOptions {
  /** Names the certificate covers (default crm.contoso.com, the example's host). */
  dnsNames?: string[];
  /** Entra ID and Graph: the sandbox; without it, a closed loopback port. */
  sandbox?: EntraSandbox;
}

/**
 * A checked-out repository as a job sees it: the example config, with Entra ID and the D365 Web API
 * pointed at the sandbox (or, without one, at a closed loopback port (nothing in a test reaches the internet), and a PFX
 * covering `dnsNames`.
 */
export function makeWorkspace(options: WorkspaceOptions = {}): Workspace {
  const dnsNames = options.dnsNames ?? ['crm.contoso.com'];
  const dir = mkdtempSync(join(tmpdir(), 'd365-packaging-'));
  const config = parse(readFileSync(join(ROOT, 'examples', 'contoso.yml'), 'utf8')) as {
    tenant: Record<string, unknown>;
    deployment: { webApi: Record<string, unknown> };
  };
  config.tenant = options.sandbox
    ? options.sandbox.tenant
    : { ...config.tenant, endpoints: { authority: 'https://127.0.0.1:9', graph: 'https://127.0.0.1:9' } };
  config.deployment.webApi = options.sandbox
    ? options.sandbox.webApi
    : { ...config.deployment.webApi, url: 'https://127.0.0.1:9/contoso' };
  writeFileSync(join(dir, 'd365-exo-sync.yml'), stringify(config));
  const leaf = makeLeaf({ commonName: dnsNames[0] ?? 'crm.contoso.com', dnsNames, keySlot: 'packaging-leaf' });
  const pfx = makePfx(leaf, { password: PFX_PASSWORD, encoding: 'forge-aes256' });
  return {
    dir,
    config: 'd365-exo-sync.yml',
    pfx,
    pfxBase64: pfx.toString('base64'),
    thumbprint: leaf.thumbprint,
    env: options.sandbox?.env ?? {},
    otherSecrets: options.sandbox ? [SANDBOX_CLIENT_SECRET, options.sandbox.webApiPassword] : [],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const runTemps: string[] = [];

/** A fresh runner/agent temp folder for one run; cleanupRuns() removes them all. */
function runTemp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  runTemps.push(dir);
  return dir;
}

export function cleanupRuns(): void {
  for (const dir of runTemps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, env: NodeJS.ProcessEnv, cwd: string): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    // Only what a runner gives a step: no variable of this test process leaks into the run.
    const child = spawn(process.execPath, [file], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// ---------------------------------------------------------------- GitHub

export interface ActionRun extends ProcessRun {
  outputs: Record<string, string>;
  summary: string;
  /** Values registered with ::add-mask:: (the runner hides them; they never reach the log). */
  masks: string[];
  /** stdout without the ::add-mask:: lines: what the job log shows. */
  log: string;
  temp: string;
}

/** Reads GITHUB_OUTPUT: name<<delimiter, value lines, delimiter. */
export function parseGithubOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i]!);
    outputs[match[1]!] = value.join('\n');
  }
  return outputs;
}

/** Runs an action bundle as the runner does: inputs as INPUT_<NAME>, files for outputs and summary. */
export async function runAction(
  actionDir: string,
  workspace: Workspace,
  inputs: Record<string, string>,
  env: NodeJS.ProcessEnv = {},
): Promise<ActionRun> {
  const temp = runTemp('d365-runner-temp-');
  const outputFile = join(temp, 'github-output');
  const summaryFile = join(temp, 'step-summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const main = (readFileSync(join(actionDir, 'action.yml'), 'utf8').match(/^\s+main:\s*(\S+)/m) ?? [])[1];
  assert.ok(main, `${actionDir}/action.yml names no runs.main`);
  const result = await run(
    join(actionDir, main),
    {
      ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: workspace.dir,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: temp,
      GITHUB_ACTOR: 'octo-admin',
      RUNNER_NAME: 'crm-runner-01',
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_REPOSITORY: 'contoso/d365-renewal',
      ...workspace.env,
      ...env,
    },
    workspace.dir,
  );
  const masks = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));
  const log = result.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  return {
    ...result,
    outputs: parseGithubOutputs(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    masks,
    log,
    temp,
  };
}

// ---------------------------------------------------------------- Azure DevOps

export interface VsoCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

export interface TaskRun extends ProcessRun {
  commands: VsoCommand[];
  /** Output variables set with isOutput=true. */
  outputs: Record<string, string>;
  /** The uploaded summary files' contents. */
  summary: string;
  /** Values registered with task.setsecret (the agent hides them). */
  secrets: string[];
  /** stdout without the task.setsecret lines: what the job log shows. */
  log: string;
  result?: { result: string; message: string };
  errors: string[];
  temp: string;
}

function readTaskRun(result: ProcessRun, temp: string): TaskRun {
  const commands: VsoCommand[] = [];
  const logLines: string[] = [];
  for (const line of result.stdout.split(/\r?\n/)) {
    const at = line.indexOf('##vso[');
    if (at < 0) {
      logLines.push(line);
      continue;
    }
    const parsed = taskCommand.commandFromString(line.slice(at)) as {
      command: string;
      properties: Record<string, string>;
      message: string;
    };
    commands.push({ command: parsed.command, properties: parsed.properties ?? {}, message: parsed.message ?? '' });
    if (parsed.command !== 'task.setsecret') logLines.push(line);
  }
  const outputs: Record<string, string> = {};
  for (const c of commands) {
    if (c.command === 'task.setvariable' && c.properties.isOutput === 'true')
      outputs[c.properties.variable!] = c.message;
  }
  const complete = commands.filter((c) => c.command === 'task.complete').at(-1);
  return {
    ...result,
    commands,
    outputs,
    summary: commands
      .filter((c) => c.command === 'task.uploadsummary')
      .map((c) => readFileSync(c.message, 'utf8'))
      .join('\n'),
    secrets: commands.filter((c) => c.command === 'task.setsecret').map((c) => c.message),
    log: logLines.join('\n'),
    ...(complete ? { result: { result: complete.properties.result ?? '', message: complete.message } } : {}),
    errors: commands.filter((c) => c.command === 'task.issue' && c.properties.type === 'error').map((c) => c.message),
    temp,
  };
}

function agentEnv(workspace: Workspace, temp: string): NodeJS.ProcessEnv {
  return {
    AGENT_TEMPDIRECTORY: temp,
    AGENT_JOBNAME: 'renewal',
    AGENT_MACHINENAME: 'CRMAPP01',
    BUILD_REQUESTEDFOR: 'Contoso Admin',
    BUILD_BUILDID: '777',
    SYSTEM_COLLECTIONURI: 'https://azdo.example/contoso/',
    SYSTEM_TEAMPROJECT: 'CRM Ops',
    SYSTEM_DEFAULTWORKINGDIRECTORY: workspace.dir,
    ...workspace.env,
  };
}

/** The task folder started as a plain process, as the agent's Node handler does: inputs as INPUT_<NAME>. */
export async function runTaskProcess(
  taskDir: string,
  workspace: Workspace,
  inputs: Record<string, string>,
): Promise<TaskRun> {
  const temp = runTemp('d365-agent-temp-');
  const task = JSON.parse(readFileSync(join(taskDir, 'task.json'), 'utf8')) as {
    execution: { Node24: { target: string } };
  };
  const result = await run(
    join(taskDir, task.execution.Node24.target),
    {
      ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
      ...agentEnv(workspace, temp),
    },
    workspace.dir,
  );
  return readTaskRun(result, temp);
}

const MOCK_RUN = fileURLToPath(new URL('../fixtures/task-mock-run.mjs', import.meta.url));

/**
 * The task through the task lib's MockTestRunner, with nodePath set to this Node so it downloads
 * nothing. MockTestRunner runs the scenario synchronously and passes this process's environment on.
 */
export async function runTaskMock(
  taskDir: string,
  workspace: Workspace,
  inputs: Record<string, string>,
): Promise<TaskRun & { runner: InstanceType<typeof mockTest.MockTestRunner> }> {
  const temp = runTemp('d365-agent-temp-');
  const task = JSON.parse(readFileSync(join(taskDir, 'task.json'), 'utf8')) as {
    execution: { Node24: { target: string } };
  };
  const scenario = join(temp, 'scenario.json');
  writeFileSync(
    scenario,
    JSON.stringify({ task: join(taskDir, task.execution.Node24.target), inputs, env: agentEnv(workspace, temp) }),
  );
  const runner = new mockTest.MockTestRunner(MOCK_RUN, join(taskDir, 'task.json'));
  runner.nodePath = process.execPath;
  const previous = process.env.D365_TASK_SCENARIO;
  process.env.D365_TASK_SCENARIO = scenario;
  try {
    await runner.runAsync();
  } finally {
    if (previous === undefined) delete process.env.D365_TASK_SCENARIO;
    else process.env.D365_TASK_SCENARIO = previous;
  }
  return {
    ...readTaskRun({ code: runner.succeeded ? 0 : 1, stdout: runner.stdout, stderr: runner.stderr }, temp),
    runner,
  };
}

// ---------------------------------------------------------------- leaks

/** Every file under dir, with its text. */
export function filesUnder(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      found.set(path, readFileSync(path, 'utf8'));
    }
  }
  return found;
}

/** The forms of the test's secrets that must never be written: the password, the PFX base64 and each of its PEM lines, the client secret. */
export function secretForms(workspace: Workspace): string[] {
  const lines = workspace.pfxBase64.match(/.{1,64}/g) ?? [];
  return [
    PFX_PASSWORD,
    Buffer.from(PFX_PASSWORD).toString('base64'),
    workspace.pfxBase64,
    ...lines,
    ...workspace.otherSecrets,
  ];
}

export function assertNoSecret(where: string, text: string, workspace: Workspace): void {
  for (const form of secretForms(workspace)) {
    assert.ok(!text.includes(form), `${where} contains a secret (${form.slice(0, 6)}…)`);
  }
}
