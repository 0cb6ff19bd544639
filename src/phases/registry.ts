// Every phase the toolkit has, in the zero-downtime renewal order of DESIGN.md.
import type { Phase, PhaseId } from './phase.js';
import { createPreflightPhase } from './preflight.js';
import { configCheck } from './preflight/config-check.js';
import { certificateCheck } from './preflight/certificate-check.js';

export const PHASES: Phase[] = [createPreflightPhase([configCheck, certificateCheck])];

export function findPhase(id: string): Phase | undefined {
  return PHASES.find((phase) => phase.id === (id as PhaseId));
}
