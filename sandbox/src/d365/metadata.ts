// Entity metadata of the emulated D365 Web API: which attributes exist, which are valid for create,
// update and read, their types, option values and lengths (from the on-premises entity reference pages,
// MicrosoftDocs/dynamics-365-customer-engagement, ce/customerengagement/on-premises/developer/entities/*.md).
// The emulator uses it to reject what D365 rejects.

export type AttributeType = 'guid' | 'string' | 'int' | 'bool' | 'datetime' | 'option' | 'lookup';

export interface AttributeMeta {
  type: AttributeType;
  /** Allowed option values. */
  options?: readonly number[];
  create?: boolean;
  update?: boolean;
  /** Readable (default true). */
  read?: boolean;
  maxLength?: number;
  min?: number;
  max?: number;
  /** Lookups: entity sets the lookup may point at. */
  targets?: readonly string[];
}

export interface EntityMeta {
  logicalName: string;
  entitySet: string;
  primaryKey: string;
  attributes: Record<string, AttributeMeta>;
}

const CUR = { create: true, update: true } as const;
const UR = { update: true } as const;
const R = {} as const;

const opt = (values: number[], access: object = CUR): AttributeMeta => ({ type: 'option', options: values, ...access });
const bool = (access: object = CUR): AttributeMeta => ({ type: 'bool', ...access });
const str = (maxLength: number, access: object = CUR): AttributeMeta => ({ type: 'string', maxLength, ...access });
const int = (access: object = CUR, min?: number, max?: number): AttributeMeta => ({ type: 'int', ...access, min, max });
const date = (access: object = CUR): AttributeMeta => ({ type: 'datetime', ...access });
const lookup = (targets: string[], access: object = CUR): AttributeMeta => ({ type: 'lookup', targets, ...access });
const key = (): AttributeMeta => ({ type: 'guid' });

const DELIVERY_IN = [0, 1, 2, 3];
const DELIVERY_OUT = [0, 1, 2];
const APPROVAL = [0, 1, 2, 3];
const TEST = [0, 1, 2];

export const MAILBOX: EntityMeta = {
  logicalName: 'mailbox',
  entitySet: 'mailboxes',
  primaryKey: 'mailboxid',
  attributes: {
    mailboxid: key(),
    name: str(200),
    emailaddress: str(100),
    regardingobjectid: lookup(['systemusers', 'queues'], R),
    emailserverprofile: lookup(['emailserverprofiles']),
    ownerid: lookup(['systemusers'], R),
    incomingemaildeliverymethod: opt(DELIVERY_IN),
    outgoingemaildeliverymethod: opt(DELIVERY_OUT),
    actdeliverymethod: opt([0, 1, 2]),
    emailrouteraccessapproval: opt(APPROVAL),
    testemailconfigurationscheduled: bool(),
    testemailconfigurationretrycount: int(),
    postponetestemailconfigurationuntil: date(),
    testmailboxaccesscompletedon: date(UR),
    incomingemailstatus: opt(TEST, UR),
    outgoingemailstatus: opt(TEST, UR),
    actstatus: opt(TEST, UR),
    mailboxstatus: opt(TEST, R),
    enabledforincomingemail: bool(UR),
    enabledforoutgoingemail: bool(UR),
    enabledforact: bool(UR),
    isemailaddressapprovedbyo365admin: bool(UR),
    lastsyncerror: str(2048),
    lastsyncerrorcode: int(),
    lastsyncerrorcount: int(),
    lastsyncerroroccurredon: date(),
    lastsuccessfulsynccompletedon: date(R),
    lastsyncstartedon: date(R),
    officeappsdeploymentscheduled: bool(),
    officeappsdeploymentstatus: opt([0, 1, 2, 3, 4]),
    postponeofficeappsdeploymentuntil: date(),
    officeappsdeploymentcompleteon: date(R),
    officeappsdeploymenterror: str(2048, R),
    orgmarkedasprimaryforexchangesync: bool(),
    postponemailboxprocessinguntil: date(UR),
    verboseloggingenabled: bool(UR),
    ewsurl: str(2084),
    lastautodiscoveredon: date(),
    processingstatecode: int(R),
    transientfailurecount: int(R),
    statecode: opt([0, 1], UR),
    statuscode: opt([1, 2], UR),
    createdon: date(R),
    modifiedon: date(R),
  },
};

export const SYSTEMUSER: EntityMeta = {
  logicalName: 'systemuser',
  entitySet: 'systemusers',
  primaryKey: 'systemuserid',
  attributes: {
    systemuserid: key(),
    fullname: str(200, R),
    firstname: str(64),
    lastname: str(64),
    domainname: str(1024),
    internalemailaddress: str(100),
    isdisabled: bool(UR),
    accessmode: opt([0, 1, 2, 3, 4, 5]),
    emailrouteraccessapproval: opt(APPROVAL, UR),
    isemailaddressapprovedbyo365admin: bool(R),
    defaultmailbox: lookup(['mailboxes'], R),
    businessunitid: lookup(['businessunits']),
    incomingemaildeliverymethod: opt(DELIVERY_IN),
    outgoingemaildeliverymethod: opt(DELIVERY_OUT),
    createdon: date(R),
    modifiedon: date(R),
  },
};

export const QUEUE: EntityMeta = {
  logicalName: 'queue',
  entitySet: 'queues',
  primaryKey: 'queueid',
  attributes: {
    queueid: key(),
    name: str(400),
    emailaddress: str(100),
    emailrouteraccessapproval: opt(APPROVAL, UR),
    isemailaddressapprovedbyo365admin: bool(R),
    defaultmailbox: lookup(['mailboxes'], R),
    incomingemaildeliverymethod: opt([0, 2, 3]),
    outgoingemaildeliverymethod: opt([0, 2]),
    statecode: opt([0, 1], UR),
    createdon: date(R),
    modifiedon: date(R),
  },
};

export const EMAIL_SERVER_PROFILE: EntityMeta = {
  logicalName: 'emailserverprofile',
  entitySet: 'emailserverprofiles',
  primaryKey: 'emailserverprofileid',
  attributes: {
    emailserverprofileid: key(),
    name: str(100),
    description: str(2000),
    servertype: opt([0, 1, 2, 3]),
    incomingcredentialretrieval: opt([0, 1, 2, 3, 4]),
    outgoingcredentialretrieval: opt([0, 1, 2, 3, 4]),
    incomingauthenticationprotocol: opt([0, 1, 2, 3]),
    outgoingauthenticationprotocol: opt([0, 1, 2, 3]),
    useautodiscover: bool(),
    usedefaulttenantid: bool(),
    exchangeonlinetenantid: str(36),
    exchangeversion: opt([0, 1, 2, 3, 4, 5]),
    incomingserverlocation: str(2084),
    outgoingserverlocation: str(2084),
    defaultserverlocation: str(2084),
    usesamesettingsforoutgoingconnections: bool(),
    maxconcurrentconnections: int(CUR, 1, 65536),
    minpollingintervalinminutes: int(CUR, 0, 1440),
    timeoutmailboxconnectionafteramount: int(CUR, 0, 100000),
    timeoutmailboxconnection: bool(),
    incomingusessl: bool(),
    outgoingusessl: bool(),
    incominguseimpersonation: bool(),
    outgoinguseimpersonation: bool(),
    moveundeliveredemails: bool(),
    sendemailalert: bool(),
    processemailsreceivedafter: date(),
    lastteststarttime: date(),
    lasttestexecutionstatus: opt([0, 1, 2]),
    lasttestvalidationstatus: opt([0, 1]),
    lastauthorizationstatus: opt([0, 1]),
    lastcrmmessage: str(1048576),
    incomingpartnerapplication: lookup(['partnerapplications'], R),
    outgoingpartnerapplication: lookup(['partnerapplications'], R),
    ownerid: lookup(['systemusers'], R),
    statecode: opt([0, 1], UR),
    statuscode: opt([1, 2], UR),
    createdon: date(R),
    modifiedon: date(R),
  },
};

export const ORGANIZATION: EntityMeta = {
  logicalName: 'organization',
  entitySet: 'organizations',
  primaryKey: 'organizationid',
  attributes: {
    organizationid: key(),
    name: str(160, R),
    defaultemailserverprofileid: lookup(['emailserverprofiles']),
    requireapprovalforuseremail: bool(),
    requireapprovalforqueueemail: bool(),
    emailconnectionchannel: opt([0, 1]),
    officeappsautodeploymentenabled: bool(),
  },
};

export const TRACELOG: EntityMeta = {
  logicalName: 'tracelog',
  entitySet: 'tracelogs',
  primaryKey: 'tracelogid',
  attributes: {
    tracelogid: key(),
    level: opt([1, 2, 3], R),
    text: str(2000, R),
    errordetails: str(2048, R),
    tracecode: int(R),
    machinename: str(100, R),
    regardingobjectid: lookup(['mailboxes', 'emailserverprofiles'], R),
    createdon: date(R),
    modifiedon: date(R),
  },
};

export const ROLE: EntityMeta = {
  logicalName: 'role',
  entitySet: 'roles',
  primaryKey: 'roleid',
  attributes: {
    roleid: key(),
    name: str(100, R),
    roletemplateid: lookup(['roletemplates'], R),
    businessunitid: lookup(['businessunits'], R),
  },
};

export const PRIVILEGE: EntityMeta = {
  logicalName: 'privilege',
  entitySet: 'privileges',
  primaryKey: 'privilegeid',
  attributes: { privilegeid: key(), name: str(100, R) },
};

export const ENTITIES: Record<string, EntityMeta> = Object.fromEntries(
  [MAILBOX, SYSTEMUSER, QUEUE, EMAIL_SERVER_PROFILE, ORGANIZATION, TRACELOG, ROLE, PRIVILEGE].map((meta) => [
    meta.entitySet,
    meta,
  ]),
);

/** The name a column has in a query: lookups are read as _x_value. */
export function columnName(attribute: string, meta: AttributeMeta): string {
  return meta.type === 'lookup' ? `_${attribute}_value` : attribute;
}

/** Every readable column of an entity, in its query name. */
export function readableColumns(meta: EntityMeta): string[] {
  return Object.entries(meta.attributes)
    .filter(([, attribute]) => attribute.read !== false)
    .map(([name, attribute]) => columnName(name, attribute));
}

/** Finds the attribute behind a query column name (x or _x_value). */
export function attributeOfColumn(meta: EntityMeta, column: string): { name: string; meta: AttributeMeta } | undefined {
  const lookup = /^_(.+)_value$/.exec(column);
  if (lookup) {
    const attribute = meta.attributes[lookup[1]!];
    return attribute?.type === 'lookup' ? { name: lookup[1]!, meta: attribute } : undefined;
  }
  const attribute = meta.attributes[column];
  return attribute && attribute.type !== 'lookup' ? { name: column, meta: attribute } : undefined;
}
