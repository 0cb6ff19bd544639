// The pipeline package manifests, derived from the phases: actions/<phase>/action.yml (GitHub),
// tasks/<phase>/task.json and the extension manifest (Azure DevOps). scripts/generate.ts writes them
// (npm run generate); a test fails when a committed one differs from what this derives.
import { createHash } from 'node:crypto';
import { azureName, SERVICE_CONNECTION_INPUT } from './inputs.js';
import type { PackagedStep } from './steps.js';

/**
 * Where the toolkit is published. Workflows reference the actions as
 * `<githubRepository>/actions/<phase>@v<major>` and the tasks as `D365ExoSync<Phase>@<major>`; the
 * extension is `<publisher>.<extensionId>`. A fork or a GitHub Enterprise Server mirror replaces the
 * repository prefix in the workflows it copies (the workflow headers say so).
 */
export const PUBLISHED = {
  githubRepository: 'd365-exo-sync/d365-exo-sync',
  publisher: 'd365-exo-sync',
  extensionId: 'd365-exo-sync',
  author: 'd365-exo-sync',
} as const;

/** GitHub runner that has node24 (self-hosted runners older than this cannot run the actions). */
export const MIN_RUNNER_VERSION = '2.327.1';
/**
 * First agent with the Node20_1 handler; the tasks also carry Node24, which the agent picks when it has
 * it. Also past 3.227.1, the first agent that gives tasks SYSTEM_OIDCREQUESTURI (workload identity).
 */
export const MIN_AGENT_VERSION = '3.232.1';
/** First agent with the Node24 handler (the tasks fall back to Node20_1 on older agents). */
export const NODE24_AGENT_VERSION = '4.265.1';

export const ACTION_MAIN = 'dist/index.mjs';
export const TASK_TARGET = 'dist/index.js';

export interface PackageVersion {
  text: string;
  major: number;
  minor: number;
  patch: number;
}

export function parseVersion(text: string): PackageVersion {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text);
  if (!match) throw new Error(`package.json version "${text}" is not x.y.z`);
  return { text, major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** The major tag workflows use for the actions: v<major>. */
export function actionRef(version: PackageVersion): string {
  return `v${version.major}`;
}

function pascal(id: string): string {
  return id
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/** The Azure DevOps task name: D365ExoSync + the phase id in PascalCase ("register-entra" -> D365ExoSyncRegisterEntra). */
export function taskName(phaseId: string): string {
  return `D365ExoSync${pascal(phaseId)}`;
}

/** RFC 4122 name-based UUID (version 5, SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`namespace ${namespace} is not a UUID`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** RFC 4122's URL namespace; our namespace is the v5 UUID of the name below within it. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
export const TASK_ID_NAMESPACE = uuidV5('d365-exo-sync/azure-devops-task', URL_NAMESPACE);

/**
 * The task's GUID: a v5 UUID of the phase id. Azure DevOps knows a task by this GUID, so it must never
 * change (a new GUID is a different task to every pipeline that uses it); deriving it keeps it stable.
 */
export function taskId(phaseId: string): string {
  return uuidV5(phaseId, TASK_ID_NAMESPACE);
}

const SECRET_NOTE_GITHUB = ' Secret: pass it from a repository or environment secret, never as text in the workflow.';
const SECRET_NOTE_AZURE = ' Secret: pass it from a secret variable (`$(NAME)`), never as text in the pipeline.';

/** actions/<step>/action.yml as a plain object (the generator renders it as YAML). */
export function actionManifest(phase: PackagedStep): Record<string, unknown> {
  const inputs: Record<string, Record<string, unknown>> = {};
  for (const input of phase.inputs) {
    const options = input.options ? ` One of: ${input.options.join(', ')}.` : '';
    inputs[input.name] = {
      description: input.description + options + (input.secret ? SECRET_NOTE_GITHUB : ''),
      required: input.required === true,
      ...(input.default !== undefined ? { default: input.default } : {}),
    };
  }
  const outputs: Record<string, Record<string, unknown>> = {};
  for (const output of phase.outputs) outputs[output.name] = { description: output.description };
  return {
    name: `d365-exo-sync ${phase.id}`,
    description: `${phase.title} (runs on: ${phase.runsOn}; changes: ${phase.changes}). D365 CE v9 on-premises with Exchange Online server-side sync.`,
    author: PUBLISHED.author,
    inputs,
    outputs,
    runs: { using: 'node24', main: ACTION_MAIN },
    branding: { icon: 'refresh-cw', color: 'blue' },
  };
}

/**
 * The service connection input of the tasks that sign in to Entra ID: the name and type Microsoft's
 * AzureCLI and AzurePowerShell tasks use, so the pipeline references the connection explicitly (Azure
 * DevOps refuses an OIDC token for a connection the job does not reference).
 */
export const SERVICE_CONNECTION_TASK_INPUT = {
  name: SERVICE_CONNECTION_INPUT,
  type: 'connectedService:AzureRM',
  label: 'Azure Resource Manager service connection',
  required: false,
  helpMarkDown:
    'The service connection d365-exo-sync signs in to Entra ID with (workload identity federation, or a service principal with a secret or certificate). Its tenant and app replace tenant.auth of the config; a different tenant.id in the config fails the task.',
} as const;

/** tasks/<step>/task.json. */
export function taskManifest(phase: PackagedStep, version: PackageVersion): Record<string, unknown> {
  const outputs = phase.outputs;
  const execution = { target: TASK_TARGET, argumentFormat: '' };
  return {
    $schema: 'https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json',
    id: taskId(phase.id),
    name: taskName(phase.id),
    friendlyName: `D365 EXO sync ${phase.id}`,
    description: `${phase.title}. Runs on: ${phase.runsOn}. Changes: ${phase.changes}.`,
    helpMarkDown: `d365-exo-sync ${version.text}: ${phase.title.toLowerCase()}. Writes a run record (JSON) and a summary for every run.`,
    category: 'Deploy',
    author: PUBLISHED.author,
    version: { Major: version.major, Minor: version.minor, Patch: version.patch },
    minimumAgentVersion: MIN_AGENT_VERSION,
    instanceNameFormat: phase.kind === 'phase' ? `d365-exo-sync ${phase.id} ($(mode))` : `d365-exo-sync ${phase.id}`,
    inputs: [
      ...(phase.signsInToEntra ? [SERVICE_CONNECTION_TASK_INPUT] : []),
      ...phase.inputs.map((input) => ({
        name: azureName(input.name),
        type: input.options ? 'pickList' : input.kind === 'file' ? 'filePath' : 'string',
        label: input.name,
        ...(input.default !== undefined ? { defaultValue: input.default } : {}),
        required: input.required === true,
        helpMarkDown: input.description + (input.secret ? SECRET_NOTE_AZURE : ''),
        ...(input.options ? { options: Object.fromEntries(input.options.map((o) => [o, o])) } : {}),
      })),
    ],
    outputVariables: outputs.map((output) => ({ name: azureName(output.name), description: output.description })),
    restrictions: { settableVariables: { allowed: outputs.map((output) => azureName(output.name)) } },
    execution: { Node20_1: execution, Node24: execution },
  };
}

/** tasks/vss-extension.json: one contribution per task folder. */
export function extensionManifest(phases: readonly PackagedStep[], version: PackageVersion): Record<string, unknown> {
  return {
    manifestVersion: 1,
    id: PUBLISHED.extensionId,
    publisher: PUBLISHED.publisher,
    version: version.text,
    name: 'd365-exo-sync: D365 on-premises and Exchange Online',
    description:
      'Pipeline tasks that set up and renew server-side synchronization between Dynamics 365 CE v9 on-premises and Exchange Online, one phase per task, with plan/apply and an audit record per run.',
    public: false,
    targets: [{ id: 'Microsoft.VisualStudio.Services' }],
    categories: ['Azure Pipelines'],
    tags: ['Dynamics 365', 'Exchange Online', 'server-side sync', 'certificate renewal'],
    content: { details: { path: 'overview.md' } },
    files: phases.map((phase) => ({ path: phase.id })),
    contributions: phases.map((phase) => ({
      id: `${phase.id}-task`,
      type: 'ms.vss-distributed-task.task',
      targets: ['ms.vss-distributed-task.tasks'],
      properties: { name: phase.id },
    })),
  };
}

/** tasks/overview.md: the extension's details page (also what an Azure DevOps Server admin reads). */
export function extensionOverview(phases: readonly PackagedStep[], version: PackageVersion): string {
  const rows = phases
    .map((p) => `| \`${taskName(p.id)}@${version.major}\` | ${p.title} | ${p.runsOn} | ${p.changes} |`)
    .join('\n');
  return `# d365-exo-sync ${version.text}

Sets up and renews server-side synchronization between Dynamics 365 CE v9 on-premises and Exchange
Online. Each phase is one task; run them in the zero-downtime renewal order, with approvals between
the groups. Every task has a \`mode\` input (\`plan\` shows what would change, \`apply\` changes only what
differs), writes a run record (JSON, never a secret) and uploads a summary to the run.

| task | what it does | runs on | changes |
|---|---|---|---|
${rows}

Agents: the tasks carry the \`Node24\` handler (agent ${NODE24_AGENT_VERSION} or later) and fall back to
\`Node20_1\` (agent ${MIN_AGENT_VERSION} or later, the minimum). On Azure DevOps Server, upload the
\`.vsix\` under Collection settings > Extensions > Browse local extensions > Manage extensions.

Generated from the phases by \`npm run generate\`: do not edit.
`;
}
