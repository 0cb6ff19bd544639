// The Alerts wall of failed mailboxes: error tracelogs written since the run began, read with one paged
// query (not one per mailbox), newest per mailbox. They carry details lastsyncerror leaves out, such as
// the X-EWS-Policy-Reason of an EWS-blocked tenant.
import type { WebApiClient } from '../../crm/client.js';
import { inFilter, odataQuery } from '../../crm/entities.js';
import type { Clock } from '../../crm/services.js';
import { IN_FILTER_LIMIT } from './select.js';

/** D365's clock and the runner's may differ: look back this far before the run. */
const CLOCK_SLACK_MS = 15 * 60_000;

interface TraceRow {
  text: string | null;
  errordetails: string | null;
  _regardingobjectid_value: string | null;
  createdon: string;
}

/** Mailbox id → "text — details" of its newest error alert. */
export async function readAlertDetails(
  client: WebApiClient,
  mailboxIds: Set<string>,
  clock: Clock,
  since?: Date,
): Promise<Map<string, string>> {
  const start = since ?? new Date(clock.now().getTime() - 24 * 3_600_000);
  const from = new Date(start.getTime() - CLOCK_SLACK_MS).toISOString();
  const ids = [...mailboxIds];
  const filter = [
    `level eq 3`,
    `createdon ge ${from}`,
    ...(ids.length <= IN_FILTER_LIMIT ? [inFilter('_regardingobjectid_value', ids)] : []),
  ].join(' and ');
  const newest = new Map<string, TraceRow>();
  for await (const row of client.rows<TraceRow>(
    `tracelogs${odataQuery({ $select: 'text,errordetails,_regardingobjectid_value,createdon', $filter: filter })}`,
  )) {
    const id = row._regardingobjectid_value?.toLowerCase();
    if (!id || !mailboxIds.has(id)) continue;
    const known = newest.get(id);
    if (!known || Date.parse(row.createdon) > Date.parse(known.createdon)) newest.set(id, row);
  }
  const details = new Map<string, string>();
  for (const [id, row] of newest) details.set(id, [row.text, row.errordetails].filter(Boolean).join(' — '));
  return details;
}
