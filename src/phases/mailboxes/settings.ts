// The mailbox settings a run uses, read from the config with defaults for the keys the schema may not
// carry yet. Test & Enable through the Web API is not documented by Microsoft: the attribute names
// below are mailbox attributes from the on-premises entity reference (mailbox.md) that the D365 asynchronous
// service reads to pick a scheduled test; they stay configurable.
import type { Config } from '../../config/schema.js';

export interface TestAndEnableFields {
  /** Set to true to schedule the test (testemailconfigurationscheduled). */
  scheduled: string;
  /** Cleared so the asynchronous service picks the test up now (postponetestemailconfigurationuntil). */
  postponeUntil: string;
  /** Changes when a test completes (testmailboxaccesscompletedon). */
  completedOn: string;
}

export const DEFAULT_TEST_FIELDS: TestAndEnableFields = {
  scheduled: 'testemailconfigurationscheduled',
  postponeUntil: 'postponetestemailconfigurationuntil',
  completedOn: 'testmailboxaccesscompletedon',
};

export interface MailboxSettings {
  profileName: string;
  autodiscover: boolean;
  incomingServerLocation?: string;
  outgoingServerLocation?: string;
  /** Make the profile the organization's default (Email Configuration Settings › Server Profile). */
  organizationDefault: boolean;
  select: 'all-active-users' | 'addresses' | 'filter';
  addresses: string[];
  filter?: string;
  approve: boolean;
  testAndEnable: boolean;
  appointmentsContactsTasks: boolean;
  outlookApp: boolean;
  pollIntervalMs: number;
  pollTimeoutMs: number;
  testFields: TestAndEnableFields;
}

const ATTRIBUTE_NAME = /^[a-z_][a-z0-9_]*$/;

export function mailboxSettings(config: Config): MailboxSettings {
  // The schema already checks the attribute names; this guards configs built in code.
  const { profile, mailboxes } = config.email;
  const testFields = mailboxes.testAndEnableFields;
  for (const [key, value] of Object.entries(testFields)) {
    if (!ATTRIBUTE_NAME.test(value)) {
      throw new Error(
        `email.mailboxes.testAndEnableFields.${key} must be a D365 attribute logical name like ${DEFAULT_TEST_FIELDS[key as keyof TestAndEnableFields]}, not ${value}`,
      );
    }
  }
  return {
    profileName: profile.name,
    autodiscover: profile.autodiscover,
    incomingServerLocation: profile.incomingServerLocation,
    outgoingServerLocation: profile.outgoingServerLocation ?? profile.incomingServerLocation,
    organizationDefault: profile.organizationDefault,
    select: mailboxes.select,
    addresses: (mailboxes.addresses ?? []).map((a) => a.toLowerCase()),
    filter: mailboxes.filter,
    approve: mailboxes.approve,
    testAndEnable: mailboxes.testAndEnable,
    appointmentsContactsTasks: mailboxes.appointmentsContactsTasks,
    outlookApp: mailboxes.outlookApp,
    pollIntervalMs: mailboxes.poll.intervalSeconds * 1000,
    pollTimeoutMs: mailboxes.poll.timeoutMinutes * 60_000,
    testFields,
  };
}
