// One phase as a pipeline step, whatever runs it (GitHub Action, Azure DevOps task): read the inputs
// through the Host (secrets masked first), load the config and the certificate, run the phase, and
// leave the run record. Anything that goes wrong fails the step with the underlying error: a green
// step over a failed phase is the one thing a pipeline user must never see.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Host } from '../hosts/host.js';
import type { CertificateInput, Phase } from '../phases/phase.js';
import { findPhase, PHASES } from '../phases/registry.js';
import { runPhase, type PhaseRun } from '../phases/runner.js';
import { loadConfigFile } from '../config/load.js';
import { configHash } from '../report/run-record.js';
import { markdownTable } from '../report/markdown.js';
import { readCertificateInput } from '../cert/index.js';
import { MODES, stepInputs, type PipelineInput, type StepMode } from './inputs.js';
import { buildPhaseContext } from './context.js';
import { TOOLS, type PipelineTool } from './tools.js';
import type { Config } from '../config/schema.js';

export interface StepEnvironment {
  env: NodeJS.ProcessEnv;
  /** Where relative paths (config, pfx-file, record-dir) start: the workspace the runner gives the step. */
  cwd: string;
  /** How this host names an input in messages ("pfx-base64" on GitHub, "pfxBase64" on Azure DevOps). */
  inputName?: (name: string) => string;
}

/** A problem with the step's inputs: the message names the input and the fix. */
export class StepInputError extends Error {}

type InputValues = Record<string, string | undefined>;

function readInputs(inputs: PipelineInput[], host: Host, label: (name: string) => string): InputValues {
  const values: InputValues = {};
  for (const input of inputs) {
    const value = input.secret ? host.getSecret(input) : host.getInput(input);
    if (value !== undefined && input.options && !input.options.includes(value)) {
      throw new StepInputError(`${label(input.name)} is "${value}": use one of ${input.options.join(', ')}`);
    }
    values[input.name] = value;
  }
  return values;
}

function certificateFromInputs(
  values: InputValues,
  host: Host,
  cwd: string,
  label: (name: string) => string,
): CertificateInput | undefined {
  const base64 = values['pfx-base64'];
  const file = values['pfx-file'];
  const password = values['pfx-password'];
  return readCertificateInput({
    ...(base64
      ? { base64: { text: () => base64, field: label('pfx-base64'), source: `input ${label('pfx-base64')}` } }
      : {}),
    ...(file ? { file: { path: file, field: label('pfx-file') } } : {}),
    ...(password ? { password: () => password } : {}),
    names: { base64: label('pfx-base64'), file: label('pfx-file'), password: label('pfx-password') },
    cwd,
    registerSecret: (value) => host.registerSecret(value),
    refuse: (message) => new StepInputError(message),
  });
}

function configPath(file: string, cwd: string, label: (name: string) => string): string {
  const path = resolve(cwd, file);
  if (!existsSync(path)) {
    throw new StepInputError(
      `${label('config')}: ${file} does not exist in ${cwd}. Check the path, and that the job checks out the repository holding the config before this step.`,
    );
  }
  if (statSync(path).isDirectory())
    throw new StepInputError(`${label('config')}: ${file} is a folder: give the config file itself`);
  return path;
}

async function failStep(host: Host, message: string, summary?: string): Promise<void> {
  try {
    if (summary) await host.writeSummary(summary);
  } catch (error) {
    host.log.warn(`could not write the job summary: ${error instanceof Error ? error.message : String(error)}`);
  }
  host.setResult('failed', message);
}

/** Loads the config; on problems fails the step with them (file:problem list) and returns undefined. */
async function loadStepConfig(
  stepId: string,
  file: string,
  host: Host,
  environment: StepEnvironment,
  label: (name: string) => string,
): Promise<{ config: Config; text: string } | undefined> {
  const loaded = loadConfigFile(configPath(file, environment.cwd, label));
  if (loaded.config) return { config: loaded.config, text: loaded.text };
  const list = loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  await failStep(
    host,
    `${stepId}: the config ${file} has ${loaded.problems.length} problem(s); nothing was done. ${list}`,
    `### d365-exo-sync · ${stepId} · config problems\n\n${file}: nothing was done.\n\n` +
      markdownTable(
        ['path', 'problem'],
        loaded.problems.map((p) => [p.path, p.message]),
      ),
  );
  return undefined;
}

/** Runs a tool (watch, report) as a pipeline step; never throws. */
async function runToolStep(tool: PipelineTool, host: Host, environment: StepEnvironment): Promise<void> {
  const label = environment.inputName ?? ((name: string) => name);
  try {
    const values = readInputs(tool.inputs, host, label);
    let config: Config | undefined;
    if (values.config) {
      config = (await loadStepConfig(tool.id, values.config, host, environment, label))?.config;
      if (!config) return;
    }
    await tool.run({ host, values, env: environment.env, cwd: environment.cwd, config: () => config, label });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await failStep(host, `${tool.id}: ${message}`);
  }
}

/**
 * Runs the phase `phaseId` (or the tool of that id: watch, report) as a pipeline step on `host`. Never throws: every failure ends in
 * host.setResult('failed', <the underlying error>). Returns the run when the phase got to run.
 */
export async function runPipelineStep(
  phaseId: string,
  host: Host,
  environment: StepEnvironment,
): Promise<PhaseRun | undefined> {
  const label = environment.inputName ?? ((name: string) => name);
  const phase: Phase | undefined = findPhase(phaseId);
  const tool = TOOLS.find((t) => t.id === phaseId);
  if (tool) {
    await runToolStep(tool, host, environment);
    return undefined;
  }
  if (!phase) {
    await failStep(
      host,
      `d365-exo-sync has no phase "${phaseId}" (it has ${[...PHASES, ...TOOLS].map((p) => p.id).join(', ')}): the package is damaged or out of date`,
    );
    return undefined;
  }
  try {
    const inputs = stepInputs(phase);
    const values = readInputs(inputs, host, label);
    const mode = (values.mode ?? 'apply') as StepMode;
    if (!MODES.includes(mode)) throw new StepInputError(`${label('mode')} must be plan or apply`);

    const loaded = await loadStepConfig(phase.id, values.config!, host, environment, label);
    if (!loaded) return undefined;

    const certificate = certificateFromInputs(values, host, environment.cwd, label);
    const own = Object.fromEntries(phase.inputs.map((input) => [input.name, values[input.name]]));
    const ctx = buildPhaseContext({
      config: loaded.config,
      host,
      env: environment.env,
      inputs: own,
      ...(certificate ? { certificate } : {}),
    });
    const recordDir = values['record-dir'];
    const run = await runPhase(phase, ctx, {
      mode,
      configHash: configHash(loaded.text),
      ...(recordDir ? { recordDir: resolve(environment.cwd, recordDir) } : {}),
    });
    host.setOutput('record-file', run.recordFile);
    return run;
  } catch (error) {
    // Bad input, an unreadable certificate, a record that cannot be written: the message says which and why.
    const message = error instanceof Error ? error.message : String(error);
    await failStep(host, `${phase.id}: ${message}`);
    return undefined;
  }
}
