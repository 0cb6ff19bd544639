// The contract between preflight and the areas it checks.
import type { PhaseContext, Step, StepResult } from '../phase.js';

/**
 * One group of read-only checks that preflight runs (config and certificate, Entra ID, D365 Web API).
 * Each area contributes its own, so preflight grows as phases land without knowing their clients.
 */
export interface PreflightCheck {
  id: string;
  /** Whether this check can run with what the run was given (a reachable endpoint, a certificate, ...). */
  applies(ctx: PhaseContext): boolean;
  /** The checks it would make, as plan steps (action "check"). */
  plan(ctx: PhaseContext): Step[];
  /** Runs the checks. A failed check is a StepResult with status "failed", not an exception. */
  run(ctx: PhaseContext): Promise<{ results: StepResult[]; outputs?: Record<string, string> }>;
}

/** A check's outcome before its id, title and target are added: what the pure evaluations return. */
export type Finding = Partial<StepResult> & Pick<StepResult, 'status'>;

/** Findings as results: each named finding gets its step's id and title and the check's target (unless it names one). */
export function findingResults<Name extends string>(
  steps: Record<Name, { id: string; title: string }>,
  findings: [Name, Finding][],
  target: string,
): StepResult[] {
  return findings.map(([name, finding]) => ({ ...steps[name], target, before: null, after: null, ...finding }));
}
