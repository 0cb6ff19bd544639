// A step's state in words, the same everywhere (terminal, job summary, merged report): changed, unchanged,
// would change, failed, not checked (why), skipped (why). A step that did not run never reads as unchanged.
import type { Step, StepResult } from './step-result.js';

const WOULD = {
  create: 'would create',
  update: 'would change',
  delete: 'would delete',
  none: 'unchanged',
  check: 'will check',
};

export function statusText(step: Step | StepResult): string {
  if (!('status' in step)) return WOULD[step.action] ?? step.action;
  const why = stepReason(step);
  switch (step.status) {
    case 'not-checked':
      return `not checked (${why ?? 'it could not run'})`;
    case 'skipped':
      return why ? `skipped (${why})` : 'skipped';
    default:
      return step.status;
  }
}

/** Why a step was skipped or not checked: its reason, or (older records) the why kept in its evidence. */
export function stepReason(step: StepResult): string | undefined {
  if (step.reason) return step.reason;
  return step.status === 'skipped' || step.status === 'not-checked' ? skippedBecause(step.evidence) : undefined;
}

/** Records written before `reason` existed keep the why in evidence (skippedBecause or note). */
function skippedBecause(evidence: unknown): string | undefined {
  if (typeof evidence === 'string') return evidence;
  if (evidence && typeof evidence === 'object') {
    const e = evidence as { skippedBecause?: unknown; note?: unknown };
    if (typeof e.skippedBecause === 'string') return e.skippedBecause;
    if (typeof e.note === 'string') return e.note;
  }
  return undefined;
}
