// What a run records, phase by phase and step by step: the phase ids, a planned Step and its StepResult.
// It sits below both the phases (which produce them) and the report renderers (which read them), so
// neither needs the other.
export const PHASE_IDS = [
  'preflight',
  'register-entra',
  'configure-exchange',
  'install-certificate',
  'configure-crm',
  'configure-adfs',
  'configure-mailboxes',
  'verify',
  'retire-previous',
] as const;
export type PhaseId = (typeof PHASE_IDS)[number];

/**
 * "not-checked": a read-only check that could not run (its sign-in or an earlier read failed), so nothing is known;
 * never shown as unchanged. Added after run-record@1 was first written: older records never carry it, readers
 * treat unknown statuses as text.
 */
export type StepStatus = 'changed' | 'unchanged' | 'skipped' | 'not-checked' | 'failed';

/** Every status, for renderers and readers of records. */
export const STEP_STATUSES: readonly StepStatus[] = ['changed', 'unchanged', 'skipped', 'not-checked', 'failed'];

/** What plan() returns: one intended change (or check), with the value now and the value wanted. */
export interface Step {
  /** Stable within a phase, e.g. "entra.key-credential" or "server.CRMAPP01.private-key-acl". */
  id: string;
  title: string;
  /** What is touched: a server, an object id, a mailbox address. */
  target: string;
  /** "create" | "update" | "delete" change something; "none" is already right; "check" only reads. */
  action: 'create' | 'update' | 'delete' | 'none' | 'check';
  before: unknown;
  after: unknown;
  /** Why the step is skipped or what it depends on, in plain words. */
  note?: string;
}

/** What apply() returns for each step: what was there, what is there now, and proof read back. */
export interface StepResult {
  id: string;
  title: string;
  target: string;
  status: StepStatus;
  before: unknown;
  after: unknown;
  evidence?: unknown;
  /** The underlying error, when status is "failed". */
  error?: string;
  /** Why a step was "skipped" or "not-checked", in plain words ("sign-in failed"). */
  reason?: string;
  /** A warning worth reading even when the step passed (expiry near, deadline near). */
  warnings?: string[];
}
