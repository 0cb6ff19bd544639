// The per-mailbox table (address, incoming, outgoing, ACT, approval, error) as StepResults for the run
// record, and as markdown for the job summary: failures first with their fix, then counts.
import type { StepResult, StepStatus } from '../phase.js';
import { labels, wantedDirections } from './changes.js';
import { diagnose, UNKNOWN_FAILURE_FIX, type Diagnosis } from './diagnosis.js';
import type { MailboxRecord } from './select.js';
import type { MailboxSettings } from './settings.js';

export interface MailboxRow {
  address: string;
  incoming: string;
  outgoing: string;
  act: string;
  approval: string;
  error: string;
}

export interface MailboxOutcome {
  record: MailboxRecord;
  before: Record<string, string>;
  after: Record<string, string>;
  status: StepStatus;
  /** Write error (D365's message). */
  writeError?: string;
  /** The test did not finish in time. */
  timedOut?: boolean;
  /** Test & Enable was awaited (scheduled now or before). */
  tested: boolean;
  /** Details from the Alerts wall (tracelog errordetails), when read. */
  alertDetails?: string;
  warnings: string[];
}

/** lastsyncerrorcode as the hex code admins search for (8005E259). */
export function errorCodeHex(code: number | null): string | undefined {
  return code === null || code === 0 ? undefined : (code >>> 0).toString(16).toUpperCase();
}

export function diagnosisOf(outcome: MailboxOutcome): Diagnosis | undefined {
  const { record } = outcome;
  return diagnose(outcome.writeError, record.lastError, outcome.alertDetails, errorCodeHex(record.lastErrorCode));
}

function directionLabel(status: number | null, wanted: boolean, pending: boolean): string {
  if (!wanted) return '—';
  if (pending) return 'Pending';
  return labels.test(status);
}

export function tableRow(outcome: MailboxOutcome, settings: MailboxSettings): MailboxRow {
  const { record } = outcome;
  const wanted = wantedDirections(record, settings);
  const pending = !!outcome.timedOut;
  const error =
    outcome.writeError ??
    (outcome.timedOut ? 'Test & Enable did not finish in time' : undefined) ??
    (outcome.status === 'failed' ? (record.lastError ?? 'Test & Enable reported Failure') : '');
  return {
    address: record.address,
    incoming: directionLabel(record.incomingStatus, wanted.incoming, pending),
    outgoing: directionLabel(record.outgoingStatus, wanted.outgoing, pending),
    act: directionLabel(record.actStatus, wanted.act, pending),
    approval: labels.approval(record.approval),
    error,
  };
}

/** The step of a selected address that has no mailbox in D365, for plan steps and results alike. */
export function missingMailbox(address: string) {
  return { id: `mailbox.${address}`, title: `Mailbox ${address}`, target: address, before: null, after: null };
}

/** A selected address that has no mailbox in D365. */
export function missingMailboxResult(address: string): StepResult {
  return {
    ...missingMailbox(address),
    status: 'failed',
    error: 'no mailbox with this address in D365 (check the spelling, or whether the user exists and has a mailbox)',
  };
}

/** The organization-default step of configure-mailboxes and verify. */
export const ORGANIZATION_DEFAULT_STEP = {
  id: 'crm.organization-default-profile',
  title: 'Default email server profile of the organization',
} as const;

/** A mailbox's step id, title and target, for plan steps and results alike. */
export function mailboxStep(record: MailboxRecord) {
  return {
    id: `mailbox.${record.address || record.id}`,
    title: `Mailbox ${record.address || record.name}`,
    target: record.address || record.id,
  };
}

export function mailboxResult(outcome: MailboxOutcome, settings: MailboxSettings): StepResult {
  const { record } = outcome;
  const row = tableRow(outcome, settings);
  const diagnosis = outcome.status === 'failed' ? diagnosisOf(outcome) : undefined;
  const result: StepResult = {
    ...mailboxStep(record),
    status: outcome.status,
    before: outcome.before,
    after: outcome.after,
    evidence: {
      mailboxId: record.id,
      owner: record.ownerType,
      test: { incoming: row.incoming, outgoing: row.outgoing, act: row.act, completedOn: record.completedOn },
      approval: row.approval,
      ...(record.lastError ? { lastSyncError: record.lastError } : {}),
      ...(errorCodeHex(record.lastErrorCode) ? { lastSyncErrorCode: errorCodeHex(record.lastErrorCode) } : {}),
      ...(outcome.alertDetails ? { alertDetails: outcome.alertDetails } : {}),
      ...(settings.outlookApp && record.ownerType === 'systemuser'
        ? { outlookApp: { status: record.officeStatus, scheduled: record.officeScheduled, error: record.officeError } }
        : {}),
      ...(diagnosis
        ? { diagnosis }
        : outcome.status === 'failed'
          ? { diagnosis: { id: 'unknown', fix: UNKNOWN_FAILURE_FIX } }
          : {}),
    },
  };
  if (row.error) result.error = diagnosis ? `${row.error} — Fix: ${diagnosis.fix}` : row.error;
  if (outcome.warnings.length) result.warnings = outcome.warnings;
  return result;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Markdown for the job summary: counts, fixes grouped by cause, and the table (failures first). */
export function summaryMarkdown(
  title: string,
  outcomes: MailboxOutcome[],
  settings: MailboxSettings,
  facts: string[],
  maxRows = 200,
): string {
  const failed = outcomes.filter((o) => o.status === 'failed');
  const changed = outcomes.filter((o) => o.status === 'changed').length;
  const unchanged = outcomes.filter((o) => o.status === 'unchanged').length;
  let md = `### ${title}\n\n`;
  for (const fact of facts) md += `- ${fact}\n`;
  md += `- ${outcomes.length} mailboxes: ${changed} changed, ${unchanged} unchanged, ${failed.length} failed\n\n`;
  const groups = new Map<string, { diagnosis: Diagnosis | undefined; count: number }>();
  for (const outcome of failed) {
    const diagnosis = diagnosisOf(outcome);
    const key = diagnosis?.id ?? (outcome.timedOut ? 'timeout' : 'unknown');
    const group = groups.get(key) ?? { diagnosis, count: 0 };
    group.count++;
    groups.set(key, group);
  }
  if (groups.size) {
    md += '**What to fix**\n\n';
    for (const [key, { diagnosis, count }] of groups) {
      const fix =
        diagnosis?.fix ??
        (key === 'timeout'
          ? 'The asynchronous service did not finish the tests in time: check that the Microsoft Dynamics CRM Asynchronous Processing Service runs on every async server, or raise email.mailboxes.poll.timeoutMinutes.'
          : UNKNOWN_FAILURE_FIX);
      md += `- **${diagnosis?.cause ?? key}** (${count} mailbox${count === 1 ? '' : 'es'}): ${fix}${diagnosis?.unconfirmed ? ` _(${diagnosis.unconfirmed})_` : ''}\n`;
    }
    md += '\n';
  }
  const ordered = [...failed, ...outcomes.filter((o) => o.status !== 'failed')];
  md += '| Address | Incoming | Outgoing | ACT | Approval | Error |\n|---|---|---|---|---|---|\n';
  for (const outcome of ordered.slice(0, maxRows)) {
    const row = tableRow(outcome, settings);
    md += `| ${cell(row.address)} | ${row.incoming} | ${row.outgoing} | ${row.act} | ${row.approval} | ${cell(row.error)} |\n`;
  }
  if (ordered.length > maxRows) md += `\n_${ordered.length - maxRows} more mailboxes are listed in the run record._\n`;
  return md;
}
