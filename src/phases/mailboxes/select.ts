// Which mailboxes a run works on, read with streamed pages into compact records (no raw rows are kept):
// every enabled Read-Write user with an email address, a list of addresses, or an OData filter. The
// approval status is read from the mailbox's user or queue, where D365 keeps it (an approval written on
// the mailbox is forwarded there).
import type { WebApiClient } from '../../crm/client.js';
import { inFilter, odataQuery, type MailboxRow } from '../../crm/entities.js';
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
  /** The query that reads every selected mailbox's state again (one paged query per poll round). */
  pollPath: string;
  /** Whether a row of the poll query belongs to the selection. */
  selected: Set<string>;
}

/** Up to this many values go into one In() filter; beyond, the whole set is streamed and filtered here. */
export const IN_FILTER_LIMIT = 50;

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

/** The server-side filter on mailboxes for the selection (narrowed further on this side). */
export function mailboxFilter(settings: MailboxSettings): string {
  if (settings.select === 'filter') return `(${settings.filter})`;
  if (
    settings.select === 'addresses' &&
    settings.addresses.length <= IN_FILTER_LIMIT &&
    settings.addresses.length > 0
  ) {
    return `statecode eq 0 and ${inFilter('emailaddress', settings.addresses)}`;
  }
  return 'statecode eq 0';
}

export function mailboxPath(settings: MailboxSettings): string {
  return `mailboxes${odataQuery({ $select: mailboxColumns(settings).join(','), $filter: mailboxFilter(settings) })}`;
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
    const filter = wanted.length <= IN_FILTER_LIMIT ? inFilter(key, wanted) : undefined;
    for await (const row of client.rows<Record<string, unknown>>(
      `${set}${odataQuery({ $select: `${key},emailrouteraccessapproval`, $filter: filter })}`,
    )) {
      const id = String(row[key]).toLowerCase();
      if (ownerIds.has(id)) found.set(id, { type, approval: (row.emailrouteraccessapproval as number | null) ?? null });
    }
  }
  return found;
}

export async function selectMailboxes(client: WebApiClient, settings: MailboxSettings): Promise<Selection> {
  const records: MailboxRecord[] = [];
  const path = mailboxPath(settings);
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
    for await (const row of client.rows<MailboxRow>(path, { annotations: true })) {
      const owner = row._regardingobjectid_value?.toLowerCase();
      if (!owner || !users.has(owner)) continue;
      const record = newRecord(row, settings);
      record.ownerType = 'systemuser';
      record.approval = users.get(owner) ?? null;
      records.push(record);
    }
    return { records, missing: [], pollPath: path, selected: new Set(records.map((r) => r.id)) };
  }

  const addresses = new Set(settings.addresses);
  for await (const row of client.rows<MailboxRow>(path, { annotations: true })) {
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
  return { records, missing, pollPath: path, selected: new Set(records.map((r) => r.id)) };
}
