// configure-mailboxes: the D365 side of server-side synchronization with Exchange Online. Ensures the
// "Exchange Online (Hybrid)" email server profile, sets the selected mailboxes to server-side sync with
// that profile, approves their addresses, schedules Test & Enable and waits for every result with one
// paged query per round, and deploys the App for Outlook when configured. It reads first and writes only
// what differs: a second run writes nothing.
import { APPROVE_PRIVILEGE, EMAIL_PRIVILEGES, OFFICE_APPS_STATUS } from '../crm/entities.js';
import type { Phase, PhaseContext, PhaseOutcome, Step, StepResult } from './phase.js';
import { neededPrivileges, readCaller } from './mailboxes/caller.js';
import { describeSettings, hasWrites, profileNamer, type MailboxChange } from './mailboxes/changes.js';
import { tenantIdOf } from './mailboxes/tenant-id.js';
import { requireCrm } from './phase-services.js';
import {
  diffMailboxes,
  diffProfile,
  organizationDefaultNeeded,
  type ProfileChange,
  outlookAppNeeded,
  PROFILE_TO_CREATE,
} from './mailboxes/diff.js';
import { profileSummary, readOrganizationDefaultProfile, readProfilesByName } from './mailboxes/profile.js';
import { awaitTests, pollUntilDone, testFailed } from './mailboxes/poll.js';
import {
  mailboxResult,
  mailboxStep,
  missingMailbox,
  missingMailboxResult,
  ORGANIZATION_DEFAULT_STEP,
  summaryMarkdown,
  type MailboxOutcome,
} from './mailboxes/report.js';
import { selectMailboxes, type MailboxRecord, type Selection } from './mailboxes/select.js';
import { mailboxSettings, type MailboxSettings } from './mailboxes/settings.js';
import {
  callerResult,
  ensureOrganizationDefault,
  ensureProfile,
  profileBase,
  writeMailboxChanges,
} from './mailboxes/apply-changes.js';
import { readAlertDetails } from './mailboxes/alerts.js';
import type { WebApiClient } from '../crm/client.js';
import type { Clock } from '../crm/client-factory.js';
import type { Logger } from '../hosts/host.js';

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
  const eligible = [...records.values()].filter(outlookAppNeeded);
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

/** Reads the profiles of the configured name and decides what to do with the profile: plan and apply alike. */
async function readProfileChange(client: WebApiClient, settings: MailboxSettings, tenantId: string | undefined) {
  return diffProfile(settings, await readProfilesByName(client, settings.profileName), tenantId);
}

/** The profile step of the plan, and the id the mailboxes are bound to (PROFILE_TO_CREATE before it exists). */
function planProfileStep(settings: MailboxSettings, change: ProfileChange): { step: Step; profileId?: string } {
  const { plan } = change;
  const base = profileBase(settings);
  const note = change.tenantProblem ? { note: change.tenantProblem } : {};
  switch (plan.kind) {
    case 'conflict':
      return {
        step: { ...base, action: 'none', before: plan.profiles.map(profileSummary), after: null, note: plan.message },
      };
    case 'create':
      return { step: { ...base, action: 'create', before: null, after: plan.body }, profileId: PROFILE_TO_CREATE };
    case 'update':
      return {
        step: { ...base, action: 'update', before: profileSummary(plan.profile), after: plan.differences, ...note },
        profileId: plan.profile.emailserverprofileid,
      };
    case 'unchanged':
      return {
        step: {
          ...base,
          action: 'none',
          before: profileSummary(plan.profile),
          after: profileSummary(plan.profile),
          ...note,
        },
        profileId: plan.profile.emailserverprofileid,
      };
  }
}

/** A mailbox's plan step: its settings before, and after the change the diff decided. */
function planMailboxStep(
  record: MailboxRecord,
  change: MailboxChange,
  name: (id: string | null) => string,
  settings: MailboxSettings,
): Step {
  const before = describeSettings(record, name);
  const after = { ...before };
  if ('incomingemaildeliverymethod' in change.settings) after.incoming = 'Server-Side Synchronization';
  if ('outgoingemaildeliverymethod' in change.settings) after.outgoing = 'Server-Side Synchronization';
  if ('actdeliverymethod' in change.settings) after.act = 'Server-Side Synchronization';
  if ('emailserverprofile@odata.bind' in change.settings) after.profile = settings.profileName;
  if (change.approve) after.approval = 'Approved';
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
  return {
    ...mailboxStep(record),
    action: hasWrites(change) ? 'update' : 'none',
    before,
    after,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

async function plan(ctx: PhaseContext): Promise<Step[]> {
  const { client, clock } = requireCrm(ctx, 'configure-mailboxes');
  const settings = mailboxSettings(ctx.config);
  // Refuses a malformed tenant-id input before the first request.
  const tenantId = tenantIdOf(ctx);
  const caller = await readCaller(client);
  const steps: Step[] = [];
  const needed = neededPrivileges(settings);
  const missing = caller.missing.filter((m) => needed.includes(m.name));
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
  const profile = planProfileStep(settings, await readProfileChange(client, settings, tenantId));
  steps.push(profile.step);
  // A conflict stops the plan where apply would stop.
  if (!profile.profileId) return steps;
  const profileId = profile.profileId;
  if (settings.organizationDefault) {
    const before = await readOrganizationDefaultProfile(client, caller.organizationId);
    steps.push({
      ...ORGANIZATION_DEFAULT_STEP,
      target: caller.organizationId,
      action: organizationDefaultNeeded(before, profileId) ? 'update' : 'none',
      before,
      after: settings.profileName,
    });
  }
  const selection = await selectMailboxes(client, settings);
  const canApprove = caller.privileges[APPROVE_PRIVILEGE] ?? false;
  const name = profileNamer(profileId === PROFILE_TO_CREATE ? undefined : profileId, settings);
  const { changes, tests } = diffMailboxes(selection.records, { profileId, settings, canApprove }, clock.now());
  for (const record of selection.records) steps.push(planMailboxStep(record, changes.get(record.id)!, name, settings));
  for (const address of selection.missing)
    steps.push({ ...missingMailbox(address), action: 'none', note: 'no mailbox with this address in D365' });
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
  results.push(callerResult(caller, neededPrivileges(settings)));
  const canApprove = caller.privileges[APPROVE_PRIVILEGE] ?? false;
  if (settings.approve && !canApprove) {
    log.warn(
      `The runner's D365 account lacks ${APPROVE_PRIVILEGE} (${EMAIL_PRIVILEGES[APPROVE_PRIVILEGE]}): email addresses will not be approved`,
    );
  }

  const tenantId = tenantIdOf(ctx);
  const profile = await ctx.host.group('D365: email server profile', async () =>
    ensureProfile(client, settings, await readProfileChange(client, settings, tenantId), log),
  );
  results.push(profile.result);
  if (!profile.profileId) return { results, outputs };
  const profileId = profile.profileId;
  outputs['email-server-profile-id'] = profileId;
  if (settings.organizationDefault)
    results.push(await ensureOrganizationDefault(client, caller.organizationId, profileId, settings));

  const selection = await ctx.host.group('D365: mailboxes', () => selectMailboxes(client, settings));
  log.info(`Selected ${selection.records.length} mailboxes (${settings.select})`);
  const records = new Map(selection.records.map((r) => [r.id, r]));
  const name = profileNamer(profileId, settings);
  const before = new Map(selection.records.map((r) => [r.id, describeSettings(r, name)]));
  const { changes, baselines, testAt } = diffMailboxes(
    selection.records,
    { profileId, settings, canApprove },
    clock.now(),
  );

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
