// The Alerts wall of failed mailboxes: error tracelogs raised or repeated since the run began, read with as
// few queries as fit IIS's query-string limit (never one per mailbox), newest per mailbox. They carry details
// lastsyncerror leaves out, such as the X-EWS-Policy-Reason of an EWS-blocked tenant. D365 updates the existing
// row when an alert repeats (modifiedon moves, createdon stays), so the filter is on modifiedon. Alerts only
// add detail: a failed read is returned as a warning, never thrown, so the mailbox results always stand.
import type { WebApiClient } from '../../crm/client.js';
import { CrmError, CrmProtocolError } from '../../crm/errors.js';
import { QueryTooLongError } from '../../crm/query-chunks.js';
import type { Clock } from '../../crm/client-factory.js';
import { rowsWithIds } from './select.js';

/** D365's clock and the runner's may differ: look back this far before the run. */
const CLOCK_SLACK_MS = 15 * 60_000;

interface TraceRow {
  text: string | null;
  errordetails: string | null;
  _regardingobjectid_value: string | null;
  modifiedon: string | null;
  createdon: string;
}

export interface AlertDetails {
  /** Mailbox id → "text — details" of its newest error alert. */
  details: Map<string, string>;
  /** Why the alerts could not be read (the mailbox results stand without them). */
  warning?: string;
}

export async function readAlertDetails(
  client: WebApiClient,
  mailboxIds: Set<string>,
  clock: Clock,
  since?: Date,
): Promise<AlertDetails> {
  const start = since ?? new Date(clock.now().getTime() - 24 * 3_600_000);
  const from = new Date(start.getTime() - CLOCK_SLACK_MS).toISOString();
  const newest = new Map<string, TraceRow>();
  const when = (row: TraceRow) => Date.parse(row.modifiedon ?? row.createdon);
  try {
    for await (const row of rowsWithIds<TraceRow>(
      client,
      'tracelogs',
      'text,errordetails,_regardingobjectid_value,modifiedon,createdon',
      // Query functions take the attribute's logical name, not the _x_value column.
      'regardingobjectid',
      [...mailboxIds],
      `level eq 3 and modifiedon ge ${from}`,
    )) {
      const id = row._regardingobjectid_value?.toLowerCase();
      if (!id || !mailboxIds.has(id)) continue;
      const known = newest.get(id);
      if (!known || when(row) > when(known)) newest.set(id, row);
    }
  } catch (error) {
    if (!(error instanceof CrmError || error instanceof CrmProtocolError || error instanceof QueryTooLongError))
      throw error;
    return {
      details: new Map(),
      warning: `the Alerts (tracelogs) could not be read, so the failed mailboxes show lastsyncerror only: ${error.message}`,
    };
  }
  const details = new Map<string, string>();
  for (const [id, row] of newest) details.set(id, [row.text, row.errordetails].filter(Boolean).join(' — '));
  return { details };
}
