// The mailbox fixtures the unit tests of configure-mailboxes and verify share: the settings of the example config
// and a mailbox that configure-mailboxes has already set up (server-side sync, the profile, approved, last test
// passed), which a test changes field by field.
import type { MailboxRecord } from '../../../src/phases/mailboxes/select.js';
import { DEFAULT_TEST_FIELDS, type MailboxSettings } from '../../../src/phases/mailboxes/settings.js';

export const PROFILE = 'aaaaaaaa-0000-4000-8000-000000000001';
export const TENANT = '11111111-2222-3333-4444-555555555555';

export const settings: MailboxSettings = {
  profileName: 'Exchange Online (Hybrid)',
  autodiscover: true,
  organizationDefault: true,
  select: 'all-active-users',
  addresses: [],
  approve: true,
  testAndEnable: true,
  appointmentsContactsTasks: true,
  outlookApp: false,
  pollIntervalMs: 30_000,
  pollTimeoutMs: 1_800_000,
  testFields: DEFAULT_TEST_FIELDS,
};

export function mailbox(overrides: Partial<MailboxRecord> = {}): MailboxRecord {
  return {
    id: 'm1',
    address: 'anna@contoso.com',
    name: 'Anna',
    ownerType: 'systemuser',
    ownerId: 'u1',
    profileId: PROFILE,
    incoming: 2,
    outgoing: 2,
    act: 1,
    approval: 1,
    incomingStatus: 1,
    outgoingStatus: 1,
    actStatus: 1,
    enabledIncoming: true,
    enabledOutgoing: true,
    enabledAct: true,
    scheduled: false,
    postponeUntil: null,
    completedOn: '2026-11-20T10:00:00Z',
    lastError: null,
    lastErrorCode: null,
    officeStatus: 0,
    officeScheduled: false,
    officeError: null,
    ...overrides,
  };
}
