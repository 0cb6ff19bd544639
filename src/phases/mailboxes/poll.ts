// Waiting for D365's asynchronous service: paged queries over all selected mailboxes per round (never one
// request per mailbox), until every awaited mailbox has a result or the time is up. A test is finished when
// testmailboxaccesscompletedon is at or after the mailbox's threshold (the postpone time this run wrote with
// the test, or just after the completion time seen before the run for a test scheduled earlier) and every
// tested direction shows Success or Failure. The statuses are reset to Not Run in the write that schedules a
// test, so a result left from an earlier test is never taken for this one. A Failure ends the wait for that
// mailbox at once (D365 may keep it scheduled for retries).
import type { Logger } from '../../hosts/host.js';
import { ProgressLine, type ProgressSink } from '../../hosts/progress.js';
import type { WebApiClient } from '../../crm/client.js';
import { TEST_STATUS, type MailboxRow } from '../../crm/entities.js';
import type { Clock } from '../../crm/client-factory.js';
import { wantedDirections } from './changes.js';
import { refreshRecord, type MailboxRecord, type Selection } from './select.js';
import type { MailboxSettings } from './settings.js';

export interface PollOptions {
  client: WebApiClient;
  settings: MailboxSettings;
  selection: Selection;
  records: Map<string, MailboxRecord>;
  /** Mailbox ids still waiting. Emptied as results arrive; what is left timed out. */
  pending: Set<string>;
  done: (record: MailboxRecord) => boolean;
  /** For the progress line: "Test & Enable", "App for Outlook". */
  what: string;
  clock: Clock;
  log: Logger;
  timeoutMs: number;
  failed?: (record: MailboxRecord) => boolean;
  /** Where the progress goes (the host); default: heartbeat lines in the log. */
  progress?: ProgressSink;
}

export interface PollOutcome {
  rounds: number;
  timedOut: boolean;
}

export async function pollUntilDone(options: PollOptions): Promise<PollOutcome> {
  const { client, settings, selection, records, pending, clock, log } = options;
  const total = pending.size;
  const started = clock.now().getTime();
  let rounds = 0;
  const line = new ProgressLine(options.progress ?? { log }, options.what, () => clock.now().getTime());
  line.update(`0 of ${total} have a result`, 0);
  try {
    while (pending.size) {
      const elapsed = clock.now().getTime() - started;
      if (elapsed >= options.timeoutMs) break;
      await clock.sleep(Math.min(settings.pollIntervalMs, options.timeoutMs - elapsed));
      rounds++;
      for (const path of selection.pollPaths) {
        for await (const row of client.rows<MailboxRow>(path)) {
          const id = row.mailboxid.toLowerCase();
          if (!pending.has(id)) continue;
          const record = records.get(id);
          if (!record) continue;
          refreshRecord(record, row, settings);
          if (options.done(record)) pending.delete(id);
        }
      }
      const finished = total - pending.size;
      const failed = options.failed
        ? [...records.values()].filter((r) => !pending.has(r.id) && options.failed!(r)).length
        : 0;
      const left = Math.max(0, Math.round((options.timeoutMs - (clock.now().getTime() - started)) / 60_000));
      log.info(
        `${options.what}: ${finished} of ${total} mailboxes have a result${failed ? ` (${failed} failed)` : ''}` +
          (pending.size
            ? `; waiting for ${pending.size}, about ${left} min left (round ${rounds})`
            : ` (round ${rounds})`),
      );
      line.update(
        `${finished} of ${total} have a result${failed ? `, ${failed} failed` : ''}`,
        Math.round((finished / total) * 100),
      );
    }
  } finally {
    line.done(`${total - pending.size} of ${total} have a result${pending.size ? `, ${pending.size} timed out` : ''}`);
  }
  return { rounds, timedOut: pending.size > 0 };
}

/** Test & Enable finished for a mailbox: completed at or after `threshold` (null: any completion) with results. */
export function testFinished(record: MailboxRecord, threshold: string | null, settings: MailboxSettings): boolean {
  if (!record.completedOn) return false;
  if (threshold !== null && !(Date.parse(record.completedOn) >= Date.parse(threshold))) return false;
  const wanted = wantedDirections(record, settings);
  const statuses = [record.incomingStatus, record.outgoingStatus, ...(wanted.act ? [record.actStatus] : [])];
  if (statuses.some((s) => s === TEST_STATUS.failure)) return true;
  return statuses.every((s) => s === TEST_STATUS.success || s === TEST_STATUS.failure);
}

/** The threshold for a test scheduled before this run: just after the completion time seen now. */
export function thresholdAfter(completedOn: string | null): string | null {
  if (!completedOn || Number.isNaN(Date.parse(completedOn))) return null;
  return new Date(Date.parse(completedOn) + 1).toISOString();
}

/** A finished test with a Failure in a tested direction. */
export function testFailed(record: MailboxRecord, settings: MailboxSettings): boolean {
  const wanted = wantedDirections(record, settings);
  return [record.incomingStatus, record.outgoingStatus, ...(wanted.act ? [record.actStatus] : [])].some(
    (s) => s === TEST_STATUS.failure,
  );
}

export interface TestRun {
  rounds: number;
  timedOut: Set<string>;
}

/** Waits for Test & Enable of the given mailboxes; `baselines` holds each one's threshold (see testFinished). */
export async function awaitTests(
  client: WebApiClient,
  settings: MailboxSettings,
  selection: Selection,
  records: Map<string, MailboxRecord>,
  baselines: Map<string, string | null>,
  clock: Clock,
  log: Logger,
  progress?: ProgressSink,
): Promise<TestRun> {
  const pending = new Set(baselines.keys());
  if (pending.size === 0) return { rounds: 0, timedOut: new Set() };
  log.info(
    `Test & Enable: waiting for ${pending.size} mailboxes (one query every ${settings.pollIntervalMs / 1000} s, at most ${settings.pollTimeoutMs / 60_000} min)`,
  );
  const outcome = await pollUntilDone({
    client,
    settings,
    selection,
    records,
    pending,
    done: (record) => testFinished(record, baselines.get(record.id) ?? null, settings),
    failed: (record) => baselines.has(record.id) && testFailed(record, settings),
    what: 'Test & Enable',
    clock,
    log,
    ...(progress ? { progress } : {}),
    timeoutMs: settings.pollTimeoutMs,
  });
  return { rounds: outcome.rounds, timedOut: new Set(pending) };
}
