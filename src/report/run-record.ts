import { createHash } from 'node:crypto';
import type { PhaseId, Step, StepResult } from './step-result.js';

export const RUN_RECORD_SCHEMA = 'd365-exo-sync/run-record@1';

/** The audit record of one phase run: who, where, when, which config, and each step. Never a secret. */
export interface RunRecord {
  schema: typeof RUN_RECORD_SCHEMA;
  tool: { name: 'd365-exo-sync'; version: string };
  phase: PhaseId;
  mode: 'plan' | 'apply';
  status: 'succeeded' | 'failed';
  host: string;
  actor: string;
  machine: string;
  runId: string;
  runUrl?: string;
  startedAt: string;
  finishedAt: string;
  /** SHA-256 of the config file as loaded, so a record can be matched to the config it ran with. */
  configHash: string;
  /** plan mode: the steps; apply mode: their results. */
  steps: (Step | StepResult)[];
  outputs: Record<string, string>;
  error?: string;
}

export function configHash(configText: string): string {
  return 'sha256:' + createHash('sha256').update(configText, 'utf8').digest('hex');
}
