// From the module's state object to the Phase contract: plan (-WhatIf) steps become Steps with their before and after
// values and an action; apply steps become StepResults (changed / unchanged / skipped / failed with the underlying
// message). A failed run keeps what the module did before it failed, marks the failed step with the module's
// message, and lists the steps it did not reach.
import type { PhaseScriptResult, PhaseScriptStep } from '../../powershell/types.js';
import { PowerShellPhaseError, PowerShellTimeoutError } from '../../powershell/types.js';
import type { Step, StepResult } from '../phase.js';
import type { WindowsPhaseId } from './powershell-service.js';

export interface ModuleStep {
  /** The module's step id (certificate, key-access, ...). */
  id: string;
  title: string;
  /** Only reads (the snap-in, the caller's rights, the read-back): "check" in a plan. */
  readOnly?: boolean;
  /** What a would-change step does; default "update". */
  action?: (step: PhaseScriptStep) => Step['action'];
}

export interface WindowsPhaseSpec {
  phase: WindowsPhaseId;
  /** Prefix of the step ids in the run record ("server" -> "server.certificate"). */
  prefix: string;
  /** Every step the module takes, in its order. */
  steps: ModuleStep[];
}

export interface RunDetails {
  /** The server the phase ran for, as the config names it. */
  server: string;
  /** Why a step the module skipped was skipped, when the phase knows better than the module (by module step id). */
  skipNotes?: Record<string, string>;
  /** Warnings of the run itself (extra modules loaded, another machine name), shown on the first step. */
  warnings: string[];
}

const stepDef = (spec: WindowsPhaseSpec, id: string): ModuleStep | undefined => spec.steps.find((s) => s.id === id);
const titleOf = (spec: WindowsPhaseSpec, step: PhaseScriptStep): string =>
  stepDef(spec, step.id)?.title ?? (step.title && step.title !== 'failed' ? step.title : step.id);
const recordId = (spec: WindowsPhaseSpec, id: string) => `${spec.prefix}.${id}`;
const list = <T>(value: T | T[] | null | undefined): T[] =>
  Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];

/** Warnings of the run that every result carries on its first step. */
export function runWarnings(server: string, result?: PhaseScriptResult): string[] {
  const warnings: string[] = [];
  if (result?.server && result.server.toUpperCase() !== server.toUpperCase()) {
    warnings.push(`the phase ran for ${server}, but PowerShell ran on the machine ${result.server}`);
  }
  return warnings;
}

function withRunFacts(evidence: unknown, result: PhaseScriptResult): unknown {
  const facts: Record<string, unknown> = {
    machine: result.server,
    ...(result.powershell ? { powershell: result.powershell } : {}),
    ...(Object.keys(result.evidence ?? {}).length ? { phase: result.evidence } : {}),
  };
  return evidence === null || evidence === undefined ? facts : { ...facts, step: evidence };
}

/** The -WhatIf result as plan Steps: before and after from the module, and what each step would do. */
export function planSteps(spec: WindowsPhaseSpec, result: PhaseScriptResult, details: RunDetails): Step[] {
  const warnings = [...details.warnings, ...list(result.warnings)];
  return result.steps.map((step, index): Step => {
    const def = stepDef(spec, step.id);
    let action: Step['action'];
    if (step.status === 'would-change' || step.status === 'changed') action = def?.action?.(step) ?? 'update';
    else action = def?.readOnly ? 'check' : 'none';
    const skipNote = step.status === 'skipped' ? (details.skipNotes?.[step.id] ?? step.message) : step.message;
    const notes = [skipNote, ...(index === 0 ? warnings : [])].filter((n): n is string => !!n);
    return {
      id: recordId(spec, step.id),
      title: titleOf(spec, step),
      target: details.server,
      action,
      before: step.before ?? null,
      // A step without an after value (a check, the restarts) shows what it found or would do: its evidence.
      after: step.after ?? step.evidence ?? null,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  });
}

function resultOf(spec: WindowsPhaseSpec, step: PhaseScriptStep, details: RunDetails): StepResult {
  const base = {
    id: recordId(spec, step.id),
    title: titleOf(spec, step),
    target: details.server,
    before: step.before ?? null,
    after: step.after ?? null,
    ...(step.evidence !== null && step.evidence !== undefined ? { evidence: step.evidence } : {}),
  };
  switch (step.status) {
    case 'changed':
      return { ...base, status: 'changed' };
    case 'unchanged':
      return { ...base, status: 'unchanged' };
    case 'skipped': {
      const note = details.skipNotes?.[step.id] ?? step.message;
      return {
        ...base,
        status: 'skipped',
        ...(note ? { reason: note, evidence: { ...toObject(base.evidence), note } } : {}),
      };
    }
    case 'failed':
      return { ...base, status: 'failed', error: step.message ?? 'failed' };
    default:
      return { ...base, status: 'failed', error: `the module reported "${step.status}" in apply mode` };
  }
}

function toObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function notReached(spec: WindowsPhaseSpec, done: StepResult[], details: RunDetails, why: string): StepResult[] {
  return spec.steps
    .filter((def) => !done.some((r) => r.id === recordId(spec, def.id)))
    .map((def) => ({
      id: recordId(spec, def.id),
      title: def.title,
      target: details.server,
      status: 'skipped' as const,
      reason: why,
      before: null,
      after: null,
      evidence: { note: why },
    }));
}

function attachRunFacts(results: StepResult[], result: PhaseScriptResult | undefined, warnings: string[]): void {
  const first = results[0];
  if (!first) return;
  if (result) first.evidence = withRunFacts(first.evidence, result);
  if (warnings.length) first.warnings = [...(first.warnings ?? []), ...warnings];
}

/** The apply result as StepResults. */
export function applyResults(spec: WindowsPhaseSpec, result: PhaseScriptResult, details: RunDetails): StepResult[] {
  const results = result.steps.map((step) => resultOf(spec, step, details));
  attachRunFacts(results, result, [...details.warnings, ...list(result.warnings)]);
  return results;
}

/**
 * A run that failed: the module's steps up to the failure (the failed one carries the underlying message), then the
 * steps it did not reach. Without a result from the module (timeout, no PowerShell, killed), one failed step.
 */
export function failedResults(spec: WindowsPhaseSpec, error: unknown, details: RunDetails): StepResult[] {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof PowerShellPhaseError)) {
    const results: StepResult[] = [
      {
        id: recordId(spec, 'powershell'),
        title: `Run the PowerShell module (${spec.phase})`,
        target: details.server,
        status: 'failed',
        before: null,
        after: null,
        error:
          error instanceof PowerShellTimeoutError
            ? `${message}. The steps it finished before are in the log; run plan to see the current state`
            : message,
      },
    ];
    attachRunFacts(results, undefined, details.warnings);
    return results;
  }
  const { detail, partial } = error;
  const results = (partial?.steps ?? []).map((step) => resultOf(spec, step, details));
  const failedId = recordId(spec, detail.step);
  const failed = results.find((r) => r.id === failedId && r.status === 'failed');
  if (failed) {
    failed.error = detail.message;
  } else {
    const def = stepDef(spec, detail.step);
    results.push({
      id: failedId,
      title: def?.title ?? `PowerShell: ${detail.step}`,
      target: details.server,
      status: 'failed',
      before: null,
      after: null,
      error: detail.message,
    });
  }
  const failedTitle = stepDef(spec, detail.step)?.title ?? detail.step;
  results.push(...notReached(spec, results, details, `not reached: ${failedTitle} failed`));
  attachRunFacts(results, partial, [...details.warnings, ...list(partial?.warnings)]);
  return results;
}

/** The failed step of a plan as one error message (the runner records it; nothing was changed). */
export function planError(spec: WindowsPhaseSpec, error: unknown, server: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PowerShellPhaseError) {
    const title = stepDef(spec, error.detail.step)?.title ?? error.detail.step;
    return new Error(`${spec.phase} plan for ${server} stopped at "${title}": ${error.detail.message}`);
  }
  return new Error(`${spec.phase} plan for ${server}: ${message}`);
}
