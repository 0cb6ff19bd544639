// Which mailboxes a run works on, read with streamed pages into compact records (no raw rows are kept):
// every enabled Read-Write user with an email address, a list of addresses, or an OData filter. The
// approval status is read from the mailbox's user or queue, where D365 keeps it (an approval written on
// the mailbox is forwarded there).
import type { WebApiClient } from '../../crm/client.js';
import { odataQuery, type MailboxRow } from '../../crm/entities.js';
import { anyOf, chunkedPaths, QUERY_STRING_BUDGET, queryBytes } from '../../crm/query-chunks.js';
import type { MailboxSettings } from './settings.js';

export interface MailboxRecord {
  id: string;
  address: string;
  name: string;
  ownerType: 'systemuser' | 'queue';
  ownerId: string | null;
  profileId: string | null;
  incoming: number | null;
  outgoing: number | null;
  act: number | null;
  /** emailrouteraccessapproval of the user or queue. */
  approval: number | null;
  incomingStatus: number | null;
  outgoingStatus: number | null;
  actStatus: number | null;
  enabledIncoming: boolean | null;
  enabledOutgoing: boolean | null;
  enabledAct: boolean | null;
  scheduled: boolean | null;
  postponeUntil: string | null;
  completedOn: string | null;
  lastError: string | null;
  lastErrorCode: number | null;
  officeStatus: number | null;
  officeScheduled: boolean | null;
  officeError: string | null;
}

export interface Selection {
  records: MailboxRecord[];
  /** Configured addresses without a mailbox in D365. */
  missing: string[];
  /** The queries that read every selected mailbox's state again (paged; one set per poll round). */
  pollPaths: string[];
  /** Whether a row of the poll query belongs to the selection. */
  selected: Set<string>;
}

/**
 * A list of values is read with filtered queries when it takes at most this many requests (each query string
 * sized under IIS's limit, see crm/query-chunks.ts); a longer list streams the whole set and filters here.
 */
export const MAX_FILTERED_QUERIES = 10;

export function mailboxColumns(settings: MailboxSettings): string[] {
  return [
    'mailboxid',
    'name',
    'emailaddress',
    '_regardingobjectid_value',
    '_emailserverprofile_value',
    'incomingemaildeliverymethod',
    'outgoingemaildeliverymethod',
    'actdeliverymethod',
    'incomingemailstatus',
    'outgoingemailstatus',
    'actstatus',
    'enabledforincomingemail',
    'enabledforoutgoingemail',
    'enabledforact',
    settings.testFields.scheduled,
    settings.testFields.postponeUntil,
    settings.testFields.completedOn,
    'lastsyncerror',
    'lastsyncerrorcode',
    'officeappsdeploymentstatus',
    'officeappsdeploymentscheduled',
    'officeappsdeploymenterror',
  ];
}

function mailboxQuery(settings: MailboxSettings, filter: string): string {
  return `mailboxes${odataQuery({ $select: mailboxColumns(settings).join(','), $filter: filter })}`;
}

/**
 * The query paths that read the selection's mailboxes (narrowed further on this side): one for every
 * active mailbox or a configured filter; for addresses, as few In()/eq queries as fit IIS's query-string
 * limit, or every active mailbox when that would take more than MAX_FILTERED_QUERIES requests.
 */
export function mailboxPaths(settings: MailboxSettings): string[] {
  if (settings.select === 'filter') {
    const path = mailboxQuery(settings, `(${settings.filter})`);
    if (queryBytes(path) > QUERY_STRING_BUDGET) {
      throw new Error(
        `email.mailboxes.filter makes a query string of ${queryBytes(path)} bytes; IIS refuses more than 2,048 (the toolkit keeps ${QUERY_STRING_BUDGET} for the first page): shorten the filter`,
      );
    }
    return [path];
  }
  if (settings.select === 'addresses' && settings.addresses.length > 0) {
    const paths = chunkedPaths(
      settings.addresses,
      (group) => `statecode eq 0 and ${anyOf('emailaddress', group)}`,
      (filter) => mailboxQuery(settings, filter),
    );
    if (paths.length <= MAX_FILTERED_QUERIES) return paths;
  }
  return [mailboxQuery(settings, 'statecode eq 0')];
}

/** Reads rows of `entitySet` whose `attribute` is one of `ids`, in as few requests as fit (or the whole set). */
export async function* rowsWithIds<T>(
  client: WebApiClient,
  entitySet: string,
  select: string,
  attribute: string,
  ids: string[],
  extraFilter?: string,
): AsyncGenerator<T> {
  const build = (filter: string | undefined) =>
    `${entitySet}${odataQuery({ $select: select, $filter: [extraFilter, filter].filter(Boolean).join(' and ') || undefined })}`;
  let paths = ids.length ? chunkedPaths(ids, (group) => anyOf(attribute, group), build) : [];
  if (paths.length > MAX_FILTERED_QUERIES) paths = [build(undefined)];
  for (const path of paths) yield* client.rows<T>(path);
}

/** Copies the state columns of a row into a record (the owner's approval is kept). */
export function refreshRecord(record: MailboxRecord, row: MailboxRow, settings: MailboxSettings): void {
  record.profileId = row._emailserverprofile_value ?? null;
  record.incoming = row.incomingemaildeliverymethod ?? null;
  record.outgoing = row.outgoingemaildeliverymethod ?? null;
  record.act = row.actdeliverymethod ?? null;
  record.incomingStatus = row.incomingemailstatus ?? null;
  record.outgoingStatus = row.outgoingemailstatus ?? null;
  record.actStatus = row.actstatus ?? null;
  record.enabledIncoming = row.enabledforincomingemail ?? null;
  record.enabledOutgoing = row.enabledforoutgoingemail ?? null;
  record.enabledAct = row.enabledforact ?? null;
  record.scheduled = (row[settings.testFields.scheduled] as boolean | null | undefined) ?? null;
  record.postponeUntil = (row[settings.testFields.postponeUntil] as string | null | undefined) ?? null;
  record.completedOn = (row[settings.testFields.completedOn] as string | null | undefined) ?? null;
  record.lastError = row.lastsyncerror ?? null;
  record.lastErrorCode = row.lastsyncerrorcode ?? null;
  record.officeStatus = row.officeappsdeploymentstatus ?? null;
  record.officeScheduled = row.officeappsdeploymentscheduled ?? null;
  record.officeError = row.officeappsdeploymenterror ?? null;
}

function newRecord(row: MailboxRow, settings: MailboxSettings): MailboxRecord {
  const type = row['_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname'];
  const record: MailboxRecord = {
    id: row.mailboxid.toLowerCase(),
    address: (row.emailaddress ?? '').toLowerCase(),
    name: row.name ?? row.emailaddress ?? row.mailboxid,
    ownerType: type === 'queue' ? 'queue' : 'systemuser',
    ownerId: row._regardingobjectid_value?.toLowerCase() ?? null,
    approval: null,
  } as MailboxRecord;
  refreshRecord(record, row, settings);
  return record;
}

/** Reads emailrouteraccessapproval of the given owners from systemusers, then queues for the rest. */
async function ownerApprovals(
  client: WebApiClient,
  ownerIds: Set<string>,
): Promise<Map<string, { type: 'systemuser' | 'queue'; approval: number | null }>> {
  const found = new Map<string, { type: 'systemuser' | 'queue'; approval: number | null }>();
  for (const [set, key, type] of [
    ['systemusers', 'systemuserid', 'systemuser'],
    ['queues', 'queueid', 'queue'],
  ] as const) {
    const wanted = [...ownerIds].filter((id) => !found.has(id));
    if (wanted.length === 0) break;
    for await (const row of rowsWithIds<Record<string, unknown>>(
      client,
      set,
      `${key},emailrouteraccessapproval`,
      key,
      wanted,
    )) {
      const id = String(row[key]).toLowerCase();
      if (ownerIds.has(id)) found.set(id, { type, approval: (row.emailrouteraccessapproval as number | null) ?? null });
    }
  }
  return found;
}

export async function selectMailboxes(client: WebApiClient, settings: MailboxSettings): Promise<Selection> {
  const records: MailboxRecord[] = [];
  const paths = mailboxPaths(settings);
  if (settings.select === 'all-active-users') {
    const users = new Map<string, number | null>();
    for await (const row of client.rows<{ systemuserid: string; emailrouteraccessapproval: number | null }>(
      `systemusers${odataQuery({
        $select: 'systemuserid,emailrouteraccessapproval',
        $filter: 'isdisabled eq false and accessmode eq 0 and internalemailaddress ne null',
      })}`,
    )) {
      users.set(row.systemuserid.toLowerCase(), row.emailrouteraccessapproval ?? null);
    }
    for await (const row of readAll<MailboxRow>(client, paths)) {
      const owner = row._regardingobjectid_value?.toLowerCase();
      if (!owner || !users.has(owner)) continue;
      const record = newRecord(row, settings);
      record.ownerType = 'systemuser';
      record.approval = users.get(owner) ?? null;
      records.push(record);
    }
    return { records, missing: [], pollPaths: paths, selected: new Set(records.map((r) => r.id)) };
  }

  const addresses = new Set(settings.addresses);
  const seen = new Set<string>();
  for await (const row of readAll<MailboxRow>(client, paths)) {
    if (seen.has(row.mailboxid.toLowerCase())) continue;
    seen.add(row.mailboxid.toLowerCase());
    if (settings.select === 'addresses' && !addresses.has((row.emailaddress ?? '').toLowerCase())) continue;
    records.push(newRecord(row, settings));
  }
  const owners = await ownerApprovals(
    client,
    new Set(records.map((r) => r.ownerId).filter((id): id is string => !!id)),
  );
  for (const record of records) {
    const owner = record.ownerId ? owners.get(record.ownerId) : undefined;
    if (owner) {
      record.ownerType = owner.type;
      record.approval = owner.approval;
    }
  }
  const present = new Set(records.map((r) => r.address));
  const missing = settings.select === 'addresses' ? settings.addresses.filter((a) => !present.has(a)) : [];
  return { records, missing, pollPaths: paths, selected: new Set(records.map((r) => r.id)) };
}

/** Streams the rows of several paged queries, one after another, with lookup names annotated. */
export async function* readAll<T>(client: WebApiClient, paths: string[]): AsyncGenerator<T> {
  for (const path of paths) yield* client.rows<T>(path, { annotations: true });
}
