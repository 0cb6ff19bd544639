// What the rehearsal expects of each job, and the checks it makes against the sandbox's state. The demo exits 0 only
// when every job behaved as expected: not "no failure", but exactly the outcome a correct renewal has.
//
// The EWS block: at the start the Exchange Online tenant lets only another app use EWS, so it refuses EWS for D365
// (the emulator fails Test & Enable of user0007@contoso.com with X-EWS-Policy-Reason). In the first renewal
// configure-exchange adds the Dynamics app id to EwsAllowedAppIDs (keeping the other app); the demo fast-forwards past
// the 24 hours Exchange Online takes, and configure-mailboxes then sets up every mailbox, that one included. Any
// failure, or that mailbox not succeeding, is unexpected and fails the demo.
import { isResult, type PhaseId, type StepResult, type RunRecord } from '../../../src/index.js';

export type RoundId = 'renewal-1' | 'rerun' | 'renewal-2';

export interface Expectation {
  status: 'succeeded' | 'failed';
  /** some: at least one step changed; none: no step changed (unchanged or skipped only). */
  changes: 'some' | 'none';
  /** Step ids that must fail (and no other); empty when the job must not fail. */
  failures: string[];
  /** In words, for the output. */
  text: string;
}

/** Phases that change nothing by design: on a first run they pass without changes. */
export const READ_ONLY_PHASES: readonly PhaseId[] = ['preflight', 'verify'];

export function expectationFor(round: RoundId, phase: PhaseId): Expectation {
  if (round === 'rerun') return { status: 'succeeded', changes: 'none', failures: [], text: 'nothing changes' };
  if (READ_ONLY_PHASES.includes(phase))
    return { status: 'succeeded', changes: 'none', failures: [], text: 'passes, changes nothing (read-only)' };
  if (round === 'renewal-1' && phase === 'configure-exchange') {
    return {
      status: 'succeeded',
      changes: 'some',
      failures: [],
      text: 'adds the Dynamics app id to EwsAllowedAppIDs (other apps kept); in effect within 24 hours',
    };
  }
  if (
    round === 'renewal-2' &&
    (phase === 'configure-mailboxes' || phase === 'configure-adfs' || phase === 'configure-exchange')
  ) {
    // Nothing about mailboxes, AD FS or the tenant's EWS access depends on the certificate (adfs.updateSslCertificate is off).
    return { status: 'succeeded', changes: 'none', failures: [], text: 'already set up: nothing changes' };
  }
  return { status: 'succeeded', changes: 'some', failures: [], text: 'changes what the renewal needs' };
}

export interface StepCounts {
  changed: number;
  unchanged: number;
  skipped: number;
  'not-checked': number;
  failed: number;
}

export function countSteps(record: RunRecord): StepCounts {
  const counts: StepCounts = { changed: 0, unchanged: 0, skipped: 0, 'not-checked': 0, failed: 0 };
  for (const step of record.steps) if (isResult(step)) counts[step.status]++;
  return counts;
}

/** Whether a job's record is what the rehearsal expects; the reasons when not. */
export function judgeRecord(expectation: Expectation, record: RunRecord): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  const counts = countSteps(record);
  if (record.status !== expectation.status)
    problems.push(`${record.status} (expected ${expectation.status})${record.error ? `: ${record.error}` : ''}`);
  if (expectation.changes === 'some' && counts.changed === 0) problems.push('nothing changed');
  if (expectation.changes === 'none' && counts.changed > 0) {
    const changed = record.steps.filter((s) => isResult(s) && s.status === 'changed').map((s) => s.title);
    problems.push(`changed ${changed.join(', ')}`);
  }
  const failed = record.steps.filter((s): s is StepResult => isResult(s) && s.status === 'failed').map((s) => s.id);
  const unexpected = failed.filter((id) => !expectation.failures.includes(id));
  const missing = expectation.failures.filter((id) => !failed.includes(id));
  if (unexpected.length)
    problems.push(`failed: ${unexpected.map((id) => record.steps.find((s) => s.id === id)?.title ?? id).join(', ')}`);
  if (missing.length) problems.push(`expected to fail but did not: ${missing.join(', ')}`);
  return { ok: problems.length === 0, problems };
}
