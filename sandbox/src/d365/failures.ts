// What Test & Enable can report for a mailbox in the emulator: the alert texts admins see (as quoted in
// Microsoft's support articles for server-side synchronization — MicrosoftDocs/SupportArticles-docs,
// support/power-platform/dataverse/email-exchange-synchronization/ — and in "Troubleshooting and
// monitoring server-side synchronization" for on-premises, <Mailbox Name> filled in), which directions
// fail, and the detail line the Alerts wall shows. The EWS-blocked detail combines the documented 403 alert with the
// documented X-EWS-Policy-Reason header text; that both appear together in one D365 alert is an
// assumption of the emulator (UNCONFIRMED).

export type FailurePreset =
  | 'ews-blocked'
  | 'ews-disabled'
  | 'forbidden'
  | 'unauthorized'
  | 'invalid-token'
  | 'location'
  | 'tls'
  | 'not-approved'
  | 'o365-approval'
  | 'act-other-org'
  | 'no-user-claims'
  | 'owner-privileges'
  | 'no-licence'
  | 'acs';

export interface FailureSpec {
  incoming?: boolean;
  outgoing?: boolean;
  act?: boolean;
  /** The alert text (lastsyncerror, tracelog text). */
  text: string;
  /** The alert's details (tracelog errordetails). */
  details?: string;
  /** lastsyncerrorcode. */
  code?: number;
}

const ALL = { incoming: true, outgoing: true, act: true };

/** Signed 32-bit value of an HRESULT written as hex (what lastsyncerrorcode holds). */
function hresult(hex: string): number {
  return Number.parseInt(hex, 16) | 0;
}

export function failureFor(preset: FailurePreset | FailureSpec, mailboxName: string): FailureSpec {
  if (typeof preset !== 'string') return preset;
  const name = mailboxName;
  switch (preset) {
    case 'ews-blocked':
    case 'ews-disabled': {
      const reason =
        preset === 'ews-blocked'
          ? 'EWS is blocked by policy for this user or tenant'
          : 'EWS is disabled for this user or tenant';
      return {
        ...ALL,
        text: `The email message "Your mailbox is now connected to Dynamics 365" cannot be sent because an error occurred while establishing a secure connection to the email server. Mailbox ${name} didn't synchronize. Email Server Error Code: Http server returned Forbidden exception.`,
        details: `System.Net.WebException: The request failed with HTTP status 403: Forbidden. X-EWS-Policy-Reason: ${reason}`,
      };
    }
    case 'forbidden':
      return {
        ...ALL,
        text: `The email message "Your mailbox is now connected to Dynamics 365" cannot be sent because an error occurred while establishing a secure connection to the email server. Mailbox ${name} didn't synchronize. Email Server Error Code: Http server returned Forbidden exception.`,
        details:
          'System.Net.WebException: The request failed with HTTP status 403: Forbidden. at ExchangeServiceBinding.EndCreateItem',
      };
    case 'unauthorized':
      return {
        ...ALL,
        text: `Email cannot be received for the mailbox ${name}. Make sure that the credentials specified in the mailbox ${name} are correct and have sufficient permissions for receiving email. Then, enable the mailbox for email processing. Email Server Error Code: Http server returned 401 Unauthorized exception.`,
      };
    case 'invalid-token':
      return {
        ...ALL,
        text: `Email cannot be received for the mailbox ${name}. Email Server Error Code: Http server returned 401 Unauthorized exception.`,
        details:
          'WWW-Authenticate: Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token",Basic Realm=""',
      };
    case 'location':
      return {
        ...ALL,
        text: `The location of the mailbox ${name} could not be determined while receiving email. The system will try to receive email again later.`,
      };
    case 'tls':
      return {
        ...ALL,
        text: `Email cannot be received for the mailbox ${name} because an error occurred while establishing a secure connection to the email server. The mailbox has been disabled for receiving email and the owner of the email server profile has been notified.`,
        details: 'The underlying connection was closed: An unexpected error occurred on a send.',
      };
    case 'not-approved':
      return {
        incoming: true,
        outgoing: true,
        text: `Email cannot be received for the mailbox ${name} because the email address of the mailbox ${name} is not approved and the mailbox has been disabled. The owner of the associated email server profile Exchange Online (Hybrid) has been notified.`,
      };
    case 'o365-approval':
      return {
        incoming: true,
        outgoing: true,
        text: `Email cannot be received because the email address of the mailbox ${name} requires an approval by an Office 365 administrator. The mailbox has been disabled for receiving email and the owner of the email server profile Exchange Online (Hybrid) has been notified.`,
      };
    case 'act-other-org':
      return {
        act: true,
        text: `Appointments, contacts, and tasks can't be synchronized because the email address of the mailbox ${name} is configured with another Customer Engagement (on-premises) organization.`,
      };
    case 'no-user-claims':
      return {
        ...ALL,
        text: `Email cannot be received for the mailbox ${name}. NoUserFoundWithGivenClaims`,
        details: "User does not exist in tenant with id '11111111-2222-3333-4444-555555555555'",
      };
    case 'owner-privileges':
      return {
        ...ALL,
        text: `The mailbox ${name} could not be tested. Error code 8005E259.`,
        code: hresult('8005E259'),
      };
    case 'no-licence':
      return {
        ...ALL,
        text: `The mailbox ${name} could not be tested. Error code 8005E276.`,
        code: hresult('8005E276'),
      };
    case 'acs':
      return {
        ...ALL,
        text: `Email cannot be received for the mailbox ${name}. Acquiring SIC token from ACS has failed.`,
        details: 'System.Security.Cryptography.CryptographicException: Keyset does not exist',
      };
  }
}
