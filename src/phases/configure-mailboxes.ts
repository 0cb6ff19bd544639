// configure-mailboxes: the D365 side of server-side synchronization with Exchange Online. Ensures the
// "Exchange Online (Hybrid)" email server profile, sets the selected mailboxes to server-side sync with
// that profile, approves their addresses, schedules Test & Enable and waits for every result with one
// paged query per round, and deploys the App for Outlook when configured. It reads first and writes only
// what differs: a second run writes nothing.
import {
  APPROVE_PRIVILEGE,
  EMAIL_PRIVILEGES,
  INCOMING_DELIVERY,
  OFFICE_APPS_STATUS,
  sameId,
  TEST_STATUS,
} from '../crm/entities.js';
import type { Phase, PhaseContext, PhaseOutcome, Step, StepResult } from './phase.js';
import { readCaller } from './mailboxes/caller.js';
import {
  describeSettings,
  hasWrites,
  mailboxChange,
  testScheduleTime,
  type MailboxChange,
} from './mailboxes/changes.js';
import { tenantIdOf } from './mailboxes/crm-services.js';
import { requireCrm } from './phase-services.js';
import { planProfile, profileSummary, readProfilesByName, tenantWarning } from './mailboxes/profile.js';
import { awaitTests, pollUntilDone, testFailed, thresholdAfter } from './mailboxes/poll.js';
import { mailboxResult, missingMailboxResult, summaryMarkdown, type MailboxOutcome } from './mailboxes/report.js';
import { selectMailboxes, type MailboxRecord, type Selection } from './mailboxes/select.js';
import { mailboxSettings, type MailboxSettings } from './mailboxes/settings.js';
import {
  callerResult,
  ensureOrganizationDefault,
  ensureProfile,
  PROFILE_STEP_ID,
  writeMailboxChanges,
} from './mailboxes/steps.js';
import { readAlertDetails } from './mailboxes/alerts.js';
import type { WebApiClient } from '../crm/client.js';
import type { Clock } from '../crm/client-factory.js';
import type { Logger } from '../hosts/host.js';

const NEEDED_PRIVILEGES = [
  'prvReadMailbox',
  'prvWriteMailbox',
  'prvAppendMailbox',
  'prvReadEmailServerProfile',
  'prvWriteEmailServerProfile',
  'prvCreateEmailServerProfile',
  'prvAppendToEmailServerProfile',
  // The organization's default profile (read always, written with email.profile.organizationDefault).
  'prvReadOrganization',
  'prvWriteOrganization',
  APPROVE_PRIVILEGE,
];

/** Profile id → words, for before/after. */
function profileNamer(profileId: string | undefined, settings: MailboxSettings) {
  return (id: string | null) =>
    !id ? '(none)' : profileId && sameId(id, profileId) ? settings.profileName : `another profile (${id})`;
}

/** Marks the profile that plan mode would create. */
const NEW_PROFILE = 'new-profile';

/** The state a write leaves behind, for mailboxes that are not read again. */
function applyWritten(
  record: MailboxRecord,
  change: MailboxChange,
  profileId: string | undefined,
  approved: boolean,
): void {
  if ('incomingemaildeliverymethod' in change.settings)
    record.incoming = change.settings.incomingemaildeliverymethod as number;
  if ('outgoingemaildeliverymethod' in change.settings)
    record.outgoing = change.settings.outgoingemaildeliverymethod as number;
  if ('actdeliverymethod' in change.settings) record.act = change.settings.actdeliverymethod as number;
  if ('emailserverprofile@odata.bind' in change.settings && profileId) record.profileId = profileId;
  if (approved) record.approval = 1;
}

/** Schedules the App for Outlook for users whose incoming email passed Test & Enable, and waits for it. */
async function deployOutlookApp(
  client: WebApiClient,
  settings: MailboxSettings,
  selection: Selection,
  records: Map<string, MailboxRecord>,
  clock: Clock,
  log: Logger,
): Promise<{ scheduled: Set<string>; errors: Map<string, string>; timedOut: Set<string> }> {
  const eligible = [...records.values()].filter(
    (r) =>
      r.ownerType === 'systemuser' &&
      r.incoming === INCOMING_DELIVERY.serverSideSync &&
      r.incomingStatus === TEST_STATUS.success &&
      r.enabledIncoming !== false &&
      r.officeScheduled !== true &&
      r.officeStatus !== OFFICE_APPS_STATUS.installed,
  );
  const scheduled = new Set<string>();
  const errors = new Map<string, string>();
  if (eligible.length === 0) return { scheduled, errors, timedOut: new Set() };
  const results = await client.executeChangeSets(
    eligible.map((r) => ({
      key: r.id,
      operations: [
        { method: 'PATCH' as const, path: `mailboxes(${r.id})`, body: { officeappsdeploymentscheduled: true } },
      ],
    })),
  );
  for (const result of results) {
    if (result.ok) scheduled.add(result.key);
    else errors.set(result.key, result.error?.message ?? 'failed');
  }
  const pending = new Set(scheduled);
  await pollUntilDone({
    client,
    settings,
    selection,
    records,
    pending,
    done: (r) =>
      r.officeScheduled === false &&
      (r.officeStatus === OFFICE_APPS_STATUS.installed || r.officeStatus === OFFICE_APPS_STATUS.installFailed),
    failed: (r) => scheduled.has(r.id) && r.officeStatus === OFFICE_APPS_STATUS.installFailed,
    what: 'App for Outlook',
    clock,
    log,
    timeoutMs: settings.pollTimeoutMs,
  });
  return { scheduled, errors, timedOut: pending };
}

async function plan(ctx: PhaseContext): Promise<Step[]> {
  const { client, clock } = requireCrm(ctx, 'configure-mailboxes');
  const settings = mailboxSettings(ctx.config);
  // Refuses a malformed tenant-id input before the first request.
  const tenantId = tenantIdOf(ctx);
  const caller = await readCaller(client);
  const steps: Step[] = [];
  const missing = caller.missing.filter((m) => NEEDED_PRIVILEGES.includes(m.name));
  steps.push({
    id: 'crm.caller',
    title: 'D365 account the toolkit runs as',
    target: caller.userId,
    action: 'check',
    before: { systemAdministrator: caller.systemAdministrator, missingPrivileges: missing.map((m) => m.name) },
    after: { systemAdministrator: true, missingPrivileges: [] },
    ...(missing.length || caller.shallow.length
      ? {
          note: [
            ...(missing.length ? [`missing: ${missing.map((m) => `${m.name} (${m.label})`).join('; ')}`] : []),
            ...caller.shallow.map((s) => `${s.name} at ${s.depth} depth only (Global needed for every user's mailbox)`),
          ].join('; '),
        }
      : {}),
  });
  const found = await readProfilesByName(client, settings.profileName);
  const profilePlan = planProfile(settings, found);
  const tenantProblem = found.length === 1 ? tenantWarning(found[0], tenantId) : undefined;
  const profileStep = {
    id: PROFILE_STEP_ID,
    title: `Email server profile "${settings.profileName}" (Exchange Online (Hybrid))`,
    target: settings.profileName,
  };
  let profileId: string | undefined;
  if (profilePlan.kind === 'conflict') {
    steps.push({
      ...profileStep,
      action: 'none',
      before: profilePlan.profiles.map(profileSummary),
      after: null,
      note: profilePlan.message,
    });
    return steps;
  } else if (profilePlan.kind === 'create') {
    steps.push({ ...profileStep, action: 'create', before: null, after: profilePlan.body });
    profileId = NEW_PROFILE;
  } else if (profilePlan.kind === 'update') {
    profileId = profilePlan.profile.emailserverprofileid;
    steps.push({
      ...profileStep,
      action: 'update',
      before: profileSummary(profilePlan.profile),
      after: profilePlan.differences,
      ...(tenantProblem ? { note: tenantProblem } : {}),
    });
  } else {
    profileId = profilePlan.profile.emailserverprofileid;
    steps.push({
      ...profileStep,
      action: 'none',
      before: profileSummary(profilePlan.profile),
      after: profileSummary(profilePlan.profile),
      ...(tenantProblem ? { note: tenantProblem } : {}),
    });
  }
  if (settings.organizationDefault) {
    const org = await client.get<{ _defaultemailserverprofileid_value: string | null }>(
      `organizations(${caller.organizationId})?$select=_defaultemailserverprofileid_value`,
    );
    const before = org._defaultemailserverprofileid_value ?? null;
    steps.push({
      id: 'crm.organization-default-profile',
      title: 'Default email server profile of the organization',
      target: caller.organizationId,
      action: profileId !== NEW_PROFILE && sameId(before, profileId) ? 'none' : 'update',
      before,
      after: settings.profileName,
    });
  }
  const selection = await selectMailboxes(client, settings);
  const canApprove = caller.privileges[APPROVE_PRIVILEGE] ?? false;
  const name = profileNamer(profileId === NEW_PROFILE ? undefined : profileId, settings);
  let tests = 0;
  for (const record of selection.records) {
    const change = mailboxChange(record, { profileId, settings, canApprove, now: clock.now() });
    const before = describeSettings(record, name);
    const after = { ...before };
    if ('incomingemaildeliverymethod' in change.settings) after.incoming = 'Server-Side Synchronization';
    if ('outgoingemaildeliverymethod' in change.settings) after.outgoing = 'Server-Side Synchronization';
    if ('actdeliverymethod' in change.settings) after.act = 'Server-Side Synchronization';
    if ('emailserverprofile@odata.bind' in change.settings) after.profile = settings.profileName;
    if (change.approve) after.approval = 'Approved';
    if (change.test) tests++;
    const notes = [
      change.test
        ? 'Test & Enable will be scheduled'
        : change.awaitTest
          ? 'waits for the Test & Enable already scheduled'
          : '',
      change.approvalBlocked
        ? `cannot approve: the runner lacks ${APPROVE_PRIVILEGE} (${EMAIL_PRIVILEGES[APPROVE_PRIVILEGE]})`
        : '',
    ].filter(Boolean);
    steps.push({
      id: `mailbox.${record.address || record.id}`,
      title: `Mailbox ${record.address || record.name}`,
      target: record.address || record.id,
      action: hasWrites(change) ? 'update' : 'none',
      before,
      after,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    });
  }
  for (const address of selection.missing) {
    steps.push({
      id: `mailbox.${address}`,
      title: `Mailbox ${address}`,
      target: address,
      action: 'none',
      before: null,
      after: null,
      note: 'no mailbox with this address in D365',
    });
  }
  steps.push({
    id: 'crm.test-and-enable',
    title: 'Test & Enable',
    target: `${selection.records.length} mailboxes`,
    action: 'check',
    before: null,
    after: { scheduled: tests },
    note: settings.testAndEnable
      ? `${tests} mailboxes will be tested; the run waits up to ${settings.pollTimeoutMs / 60_000} min for the results. Microsoft documents no Web API for Test & Enable: the toolkit sets ${settings.testFields.scheduled} with ${settings.testFields.postponeUntil} 5 minutes in the past (a null time is never picked up) and the three test statuses back to Not Run, then waits for ${settings.testFields.completedOn} at or after that time with a result in every tested direction (UNCONFIRMED; the names are configurable)`
      : 'email.mailboxes.testAndEnable is off',
  });
  return steps;
}

async function apply(ctx: PhaseContext): Promise<PhaseOutcome> {
  const { client, clock } = requireCrm(ctx, 'configure-mailboxes');
  const settings = mailboxSettings(ctx.config);
  const log = ctx.host.log;
  const results: StepResult[] = [];
  const outputs: Record<string, string> = {};
  const startedTrips = client.roundTrips;
  const startedAt = clock.now();

  const caller = await ctx.host.group('D365: the account the toolkit runs as', () => readCaller(client));
  outputs['organization-id'] = caller.organizationId;
  results.push(callerResult(caller, NEEDED_PRIVILEGES));
  const canApprove = caller.privileges[APPROVE_PRIVILEGE] ?? false;
  if (settings.approve && !canApprove) {
    log.warn(
      `The runner's D365 account lacks ${APPROVE_PRIVILEGE} (${EMAIL_PRIVILEGES[APPROVE_PRIVILEGE]}): email addresses will not be approved`,
    );
  }

  const profile = await ctx.host.group('D365: email server profile', () =>
    ensureProfile(client, settings, tenantIdOf(ctx), log),
  );
  results.push(profile.result);
  if (!profile.profileId) return { results, outputs };
  const profileId = profile.profileId;
  outputs['email-server-profile-id'] = profileId;
  if (settings.organizationDefault)
    results.push(await ensureOrganizationDefault(client, caller.organizationId, profileId, settings, true));

  const selection = await ctx.host.group('D365: mailboxes', () => selectMailboxes(client, settings));
  log.info(`Selected ${selection.records.length} mailboxes (${settings.select})`);
  const records = new Map(selection.records.map((r) => [r.id, r]));
  const name = profileNamer(profileId, settings);
  const before = new Map(selection.records.map((r) => [r.id, describeSettings(r, name)]));
  const baselines = new Map<string, string | null>();
  const changes = new Map<string, MailboxChange>();
  const now = clock.now();
  const testAt = testScheduleTime(now);
  for (const record of selection.records) {
    const change = mailboxChange(record, { profileId, settings, canApprove, now });
    changes.set(record.id, change);
    // Scheduled now: a completion at or after the postpone time written; scheduled earlier: a newer completion.
    if (change.awaitTest) baselines.set(record.id, change.test ? testAt : thresholdAfter(record.completedOn));
  }

  const written = await ctx.host.group('D365: mailbox settings', () =>
    writeMailboxChanges(client, selection.records, changes, settings, log, testAt),
  );
  for (const [id, change] of changes) {
    const record = records.get(id)!;
    if (written.errors.has(id)) baselines.delete(id);
    else if (hasWrites(change))
      applyWritten(record, change, profileId, change.approve && !written.approvalDenied.has(id));
  }

  const tests = await ctx.host.group('D365: Test & Enable', () =>
    awaitTests(client, settings, selection, records, baselines, clock, log, ctx.host),
  );
  const failedIds = [...baselines.keys()].filter(
    (id) => !tests.timedOut.has(id) && testFailed(records.get(id)!, settings),
  );
  const alerts = failedIds.length
    ? await readAlertDetails(client, new Set(failedIds), clock, startedAt)
    : { details: new Map<string, string>() };
  const details = alerts.details;
  if (alerts.warning) log.warn(alerts.warning);

  let outlook: Awaited<ReturnType<typeof deployOutlookApp>> | undefined;
  if (settings.outlookApp)
    outlook = await ctx.host.group('D365: App for Outlook', () =>
      deployOutlookApp(client, settings, selection, records, clock, log),
    );

  const outcomes: MailboxOutcome[] = selection.records.map((record) => {
    const change = changes.get(record.id)!;
    const writeError = written.errors.get(record.id);
    const timedOut = tests.timedOut.has(record.id);
    const tested = baselines.has(record.id);
    const warnings: string[] = [];
    if (change.approvalBlocked || written.approvalDenied.has(record.id)) {
      warnings.push(
        `email address not approved: the runner lacks ${APPROVE_PRIVILEGE} (${EMAIL_PRIVILEGES[APPROVE_PRIVILEGE]})`,
      );
    }
    if (!settings.testAndEnable && testFailed(record, settings))
      warnings.push('the last Test & Enable of this mailbox reported Failure');
    const failed = !!writeError || timedOut || (tested && testFailed(record, settings));
    if (outlook) {
      const error = outlook.errors.get(record.id);
      if (error) warnings.push(`App for Outlook not scheduled: ${error}`);
      else if (outlook.scheduled.has(record.id) && record.officeStatus === OFFICE_APPS_STATUS.installFailed) {
        warnings.push(
          `App for Outlook: ${record.officeError ?? 'install failed'} (grant "Use Dynamics 365 App for Outlook", prvUseOfficeApps)`,
        );
      } else if (outlook.timedOut.has(record.id)) warnings.push('App for Outlook: deployment did not finish in time');
    }
    const wrote = hasWrites(change) && !writeError;
    return {
      record,
      before: before.get(record.id)!,
      after: describeSettings(record, name),
      status: failed ? 'failed' : wrote || outlook?.scheduled.has(record.id) ? 'changed' : 'unchanged',
      ...(writeError ? { writeError } : {}),
      ...(timedOut ? { timedOut } : {}),
      tested,
      ...(details.has(record.id) ? { alertDetails: details.get(record.id)! } : {}),
      warnings,
    };
  });
  for (const outcome of outcomes) results.push(mailboxResult(outcome, settings));
  for (const address of selection.missing) results.push(missingMailboxResult(address));

  const failed = outcomes.filter((o) => o.status === 'failed').length + selection.missing.length;
  const changed = outcomes.filter((o) => o.status === 'changed').length;
  const roundTrips = client.roundTrips - startedTrips;
  const evidence = {
    selected: selection.records.length,
    changed,
    unchanged: outcomes.length - changed - outcomes.filter((o) => o.status === 'failed').length,
    failed,
    writes: written.units,
    tested: baselines.size,
    pollRounds: tests.rounds,
    roundTrips,
    roundTripsPerMailbox: selection.records.length
      ? Math.round((roundTrips / selection.records.length) * 10_000) / 10_000
      : 0,
    transport: client.transportKind,
  };
  results.push({
    id: 'crm.mailboxes',
    title: 'Mailboxes on server-side synchronization',
    target: `${selection.records.length} mailboxes (${settings.select})`,
    status: failed ? 'failed' : changed ? 'changed' : 'unchanged',
    before: null,
    after: null,
    evidence,
    ...(selection.records.length === 0 || alerts.warning
      ? {
          warnings: [
            ...(selection.records.length === 0
              ? [`no mailbox matched email.mailboxes.select: ${settings.select}`]
              : []),
            ...(alerts.warning ? [alerts.warning] : []),
          ],
        }
      : {}),
    ...(failed
      ? {
          error: `${failed} of ${selection.records.length + selection.missing.length} mailboxes failed: see their steps for the fix`,
        }
      : {}),
  });
  outputs['mailboxes-succeeded'] = String(outcomes.length - outcomes.filter((o) => o.status === 'failed').length);
  outputs['mailboxes-failed'] = String(failed);

  await ctx.host.writeSummary(
    summaryMarkdown('D365 mailboxes (configure-mailboxes)', outcomes, settings, [
      `Email server profile **${settings.profileName}**: ${profile.result.status}`,
      `${written.units} mailboxes written, ${baselines.size} tested, ${tests.rounds} status queries; ${roundTrips} Web API round trips`,
      ...(selection.missing.length ? [`Not found in D365: ${selection.missing.join(', ')}`] : []),
    ]),
  );
  return { results, outputs };
}

export const configureMailboxesPhase: Phase = {
  id: 'configure-mailboxes',
  title: 'D365 mailboxes: Exchange Online (Hybrid) profile, server-side sync, approval, Test & Enable',
  runsOn: 'anywhere with D365 Web API access',
  changes: 'D365 data (email server profile, organization default profile, mailboxes, email approval)',
  writes: { ews: true },
  inputs: [
    {
      name: 'tenant-id',
      description:
        "Entra tenant id for the email server profile (register-entra's output); default: tenant.id of the config",
    },
  ],
  outputs: [
    { name: 'organization-id', description: 'The D365 organization id (also the App for Outlook AD FS client id)' },
    { name: 'email-server-profile-id', description: 'Id of the Exchange Online (Hybrid) email server profile' },
    { name: 'mailboxes-succeeded', description: 'Mailboxes that are set and passed Test & Enable (or needed nothing)' },
    { name: 'mailboxes-failed', description: 'Mailboxes that failed (see the run record for each fix)' },
  ],
  plan,
  apply,
};
