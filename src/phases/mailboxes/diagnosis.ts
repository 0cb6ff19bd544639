// Turns what D365 wrote about a failed mailbox (lastsyncerror, the Alerts wall: tracelog text and
// details) into a cause and a fix in plain words. The texts matched are those admins report and
// Microsoft quotes: the support articles in MicrosoftDocs/SupportArticles-docs
// (support/power-platform/dataverse/email-exchange-synchronization/, e.g. "Http server returned
// Forbidden exception", "Error when testing and enabling a mailbox"), "Troubleshooting and monitoring
// server-side synchronization" (Dynamics 365 Customer Engagement on-premises) and "Control access to
// EWS in Exchange" for the X-EWS-Policy-Reason texts. The first rule that matches wins, so the most
// specific ones come first. Where the fix rests on something Microsoft has not documented, it says so.
import { DYNAMICS_APP_ID } from '../../config/schema.js';

export interface Diagnosis {
  /** Stable id for tests and dashboards ("ews-blocked", "unauthorized", ...). */
  id: string;
  cause: string;
  fix: string;
  /** What the fix assumes that Microsoft does not document. */
  unconfirmed?: string;
  /** The public source the diagnosis rests on: Microsoft's page or support article, or the thread that reports it. */
  reference: string;
}

interface Rule extends Diagnosis {
  pattern: RegExp;
}

// The two X-EWS-Policy-Reason texts ("Control access to EWS in Exchange") name different settings: "disabled" is an
// EwsEnabled switch (the organization's or the mailbox's), "blocked by policy" is the app-id list or the user-agent
// policy. configure-exchange reads and fixes both.
const RULES: Rule[] = [
  {
    id: 'ews-disabled',
    pattern: /EWS is disabled for this user or tenant/i,
    cause:
      'Exchange Online has EWS switched off for this mailbox or the whole tenant (EwsEnabled False, or never set: such tenants are switched to blocked from October 2026; EWS is gone in April 2027).',
    fix: "Run configure-exchange: it reads the organization's EwsEnabled (Get-OrganizationConfig) and the mailbox's (Get-CASMailbox) and sets them True with exchange.ews.enableOrganization / exchange.ews.enableMailboxes (by hand: Set-OrganizationConfig -EwsEnabled $true; Set-CASMailbox -Identity <address> -EwsEnabled $true). Changes take up to 24 hours; then run Test & Enable again. EWS in Exchange Online ends on 2027-04-01 whatever is allowed.",
    reference: '"Control access to EWS in Exchange"; the EWS retirement announcement for Exchange Online',
  },
  {
    id: 'ews-blocked',
    pattern: /X-EWS-Policy-Reason|EWS is blocked[^.]*for this user or tenant/i,
    cause:
      'Exchange Online refused EWS by policy for this mailbox or the whole tenant: the Dynamics app is not on EwsAllowedAppIDs, or an EWS user-agent policy blocks D365 (EWS retirement: switched off from October 2026, gone in April 2027).',
    fix: `Run configure-exchange: it adds ${DYNAMICS_APP_ID} to EwsAllowedAppIDs keeping the ids already listed (by hand: read them with Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy, then Set-OrganizationConfig -EwsAllowedAppIDs "<those ids>,${DYNAMICS_APP_ID}"), and reports EwsApplicationAccessPolicy / EwsAllowList / EwsBlockList (set exchange.ews.userAgents to let D365 through). Changes take up to 24 hours; then run Test & Enable again. EWS in Exchange Online ends on 2027-04-01 whatever is allowed.`,
    unconfirmed: `Which app id D365 on-premises presents to EWS is not documented by Microsoft; ${DYNAMICS_APP_ID} (the Dynamics service principal that holds the S2S certificate) is the presumed one.`,
    reference: '"Control access to EWS in Exchange"; the EWS retirement announcement for Exchange Online',
  },
  {
    id: 'ews-forbidden',
    pattern: /Forbidden exception|HTTP status 403/i,
    cause:
      'Exchange Online answered 403 Forbidden: EWS is switched off for the mailbox or the organization, or an EWS application access policy blocks D365.',
    fix: 'Check Get-OrganizationConfig | fl EwsEnabled,EwsApplicationAccessPolicy,EwsAllowList,EwsBlockList and Get-CASMailbox <user> | fl EwsEnabled; allow EWS (Set-CASMailbox -EwsEnabled $true, Set-OrganizationConfig -EwsEnabled $true, allow list CRM/*), wait up to 2 hours, then Test & Enable again. Since October 2026 also check EwsAllowedAppIDs (see ews-blocked).',
    reference: 'MicrosoftDocs/SupportArticles-docs, http-server-returned-forbidden-exception.md (KB4483440)',
  },
  {
    id: 'no-user-claims',
    pattern: /NoUserFoundWithGivenClaims/i,
    cause:
      'The user was deleted and created again with the same address; Exchange Online still resolves the old object.',
    fix: 'Remove the deleted user permanently in Entra ID (Deleted users › Delete permanently), then Test & Enable again; caches can take up to 72 hours.',
    reference: 'MicrosoftDocs/SupportArticles-docs, exception-when-using-server-side-sync.md (cause 6)',
  },
  {
    id: 'invalid-token',
    pattern: /invalid_token/i,
    cause: 'Exchange Online rejected the server-to-server token of D365.',
    fix: 'Check that Exchange Support enabled D365 on-premises access for the tenant, that the Dynamics service principal holds the certificate installed on the D365 servers (register-entra, configure-crm), and that S2STenantId is the tenant id; then Test & Enable again.',
    reference:
      'microsoft/PowerApps-Samples pull request #703 (ServerSideSync/ConfigureCrmServerSideSync.ps1), its comments',
  },
  {
    id: 'unauthorized',
    pattern: /401 Unauthorized|\(401\)/i,
    cause:
      'Exchange Online did not accept D365 for this mailbox: address mismatch, no Exchange Online licence, wrong profile type, or the S2S certificate/tenant setup.',
    fix: "Make the mailbox address equal the user's primary SMTP address in Exchange Online, check the Exchange Online licence, use the Exchange Online (Hybrid) profile; if every mailbox fails, check the certificate on the Dynamics service principal and S2STenantId (verify phase).",
    reference: 'MicrosoftDocs/SupportArticles-docs, exception-when-using-server-side-sync.md (KB3212785)',
  },
  {
    id: 'acs-token',
    pattern: /SIC token|\bACS\b/,
    cause:
      'D365 could not sign its token to Entra ID: the asynchronous service account cannot read the certificate’s private key, or the key is missing on an async server.',
    fix: 'Grant the async service account Read on the private key on every async server (install-certificate), restart the Asynchronous Processing Services, then Test & Enable again.',
    reference: 'MicrosoftDocs/dynamics-365-customer-engagement issues #2709 and #1545',
  },
  {
    id: 'mailbox-location',
    pattern: /location of the mailbox .* could not be determined|mailbox location could not be determined/i,
    cause: 'Autodiscover for Exchange Online did not work from the D365 async servers (DNS, proxy or firewall).',
    fix: 'Let the async servers reach outlook.office365.com, or set email.profile.autodiscover: false with both server locations https://outlook.office365.com/EWS/Exchange.asmx; then Test & Enable again.',
    reference: 'MicrosoftDocs/SupportArticles-docs, error-when-testing-enabling-mailbox.md (KB4513810)',
  },
  {
    id: 'secure-connection',
    pattern: /secure connection|underlying connection was closed|\bTLS\b/i,
    cause:
      'The TLS connection from the D365 async servers to Exchange Online failed (TLS 1.2 not enabled for .NET Framework, or a TLS-inspecting proxy).',
    fix: 'Enable TLS 1.2 for .NET Framework on every async server (SchUseStrongCrypto and SystemDefaultTlsVersions = 1 under .NETFramework\\v4.0.30319, 64- and 32-bit), restart the async services, then Test & Enable again.',
    unconfirmed: 'The registry fix is documented for .NET generally, not for D365 specifically.',
    reference:
      '"Troubleshooting and monitoring server-side synchronization" (Dynamics 365 Customer Engagement on-premises)',
  },
  {
    id: 'o365-approval',
    pattern: /approval by an Office 365 administrator|approved by an Office 365 administrator/i,
    cause: 'The mailbox’s email address is waiting for approval by an Office 365 administrator.',
    fix: 'Run configure-mailboxes with email.mailboxes.approve (as a System Administrator; where D365 insists, the runner’s account must also be an Exchange or Global administrator), then Test & Enable again.',
    unconfirmed: 'Whether D365 on-premises enforces Office 365 administrator approval is not documented.',
    reference:
      'MicrosoftDocs/SupportArticles-docs, "Mailbox requires approval by Office 365 administrator" (KB4014483)',
  },
  {
    id: 'not-approved',
    pattern: /not (been )?approved|must be approved/i,
    cause:
      'The email address of the mailbox is not approved, and the organization processes email only for approved users and queues.',
    fix: 'Approve the email address (email.mailboxes.approve: true, needs prvApproveRejectEmailAddress), then Test & Enable again. An email address change resets approval to Pending.',
    reference:
      '"Troubleshooting and monitoring server-side synchronization" (Dynamics 365 Customer Engagement on-premises); email-activity-entities.md (on-premises developer guide)',
  },
  {
    id: 'act-other-organization',
    pattern: /configured with another .*organization/i,
    cause:
      'Exchange marks this mailbox as synchronizing appointments, contacts and tasks with another D365 organization (for example a test copy of production).',
    fix: 'Turn ACT off in the other organization, or run Test & Enable with "sync items with Exchange from this organization only" in the D365 UI for this mailbox.',
    reference:
      '"Troubleshooting and monitoring server-side synchronization" (Dynamics 365 Customer Engagement on-premises)',
  },
  {
    id: 'owner-privileges',
    pattern: /8005E259/i,
    cause: 'The user or team that owns the mailbox lacks privileges D365 needs for synchronization.',
    fix: 'Give the mailbox owner a security role with the email and mailbox privileges (e.g. Salesperson), then Test & Enable again.',
    reference: 'MicrosoftDocs/SupportArticles-docs, error-code-8005e259.md and error-code-8005e276.md',
  },
  {
    id: 'licence-or-access-mode',
    pattern: /8005E276/i,
    cause: 'The user has no valid Exchange licence or is not in Read-Write access mode.',
    fix: 'Assign an Exchange Online licence and set the user’s access mode to Read-Write, then Test & Enable again.',
    reference: 'MicrosoftDocs/SupportArticles-docs, error-code-8005e259.md and error-code-8005e276.md',
  },
  {
    id: 'network',
    pattern: /Socket returned exception|timed out|TimedOut/i,
    cause: 'The D365 async servers could not reach Exchange Online or Entra ID in time (proxy, firewall).',
    fix: 'From each async server, as the async service account, reach login.microsoftonline.com, accounts.accesscontrol.windows.net and outlook.office365.com (a 401 answer is fine, a socket error is not); configure the proxy for .NET.',
    reference: 'MicrosoftDocs/SupportArticles-docs, general-mailbox-access-error-occurred.md (KB4092736)',
  },
  {
    id: 'privilege-denied',
    pattern: /0x80040220|does not hold the necessary privileges/i,
    cause: 'The account the toolkit runs as lacks a D365 privilege for this change.',
    fix: 'Give the pipeline’s D365 account the System Administrator role, or a role with prvApproveRejectEmailAddress ("Approve Email Addresses for Users or Queues") and Write on Mailbox.',
    reference:
      'web-service-error-codes.md (on-premises developer guide); seanmcne/Microsoft.Xrm.Data.PowerShell issue #504',
  },
];

/** The first rule that matches any of the texts, or undefined when nothing is known about them. */
export function diagnose(...texts: Array<string | null | undefined>): Diagnosis | undefined {
  const text = texts.filter(Boolean).join('\n');
  if (!text) return undefined;
  const rule = RULES.find((candidate) => candidate.pattern.test(text));
  if (!rule) return undefined;
  const { pattern: _pattern, ...diagnosis } = rule;
  return diagnosis;
}

/** What to do when no rule matched. */
export const UNKNOWN_FAILURE_FIX =
  'Open the mailbox in D365 (Settings › Email Configuration › Mailboxes) and read its Alerts; if Alerts is empty, select Error under Email Configuration Settings › Configure alerts and run Test & Enable again.';
