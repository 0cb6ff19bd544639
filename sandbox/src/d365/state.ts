// The emulated organization's data and the rules D365 applies when it is written: attribute checks,
// privilege checks, approval forwarded from the mailbox to its user or queue, change sets that roll
// back, and Test & Enable / App for Outlook as asynchronous jobs that finish later.
import { randomUUID } from 'node:crypto';
import { failureFor, type FailurePreset, type FailureSpec } from './failures.js';
import {
  attributeOfColumn,
  columnName,
  EMAIL_SERVER_PROFILE,
  ENTITIES,
  MAILBOX,
  ORGANIZATION,
  PRIVILEGE,
  QUEUE,
  ROLE,
  SYSTEMUSER,
  TRACELOG,
  type EntityMeta,
} from './metadata.js';

export type Row = Record<string, unknown>;

/** An error the emulator answers with: status plus the OData error body D365 would send. */
export class EmulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EmulatorHttpError';
  }
}

export interface MailboxSeed {
  address: string;
  name?: string;
  kind?: 'user' | 'queue';
  /** The user is disabled (systemuser isdisabled). */
  disabled?: boolean;
  /** systemuser accessmode (0 Read-Write, 4 Non-interactive, ...). */
  accessMode?: number;
  incoming?: number;
  outgoing?: number;
  act?: number;
  approval?: number;
  /** Already on the given profile with server-side sync, approved and tested OK. */
  configuredWithProfile?: string;
}

export interface ProfileSeed {
  name: string;
  [attribute: string]: unknown;
}

export interface TestAndEnableOptions {
  /** Wall-clock delay before a scheduled test completes (default 200 ms). */
  delayMs?: number;
  /** Instead of time: the test completes once this many mailbox queries (not pages) have been answered. */
  afterQueries?: number;
  /** Per address (lower case): a preset or a custom failure. */
  failures?: Record<string, FailurePreset | FailureSpec>;
  /** Every mailbox fails with this (e.g. 'ews-blocked' for a blocked tenant). */
  failAll?: FailurePreset | FailureSpec;
  /** Addresses whose test never completes (for timeouts). */
  never?: string[];
  /** A failed test stays scheduled with a postponed retry, as D365 does while retries remain. */
  keepScheduledOnFailure?: boolean;
}

export interface WriteFailure {
  status: number;
  code: string;
  message: string;
}

export interface StateOptions {
  organization: string;
  mailboxes?: number | MailboxSeed[];
  domain?: string;
  profiles?: ProfileSeed[];
  requireApproval?: boolean;
  caller?: {
    systemAdministrator?: boolean;
    missingPrivileges?: string[];
    name?: string;
    /** Depth per privilege (default Global). With Basic, only records the caller owns may be written. */
    depths?: Record<string, PrivilegeDepth>;
  };
  /**
   * The deployment's S2STenantId: with usedefaulttenantid true, D365 keeps this in exchangeonlinetenantid, whatever
   * a write says.
   */
  s2sTenantId?: string;
  testAndEnable?: TestAndEnableOptions;
  officeApps?: { withoutPrivilege?: string[]; delayMs?: number };
  /** PATCHes of these mailboxes (by address, lower case) fail with this error. */
  writeFailures?: Record<string, WriteFailure>;
  now?: () => number;
}

const PRIVILEGE_NAMES = [
  'prvApproveRejectEmailAddress',
  'prvReadMailbox',
  'prvWriteMailbox',
  'prvCreateMailbox',
  'prvReadEmailServerProfile',
  'prvWriteEmailServerProfile',
  'prvCreateEmailServerProfile',
  'prvReadOrganization',
  'prvWriteOrganization',
  'prvReadUser',
  'prvWriteUser',
  'prvReadQueue',
  'prvWriteQueue',
  'prvUseOfficeApps',
  'prvAppendMailbox',
  'prvAppendToEmailServerProfile',
];

export type PrivilegeDepth = 'Basic' | 'Local' | 'Deep' | 'Global';

const WRITE_PRIVILEGE: Record<string, { create: string; update: string }> = {
  mailboxes: { create: 'prvCreateMailbox', update: 'prvWriteMailbox' },
  emailserverprofiles: { create: 'prvCreateEmailServerProfile', update: 'prvWriteEmailServerProfile' },
  organizations: { create: 'prvWriteOrganization', update: 'prvWriteOrganization' },
  systemusers: { create: 'prvWriteUser', update: 'prvWriteUser' },
  queues: { create: 'prvWriteQueue', update: 'prvWriteQueue' },
};

const READ_PRIVILEGE: Record<string, string> = {
  mailboxes: 'prvReadMailbox',
  emailserverprofiles: 'prvReadEmailServerProfile',
  organizations: 'prvReadOrganization',
  systemusers: 'prvReadUser',
  queues: 'prvReadQueue',
};

/** A deterministic GUID from a prefix and a number (readable in test output). */
export function seedId(prefix: string, n: number): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Work done inside one change set (or one standalone request), undone when it fails. */
export class Transaction {
  readonly before = new Map<string, Row | undefined>();
  readonly effects: Array<() => void> = [];
  writes = 0;
  readonly writesBySet: Record<string, number> = {};
}

interface TestJob {
  mailboxId: string;
  scheduledAt: number;
  queries: number;
}

export class D365State {
  readonly tables: Record<string, Map<string, Row>> = {};
  readonly organizationId = seedId('0c0c0c0c', 1);
  readonly businessUnitId = seedId('0b0b0b0b', 1);
  readonly callerId = seedId('0a0a0a0a', 1);
  readonly privilegeIds = new Map<string, string>();
  readonly callerPrivileges = new Set<string>();
  readonly callerDepths = new Map<string, PrivilegeDepth>();
  readonly s2sTenantId: string;
  readonly callerRoleIds: string[] = [];
  readonly now: () => number;
  /** Test & Enable behaviour; tests may change it between runs (e.g. a tenant that gets EWS-blocked). */
  readonly testAndEnable: TestAndEnableOptions;
  private testJobs = new Map<string, TestJob>();
  private officeJobs = new Map<string, TestJob>();
  private sorted = new Map<string, string[]>();

  constructor(private readonly options: StateOptions) {
    this.now = options.now ?? Date.now;
    this.testAndEnable = options.testAndEnable ?? {};
    this.s2sTenantId = (options.s2sTenantId ?? '11111111-2222-3333-4444-555555555555').toLowerCase();
    for (const meta of Object.values(ENTITIES)) this.tables[meta.entitySet] = new Map();
    this.seed();
  }

  table(entitySet: string): Map<string, Row> {
    const table = this.tables[entitySet];
    if (!table) throw new EmulatorHttpError(404, '0x80060888', `Resource not found for the segment '${entitySet}'.`);
    return table;
  }

  /** Row ids in key order (the order pages are served in). */
  sortedIds(entitySet: string): string[] {
    let ids = this.sorted.get(entitySet);
    if (!ids) {
      ids = [...this.table(entitySet).keys()].sort();
      this.sorted.set(entitySet, ids);
    }
    return ids;
  }

  private insert(meta: EntityMeta, row: Row): Row {
    const id = row[meta.primaryKey] as string;
    const full: Row = { ...row, createdon: row.createdon ?? new Date(this.now()).toISOString(), __version: 1 };
    this.table(meta.entitySet).set(id, full);
    this.sorted.delete(meta.entitySet);
    return full;
  }

  private seed(): void {
    const options = this.options;
    const now = new Date(this.now()).toISOString();
    PRIVILEGE_NAMES.forEach((name, i) => {
      const id = seedId('0e0e0e0e', i + 1);
      this.privilegeIds.set(name, id);
      this.insert(PRIVILEGE, { privilegeid: id, name });
    });
    const missing = new Set(options.caller?.missingPrivileges ?? []);
    for (const name of PRIVILEGE_NAMES) {
      if (missing.has(name)) continue;
      this.callerPrivileges.add(name);
      this.callerDepths.set(name, options.caller?.depths?.[name] ?? 'Global');
    }
    const sysadmin = options.caller?.systemAdministrator ?? true;
    const adminRole = seedId('0d0d0d0d', 1);
    const otherRole = seedId('0d0d0d0d', 2);
    this.insert(ROLE, {
      roleid: adminRole,
      name: 'System Administrator',
      _roletemplateid_value: '627090ff-40a3-4053-8790-584edc5be201',
      _businessunitid_value: this.businessUnitId,
    });
    this.insert(ROLE, {
      roleid: otherRole,
      name: 'Salesperson',
      _roletemplateid_value: seedId('0f0f0f0f', 1),
      _businessunitid_value: this.businessUnitId,
    });
    this.callerRoleIds.push(sysadmin ? adminRole : otherRole);

    this.insert(ORGANIZATION, {
      organizationid: this.organizationId,
      name: options.organization,
      _defaultemailserverprofileid_value: null,
      requireapprovalforuseremail: options.requireApproval ?? true,
      requireapprovalforqueueemail: options.requireApproval ?? true,
      emailconnectionchannel: 0,
      officeappsautodeploymentenabled: false,
    });
    // The caller: a real user (the pipeline's service account) without a mailbox address.
    this.insert(SYSTEMUSER, {
      systemuserid: this.callerId,
      fullname: options.caller?.name ?? 'svc-d365-sync',
      domainname: 'CONTOSO\\svc-d365-sync',
      internalemailaddress: null,
      isdisabled: false,
      accessmode: 0,
      emailrouteraccessapproval: 0,
      isemailaddressapprovedbyo365admin: false,
      _defaultmailbox_value: null,
      _businessunitid_value: this.businessUnitId,
      incomingemaildeliverymethod: 0,
      outgoingemaildeliverymethod: 0,
    });

    const profileIds = new Map<string, string>();
    (options.profiles ?? []).forEach((profile, i) => {
      const id = seedId('0f1f1f1f', i + 1);
      profileIds.set(profile.name, id);
      const row: Row = {
        ...this.profileDefaults(),
        ...profile,
        emailserverprofileid: id,
        _ownerid_value: this.callerId,
      };
      if (row.usedefaulttenantid !== false) row.exchangeonlinetenantid = this.s2sTenantId;
      this.insert(EMAIL_SERVER_PROFILE, row);
    });

    const domain = options.domain ?? 'contoso.com';
    const seeds: MailboxSeed[] =
      typeof options.mailboxes === 'number' || options.mailboxes === undefined
        ? Array.from({ length: options.mailboxes ?? 0 }, (_, i) => ({
            address: `user${String(i + 1).padStart(4, '0')}@${domain}`,
            name: `User ${i + 1}`,
          }))
        : options.mailboxes;
    seeds.forEach((seed, i) => {
      const n = i + 1;
      const mailboxId = seedId('0b0c0c0c', n);
      const kind = seed.kind ?? 'user';
      const ownerId = kind === 'user' ? seedId('05e05e05', n) : seedId('09e09e09', n);
      const name = seed.name ?? seed.address;
      const configured = seed.configuredWithProfile ? profileIds.get(seed.configuredWithProfile) : undefined;
      if (seed.configuredWithProfile && !configured)
        throw new Error(`seed profile ${seed.configuredWithProfile} is not in profiles`);
      const approval = configured ? 1 : (seed.approval ?? 2);
      if (kind === 'user') {
        this.insert(SYSTEMUSER, {
          systemuserid: ownerId,
          fullname: name,
          domainname: `CONTOSO\\${seed.address.split('@')[0]}`,
          internalemailaddress: seed.address,
          isdisabled: seed.disabled ?? false,
          accessmode: seed.accessMode ?? 0,
          emailrouteraccessapproval: approval,
          isemailaddressapprovedbyo365admin: false,
          _defaultmailbox_value: mailboxId,
          _businessunitid_value: this.businessUnitId,
          incomingemaildeliverymethod: seed.incoming ?? 1,
          outgoingemaildeliverymethod: seed.outgoing ?? 1,
        });
      } else {
        this.insert(QUEUE, {
          queueid: ownerId,
          name,
          emailaddress: seed.address,
          emailrouteraccessapproval: approval,
          isemailaddressapprovedbyo365admin: false,
          _defaultmailbox_value: mailboxId,
          incomingemaildeliverymethod: seed.incoming ?? 0,
          outgoingemaildeliverymethod: seed.outgoing ?? 0,
          statecode: 0,
        });
      }
      this.insert(MAILBOX, {
        mailboxid: mailboxId,
        name,
        emailaddress: seed.address,
        _regardingobjectid_value: ownerId,
        __regardingtype: kind === 'user' ? 'systemuser' : 'queue',
        _ownerid_value: kind === 'user' ? ownerId : this.callerId,
        _emailserverprofile_value: configured ?? null,
        incomingemaildeliverymethod: configured ? 2 : (seed.incoming ?? (kind === 'user' ? 1 : 0)),
        outgoingemaildeliverymethod: configured ? 2 : (seed.outgoing ?? (kind === 'user' ? 1 : 0)),
        actdeliverymethod: configured ? 1 : (seed.act ?? (kind === 'user' ? 0 : 2)),
        // The mailbox's own copy, as D365 keeps it: approval is forwarded to the user/queue on write.
        emailrouteraccessapproval: seed.approval ?? 2,
        testemailconfigurationscheduled: false,
        testemailconfigurationretrycount: 0,
        postponetestemailconfigurationuntil: null,
        testmailboxaccesscompletedon: configured ? now : null,
        incomingemailstatus: configured ? 1 : 0,
        outgoingemailstatus: configured ? 1 : 0,
        actstatus: configured ? 1 : 0,
        mailboxstatus: configured ? 1 : 0,
        enabledforincomingemail: true,
        enabledforoutgoingemail: true,
        enabledforact: true,
        isemailaddressapprovedbyo365admin: false,
        lastsyncerror: null,
        lastsyncerrorcode: null,
        lastsyncerrorcount: 0,
        lastsyncerroroccurredon: null,
        lastsuccessfulsynccompletedon: null,
        officeappsdeploymentscheduled: false,
        officeappsdeploymentstatus: 0,
        officeappsdeploymenterror: null,
        officeappsdeploymentcompleteon: null,
        statecode: 0,
        statuscode: 1,
      });
    });
  }

  /** What a new profile has when the create payload leaves an attribute out (metadata defaults). */
  private profileDefaults(): Row {
    return {
      description: null,
      servertype: null,
      incomingcredentialretrieval: 0,
      outgoingcredentialretrieval: 0,
      incomingauthenticationprotocol: 0,
      outgoingauthenticationprotocol: 0,
      useautodiscover: false,
      usedefaulttenantid: true,
      exchangeonlinetenantid: null,
      exchangeversion: null,
      incomingserverlocation: null,
      outgoingserverlocation: null,
      defaultserverlocation: null,
      usesamesettingsforoutgoingconnections: true,
      maxconcurrentconnections: 10,
      minpollingintervalinminutes: 0,
      timeoutmailboxconnection: true,
      timeoutmailboxconnectionafteramount: 100000,
      incomingusessl: true,
      outgoingusessl: true,
      incominguseimpersonation: false,
      outgoinguseimpersonation: false,
      moveundeliveredemails: false,
      sendemailalert: false,
      statecode: 0,
      statuscode: 1,
    };
  }

  // ---- privileges ------------------------------------------------------------------------------

  private privilegeDenied(name: string): EmulatorHttpError {
    const id = this.privilegeIds.get(name) ?? '00000000-0000-0000-0000-000000000000';
    return new EmulatorHttpError(
      403,
      '0x80040220',
      `The user does not hold the necessary privileges. SecLib::CrmCheckPrivilege failed. Returned hr = -2147220960 on UserId: ${this.callerId} and PrivilegeId: ${id}`,
    );
  }

  requireRead(entitySet: string): void {
    const privilege = READ_PRIVILEGE[entitySet];
    if (privilege && !this.callerPrivileges.has(privilege)) throw this.privilegeDenied(privilege);
  }

  // ---- writes ----------------------------------------------------------------------------------

  /** Creates or updates one record inside a transaction, with D365's checks. Returns the id. */
  write(
    tx: Transaction,
    entitySet: string,
    id: string | undefined,
    body: unknown,
    ifMatch: string | undefined,
  ): string {
    const meta = ENTITIES[entitySet];
    if (!meta) throw new EmulatorHttpError(404, '0x80060888', `Resource not found for the segment '${entitySet}'.`);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new EmulatorHttpError(400, '0x80040203', 'The request body must be a JSON object.');
    }
    const table = this.table(entitySet);
    const existing = id ? table.get(id.toLowerCase()) : undefined;
    if (id && !existing && ifMatch === '*') {
      throw new EmulatorHttpError(
        404,
        '0x80040217',
        `${meta.logicalName} With Id = ${id.toLowerCase()} Does Not Exist`,
      );
    }
    const mode = existing ? 'update' : 'create';
    const writePrivilege = WRITE_PRIVILEGE[entitySet];
    if (!writePrivilege || ['tracelogs', 'roles', 'privileges'].includes(entitySet)) {
      throw new EmulatorHttpError(
        405,
        '0x80040203',
        `The ${mode} of ${meta.logicalName} records is not supported here.`,
      );
    }
    if (!this.callerPrivileges.has(writePrivilege[mode])) throw this.privilegeDenied(writePrivilege[mode]);
    // Basic depth: only the caller's own records (a user's mailbox belongs to that user).
    if (
      existing &&
      this.callerDepths.get(writePrivilege[mode]) === 'Basic' &&
      existing._ownerid_value !== this.callerId
    )
      throw this.privilegeDenied(writePrivilege[mode]);

    const changes = this.validate(meta, body as Row, mode);
    // Setting a lookup needs Append on the record and Append To on the record it points at.
    if (entitySet === 'mailboxes' && '_emailserverprofile_value' in changes && changes._emailserverprofile_value) {
      for (const needed of ['prvAppendMailbox', 'prvAppendToEmailServerProfile'])
        if (!this.callerPrivileges.has(needed)) throw this.privilegeDenied(needed);
    }
    if (entitySet === 'emailserverprofiles' && changes.usedefaulttenantid !== false) {
      const usesDefault = changes.usedefaulttenantid ?? existing?.usedefaulttenantid ?? true;
      if (usesDefault) changes.exchangeonlinetenantid = this.s2sTenantId;
    }
    if ('emailrouteraccessapproval' in changes && !this.callerPrivileges.has('prvApproveRejectEmailAddress')) {
      throw this.privilegeDenied('prvApproveRejectEmailAddress');
    }
    if (entitySet === 'mailboxes' && existing) {
      const failure = this.options.writeFailures?.[String(existing.emailaddress ?? '').toLowerCase()];
      if (failure) throw new EmulatorHttpError(failure.status, failure.code, failure.message);
    }
    if (mode === 'create') {
      if (entitySet !== 'emailserverprofiles') {
        throw new EmulatorHttpError(
          405,
          '0x80040203',
          `The emulator only creates email server profiles, not ${meta.logicalName} records.`,
        );
      }
      if (!changes.name) throw new EmulatorHttpError(400, '0x80040203', "The 'name' attribute is required.");
      if (changes.servertype === undefined || changes.servertype === null) {
        throw new EmulatorHttpError(400, '0x80040203', "The 'servertype' attribute is required.");
      }
      const newId = (id ?? randomUUID()).toLowerCase();
      tx.before.set(`${entitySet}/${newId}`, undefined);
      this.insert(meta, {
        ...this.profileDefaults(),
        ...changes,
        emailserverprofileid: newId,
        _ownerid_value: this.callerId,
      });
      this.countWrite(tx, entitySet);
      return newId;
    }
    const rowId = existing![meta.primaryKey] as string;
    this.touch(tx, entitySet, rowId);
    if (entitySet === 'mailboxes') this.updateMailbox(tx, existing!, changes);
    else Object.assign(existing!, changes);
    existing!.modifiedon = new Date(this.now()).toISOString();
    existing!.__version = (existing!.__version as number) + 1;
    this.countWrite(tx, entitySet);
    return rowId;
  }

  private countWrite(tx: Transaction, entitySet: string): void {
    tx.writes++;
    tx.writesBySet[entitySet] = (tx.writesBySet[entitySet] ?? 0) + 1;
  }

  private touch(tx: Transaction, entitySet: string, id: string): void {
    const key = `${entitySet}/${id}`;
    if (!tx.before.has(key)) {
      const row = this.table(entitySet).get(id);
      tx.before.set(key, row ? { ...row } : undefined);
    }
  }

  rollback(tx: Transaction): void {
    for (const [key, row] of [...tx.before.entries()].reverse()) {
      const [entitySet, id] = key.split('/') as [string, string];
      const table = this.table(entitySet);
      if (row) {
        const current = table.get(id);
        if (current) {
          for (const name of Object.keys(current)) delete current[name];
          Object.assign(current, row);
        } else table.set(id, row);
      } else {
        table.delete(id);
        this.sorted.delete(entitySet);
      }
    }
  }

  commit(tx: Transaction): void {
    for (const effect of tx.effects) effect();
  }

  /** Checks a payload against the metadata, as D365 does; returns the column changes. */
  private validate(meta: EntityMeta, body: Row, mode: 'create' | 'update'): Row {
    const changes: Row = {};
    const type = `Microsoft.Dynamics.CRM.${meta.logicalName}`;
    for (const [key, value] of Object.entries(body)) {
      if (key.endsWith('@odata.bind')) {
        const nav = key.slice(0, -'@odata.bind'.length);
        const attribute = meta.attributes[nav];
        if (!attribute || attribute.type !== 'lookup') {
          throw new EmulatorHttpError(
            400,
            '0x80060888',
            `An undeclared property '${nav}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.`,
          );
        }
        if (!(mode === 'create' ? attribute.create : attribute.update)) {
          throw new EmulatorHttpError(400, '0x80040203', `'${nav}' is not valid for ${mode}.`);
        }
        const match = typeof value === 'string' ? /(?:^|\/)([a-z_]+)\(([0-9a-fA-F-]{36})\)$/.exec(value) : null;
        if (!match || !attribute.targets?.includes(match[1]!)) {
          throw new EmulatorHttpError(
            400,
            '0x80060888',
            `The value '${String(value)}' of '${key}' is not a reference to ${attribute.targets?.join(' or ')}.`,
          );
        }
        const target = this.table(match[1]!).get(match[2]!.toLowerCase());
        if (!target) {
          throw new EmulatorHttpError(
            404,
            '0x80040217',
            `${ENTITIES[match[1]!]!.logicalName} With Id = ${match[2]!.toLowerCase()} Does Not Exist`,
          );
        }
        changes[columnName(nav, attribute)] = match[2]!.toLowerCase();
        continue;
      }
      if (key.includes('@')) continue; // other annotations are ignored
      const attribute = meta.attributes[key];
      if (!attribute || attribute.type === 'lookup' || attribute.type === 'guid') {
        throw new EmulatorHttpError(
          400,
          '0x80060888',
          `The property '${key}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type.`,
        );
      }
      // Stricter than D365, which may ignore such a value: keeps the client honest.
      if (!(mode === 'create' ? attribute.create : attribute.update)) {
        throw new EmulatorHttpError(400, '0x80040203', `'${key}' is not valid for ${mode}.`);
      }
      changes[key] = this.checkValue(meta, key, attribute, value);
    }
    return changes;
  }

  private checkValue(
    meta: EntityMeta,
    key: string,
    attribute: EntityMeta['attributes'][string],
    value: unknown,
  ): unknown {
    if (value === null) return null;
    const edm: Record<string, string> = {
      bool: 'Edm.Boolean',
      int: 'Edm.Int32',
      option: 'Edm.Int32',
      string: 'Edm.String',
      datetime: 'Edm.DateTimeOffset',
    };
    const wrongType = () =>
      new EmulatorHttpError(
        400,
        '',
        `Cannot convert the literal '${String(value)}' to the expected type '${edm[attribute.type] ?? 'Edm.String'}'.`,
      );
    switch (attribute.type) {
      case 'bool':
        if (typeof value !== 'boolean') throw wrongType();
        return value;
      case 'int':
        if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType();
        if (
          (attribute.min !== undefined && value < attribute.min) ||
          (attribute.max !== undefined && value > attribute.max)
        ) {
          throw new EmulatorHttpError(
            400,
            '0x80044331',
            `A validation error occurred.  The value ${value} of '${key}' on record of type '${meta.logicalName}' is outside the valid range.`,
          );
        }
        return value;
      case 'option':
        if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType();
        if (!attribute.options!.includes(value)) {
          throw new EmulatorHttpError(
            400,
            '0x80044331',
            `A validation error occurred.  The value ${value} of '${key}' on record of type '${meta.logicalName}' is outside the valid range. Accepted Values: ${attribute.options!.join(',')}`,
          );
        }
        return value;
      case 'string':
        if (typeof value !== 'string') throw wrongType();
        if (attribute.maxLength !== undefined && value.length > attribute.maxLength) {
          throw new EmulatorHttpError(
            400,
            '0x80044331',
            `A validation error occurred.  The length of the '${key}' attribute of the '${meta.logicalName}' entity exceeded the maximum allowed length of '${attribute.maxLength}'.`,
          );
        }
        return value;
      case 'datetime':
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw wrongType();
        return new Date(value).toISOString();
      default:
        throw wrongType();
    }
  }

  private updateMailbox(tx: Transaction, mailbox: Row, changes: Row): void {
    // Approval written on the mailbox goes to its user or queue, and is dropped from the mailbox write.
    if ('emailrouteraccessapproval' in changes) {
      const ownerSet = mailbox.__regardingtype === 'queue' ? 'queues' : 'systemusers';
      const ownerId = mailbox._regardingobjectid_value as string;
      const owner = this.table(ownerSet).get(ownerId);
      if (owner) {
        this.touch(tx, ownerSet, ownerId);
        owner.emailrouteraccessapproval = changes.emailrouteraccessapproval;
        owner.isemailaddressapprovedbyo365admin = false;
      }
      delete changes.emailrouteraccessapproval;
    }
    // A changed connection makes the last test result meaningless until the next test.
    const profileChanged =
      '_emailserverprofile_value' in changes && changes._emailserverprofile_value !== mailbox._emailserverprofile_value;
    const reset = (method: string, status: string) => {
      if (profileChanged || (method in changes && changes[method] !== mailbox[method])) changes[status] ??= 0;
    };
    reset('incomingemaildeliverymethod', 'incomingemailstatus');
    reset('outgoingemaildeliverymethod', 'outgoingemailstatus');
    reset('actdeliverymethod', 'actstatus');
    Object.assign(mailbox, changes);
    const id = mailbox.mailboxid as string;
    if (changes.testemailconfigurationscheduled === true) {
      tx.effects.push(() => this.testJobs.set(id, { mailboxId: id, scheduledAt: this.now(), queries: 0 }));
    }
    if (changes.officeappsdeploymentscheduled === true) {
      tx.effects.push(() => this.officeJobs.set(id, { mailboxId: id, scheduledAt: this.now(), queries: 0 }));
    }
  }

  // ---- asynchronous jobs ---------------------------------------------------------------------

  /** Runs the asynchronous service: called before mailbox reads; `query` says a new query began. */
  runAsyncJobs(query: boolean): void {
    const options = this.testAndEnable;
    const never = new Set((options.never ?? []).map((a) => a.toLowerCase()));
    const due = (job: TestJob, delayMs: number) => {
      if (query) job.queries++;
      return options.afterQueries !== undefined
        ? job.queries >= options.afterQueries
        : this.now() - job.scheduledAt >= delayMs;
    };
    for (const job of [...this.testJobs.values()]) {
      const mailbox = this.table('mailboxes').get(job.mailboxId);
      if (!mailbox || never.has(String(mailbox.emailaddress).toLowerCase())) continue;
      // The scheduler picks a test only when its postpone time is at or before the moment it dequeues:
      // a null time compares as unknown in SQL, so such a test never runs (only create fills null in).
      const postpone = mailbox.postponetestemailconfigurationuntil;
      if (mailbox.testemailconfigurationscheduled !== true || typeof postpone !== 'string') continue;
      if (Date.parse(postpone) > this.now()) continue;
      if (!due(job, options.delayMs ?? 200)) continue;
      this.testJobs.delete(job.mailboxId);
      this.completeTest(mailbox);
    }
    for (const job of [...this.officeJobs.values()]) {
      const mailbox = this.table('mailboxes').get(job.mailboxId);
      if (!mailbox) continue;
      if (!due(job, this.options.officeApps?.delayMs ?? options.delayMs ?? 200)) continue;
      this.officeJobs.delete(job.mailboxId);
      this.completeOfficeApps(mailbox);
    }
  }

  private completeTest(mailbox: Row): void {
    const options = this.testAndEnable;
    const now = new Date(this.now()).toISOString();
    const address = String(mailbox.emailaddress ?? '').toLowerCase();
    const name = String(mailbox.name ?? address);
    let failure: FailureSpec | undefined;
    const configured = options.failures?.[address] ?? options.failAll;
    if (configured) failure = failureFor(configured, name);
    else {
      const org = this.table('organizations').get(this.organizationId)!;
      const ownerSet = mailbox.__regardingtype === 'queue' ? 'queues' : 'systemusers';
      const owner = this.table(ownerSet).get(mailbox._regardingobjectid_value as string);
      const required = ownerSet === 'queues' ? org.requireapprovalforqueueemail : org.requireapprovalforuseremail;
      if (required && owner?.emailrouteraccessapproval !== 1) failure = failureFor('not-approved', name);
    }
    const hasProfile = !!mailbox._emailserverprofile_value;
    const directions = [
      {
        method: 'incomingemaildeliverymethod',
        sss: 2,
        status: 'incomingemailstatus',
        enabled: 'enabledforincomingemail',
        fail: failure?.incoming,
      },
      {
        method: 'outgoingemaildeliverymethod',
        sss: 2,
        status: 'outgoingemailstatus',
        enabled: 'enabledforoutgoingemail',
        fail: failure?.outgoing,
      },
      { method: 'actdeliverymethod', sss: 1, status: 'actstatus', enabled: 'enabledforact', fail: failure?.act },
    ];
    let anyFailed = false;
    let anyRun = false;
    for (const direction of directions) {
      if (!hasProfile || mailbox[direction.method] !== direction.sss) {
        mailbox[direction.status] = 0;
        continue;
      }
      anyRun = true;
      if (direction.fail) {
        anyFailed = true;
        mailbox[direction.status] = 2;
        mailbox[direction.enabled] = false;
      } else {
        mailbox[direction.status] = 1;
        mailbox[direction.enabled] = true;
      }
    }
    mailbox.testmailboxaccesscompletedon = now;
    mailbox.mailboxstatus = !anyRun ? 0 : anyFailed ? 2 : 1;
    if (anyFailed && failure) {
      mailbox.lastsyncerror = failure.text;
      mailbox.lastsyncerrorcode = failure.code ?? null;
      mailbox.lastsyncerrorcount = ((mailbox.lastsyncerrorcount as number) ?? 0) + 1;
      mailbox.lastsyncerroroccurredon = now;
      // A repeated alert updates the mailbox's existing row for the same trace code: modifiedon moves on,
      // createdon stays where the first occurrence put it.
      const repeated = [...this.table('tracelogs').values()].find(
        (row) =>
          row._regardingobjectid_value === mailbox.mailboxid &&
          row.tracecode === (failure.code ?? null) &&
          row.level === 3,
      );
      if (repeated) {
        repeated.text = failure.text;
        repeated.errordetails = failure.details ?? null;
        repeated.modifiedon = now;
        repeated.__version = (repeated.__version as number) + 1;
      } else {
        this.insert(TRACELOG, {
          tracelogid: randomUUID(),
          level: 3,
          text: failure.text,
          errordetails: failure.details ?? null,
          tracecode: failure.code ?? null,
          machinename: 'CRMASYNC01',
          _regardingobjectid_value: mailbox.mailboxid,
          __regardingtype: 'mailbox',
          createdon: now,
          modifiedon: now,
        });
      }
      if (options.keepScheduledOnFailure) {
        mailbox.testemailconfigurationscheduled = true;
        mailbox.postponetestemailconfigurationuntil = new Date(this.now() + 5 * 60_000).toISOString();
        return;
      }
    } else {
      mailbox.lastsyncerror = null;
      mailbox.lastsyncerrorcode = null;
      mailbox.lastsuccessfulsynccompletedon = now;
    }
    mailbox.testemailconfigurationscheduled = false;
    mailbox.postponetestemailconfigurationuntil = null;
    mailbox.__version = (mailbox.__version as number) + 1;
  }

  private completeOfficeApps(mailbox: Row): void {
    const address = String(mailbox.emailaddress ?? '').toLowerCase();
    const without = new Set((this.options.officeApps?.withoutPrivilege ?? []).map((a) => a.toLowerCase()));
    mailbox.officeappsdeploymentscheduled = false;
    mailbox.officeappsdeploymentcompleteon = new Date(this.now()).toISOString();
    if (without.has(address)) {
      mailbox.officeappsdeploymentstatus = 2;
      mailbox.officeappsdeploymenterror =
        "Office apps deployment scheduled but user doesn't have the UseOfficeApps privilege. Office Apps won't be installed for the user.";
    } else if (mailbox.incomingemailstatus !== 1 || mailbox.incomingemaildeliverymethod !== 2) {
      mailbox.officeappsdeploymentstatus = 2;
      mailbox.officeappsdeploymenterror =
        'The mailbox must use server-side synchronization for incoming email and be tested and enabled.';
    } else {
      mailbox.officeappsdeploymentstatus = 1;
      mailbox.officeappsdeploymenterror = null;
    }
  }

  /** Whether a test is still pending for a mailbox (for tests of the emulator itself). */
  testPending(mailboxId: string): boolean {
    return this.testJobs.has(mailboxId);
  }

  // ---- reads -------------------------------------------------------------------------------------

  /** A row as the Web API returns it: the selected columns (all readable ones by default). */
  project(meta: EntityMeta, row: Row, select: string[] | undefined, annotations: boolean): Row {
    const out: Row = { '@odata.etag': `W/"${row.__version as number}"` };
    const columns =
      select ??
      Object.entries(meta.attributes)
        .filter(([, a]) => a.read !== false)
        .map(([n, a]) => columnName(n, a));
    for (const column of columns) {
      out[column] = row[column] ?? null;
      if (annotations && column.startsWith('_') && column.endsWith('_value') && row[column]) {
        const attribute = attributeOfColumn(meta, column);
        const type =
          column === '_regardingobjectid_value'
            ? (row.__regardingtype as string)
            : (ENTITIES[attribute?.meta.targets?.[0] ?? '']?.logicalName ?? '');
        out[`${column}@Microsoft.Dynamics.CRM.lookuplogicalname`] = type;
      }
    }
    out[meta.primaryKey] = row[meta.primaryKey];
    return out;
  }
}
