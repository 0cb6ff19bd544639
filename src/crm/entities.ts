// The D365 entities, attributes and option values the mailbox phases use. Values come from the entity
// reference pages (MicrosoftDocs/dynamics-365-customer-engagement, ce/customerengagement/on-premises/developer/
// entities/mailbox.md, emailserverprofile.md, systemuser.md, queue.md, tracelog.md); note that actdeliverymethod numbers
// its options differently from the email delivery methods.

/** mailbox/systemuser/queue incomingemaildeliverymethod. */
export const INCOMING_DELIVERY = { none: 0, outlook: 1, serverSideSync: 2, forwardMailbox: 3 } as const;
/** mailbox/systemuser/queue outgoingemaildeliverymethod. */
export const OUTGOING_DELIVERY = { none: 0, outlook: 1, serverSideSync: 2 } as const;
/** mailbox actdeliverymethod (appointments, contacts and tasks). */
export const ACT_DELIVERY = { outlook: 0, serverSideSync: 1, none: 2 } as const;
/** emailrouteraccessapproval on mailbox, systemuser and queue ("Email Address Status"). */
export const APPROVAL = { empty: 0, approved: 1, pending: 2, rejected: 3 } as const;
/** incomingemailstatus / outgoingemailstatus / actstatus / mailboxstatus. */
export const TEST_STATUS = { notRun: 0, success: 1, failure: 2 } as const;
/** officeappsdeploymentstatus. */
export const OFFICE_APPS_STATUS = {
  notInstalled: 0,
  installed: 1,
  installFailed: 2,
  uninstallFailed: 3,
  upgradeRequired: 4,
} as const;

/** emailserverprofile servertype: 3 = Exchange Online (Hybrid). */
export const SERVER_TYPE_EXCHANGE_ONLINE_HYBRID = 3;
/** emailserverprofile incoming/outgoingcredentialretrieval: 2 = Server to Server Authentication. */
export const CREDENTIALS_SERVER_TO_SERVER = 2;
/** emailserverprofile incoming/outgoingauthenticationprotocol: 0 = Auto Detect. */
export const AUTH_PROTOCOL_AUTO_DETECT = 0;
/** What the UI sets as maxconcurrentconnections for an Exchange Online (Hybrid) profile. */
export const HYBRID_MAX_CONCURRENT_CONNECTIONS = 27;
/** The Exchange Online EWS endpoint used when autodiscover is off. */
export const EXCHANGE_ONLINE_EWS_URL = 'https://outlook.office365.com/EWS/Exchange.asmx';

/** Role template id of the built-in System Administrator role (the same in every organization). */
export const SYSTEM_ADMINISTRATOR_ROLE_TEMPLATE_ID = '627090ff-40a3-4053-8790-584edc5be201';

/** Privileges the mailbox phase needs, with the names the security role editor shows. */
export const EMAIL_PRIVILEGES: Record<string, string> = {
  prvApproveRejectEmailAddress: 'Approve Email Addresses for Users or Queues (Business Management › Miscellaneous)',
  prvReadMailbox: 'Read on Mailbox',
  prvWriteMailbox: 'Write on Mailbox',
  prvReadEmailServerProfile: 'Read on Email Server Profile',
  prvWriteEmailServerProfile: 'Write on Email Server Profile',
  prvCreateEmailServerProfile: 'Create on Email Server Profile',
  prvReadOrganization: 'Read on Organization',
  prvWriteOrganization: 'Write on Organization',
  // Setting a lookup needs Append on the record and Append To on the record it points at.
  prvAppendMailbox: 'Append on Mailbox (setting its email server profile)',
  prvAppendToEmailServerProfile: 'Append To on Email Server Profile',
};

/**
 * Privileges that must reach every user's record, with the depth that does: other users' mailboxes (and the
 * approval, which D365 forwards to the user or queue) are outside Basic and Local depth unless they sit in the
 * caller's business unit.
 */
export const ORGANIZATION_WIDE_PRIVILEGES = ['prvReadMailbox', 'prvWriteMailbox', 'prvAppendMailbox'];

export const APPROVE_PRIVILEGE = 'prvApproveRejectEmailAddress';

export interface WhoAmI {
  UserId: string;
  BusinessUnitId: string;
  OrganizationId: string;
}

/** The mailbox columns the phases read (a subset; lookups in their _x_value form). */
export interface MailboxRow {
  mailboxid: string;
  name?: string | null;
  emailaddress: string | null;
  _regardingobjectid_value: string | null;
  '_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname'?: string;
  _emailserverprofile_value: string | null;
  incomingemaildeliverymethod: number | null;
  outgoingemaildeliverymethod: number | null;
  actdeliverymethod: number | null;
  emailrouteraccessapproval: number | null;
  incomingemailstatus: number | null;
  outgoingemailstatus: number | null;
  actstatus: number | null;
  mailboxstatus?: number | null;
  enabledforincomingemail: boolean | null;
  enabledforoutgoingemail: boolean | null;
  enabledforact: boolean | null;
  lastsyncerror: string | null;
  lastsyncerrorcode: number | null;
  officeappsdeploymentstatus?: number | null;
  officeappsdeploymentscheduled?: boolean | null;
  officeappsdeploymenterror?: string | null;
  statecode?: number | null;
  [field: string]: unknown;
}

export interface EmailServerProfileRow {
  emailserverprofileid: string;
  name: string;
  servertype: number | null;
  incomingcredentialretrieval: number | null;
  usesamesettingsforoutgoingconnections: boolean | null;
  useautodiscover: boolean | null;
  usedefaulttenantid: boolean | null;
  exchangeonlinetenantid: string | null;
  incomingserverlocation: string | null;
  outgoingserverlocation: string | null;
  incomingauthenticationprotocol: number | null;
  incomingusessl: boolean | null;
  outgoingusessl: boolean | null;
  incominguseimpersonation: boolean | null;
  statecode: number | null;
  [field: string]: unknown;
}

/** Quotes a value as an OData string literal ('' escapes a quote). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A query string from OData options, each value percent-encoded (names like $select stay readable). */
export function odataQuery(options: Record<string, string | number | undefined>): string {
  const parts = Object.entries(options)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    // encodeURIComponent leaves ' alone, but WHATWG URL (Node's HTTP client) encodes it in a query: encode it
    // here, so the length measured before sending is the length on the wire.
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value)).replace(/'/g, '%27')}`);
  return parts.length ? '?' + parts.join('&') : '';
}

/** Microsoft.Dynamics.CRM.In(PropertyName=…,PropertyValues=[…]) for a non-empty list. */
export function inFilter(property: string, values: string[]): string {
  if (values.length === 0) throw new Error('the In function needs at least one value');
  return `Microsoft.Dynamics.CRM.In(PropertyName=${odataString(property)},PropertyValues=[${values.map(odataString).join(',')}])`;
}

/** Normalises a GUID for comparison (D365 returns lower case; configs and inputs may not). */
export function sameId(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && a.toLowerCase().replace(/[{}]/g, '') === b.toLowerCase().replace(/[{}]/g, '');
}
