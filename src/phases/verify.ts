// verify: reads everything back and changes nothing. The D365 part checks the Exchange Online (Hybrid)
// profile, the organization's default profile and every selected mailbox (server-side sync, profile,
// approval, last test), and by default runs Test & Enable again, which is the only proof that server-side
// sync works with the current certificate (it schedules a test; no setting is written). Other phases add
// their readbacks through services.verifyReadbacks, or hand them over as inputs named readback-<phase>
// (JSON: StepResult[] or { results: StepResult[] }); verify collects them all into one report.
import { loadPfx, sha1Thumbprint } from '../cert/index.js';
import type { InputDefinition } from '../hosts/host.js';
import type { Phase, PhaseContext, PhaseOutcome, Step, StepResult } from './phase.js';
import { readAlertDetails } from './mailboxes/alerts.js';
import { describeSettings, healthy, profileNamer, testSchedulePatch, testScheduleTime } from './mailboxes/changes.js';
import { tenantIdOf } from './mailboxes/tenant-id.js';
import { requireCrm } from './phase-services.js';
import { awaitTests, testFailed } from './mailboxes/poll.js';
import { readOrganizationDefaultProfile, readProfilesByName } from './mailboxes/profile.js';
import {
  mailboxResult,
  missingMailboxResult,
  ORGANIZATION_DEFAULT_STEP,
  summaryMarkdown,
  type MailboxOutcome,
} from './mailboxes/report.js';
import { selectMailboxes } from './mailboxes/select.js';
import { mailboxSettings } from './mailboxes/settings.js';
import {
  evaluateOrganizationDefault,
  evaluateProfile,
  mailboxVerdict,
  retestTargets,
  setupProblems,
} from './mailboxes/verify-evaluate.js';

/** A readback another phase contributes to verify (Entra key, server thumbprints, S2S settings, ...). */
export interface VerifyReadback {
  id: string;
  title: string;
  collect(ctx: PhaseContext): Promise<StepResult[]>;
}

export const RETEST_INPUT: InputDefinition = {
  name: 'retest',
  description:
    'Run Test & Enable again on every selected mailbox (schedules the test only; no setting changes). true or false',
  default: 'true',
};

function retestWanted(ctx: PhaseContext): boolean {
  // A pipeline input (action.yml/task.json), or --set retest=false on the command line.
  const value = (ctx.inputs.retest ?? ctx.host.getInput(RETEST_INPUT) ?? 'true').trim().toLowerCase();
  if (!['true', 'false'].includes(value)) throw new Error(`input retest must be true or false, not ${value}`);
  return value === 'true';
}

/** Readbacks handed over as inputs: readback-<phase> = JSON. */
function inputReadbacks(ctx: PhaseContext): StepResult[] {
  const results: StepResult[] = [];
  for (const [name, value] of Object.entries(ctx.inputs)) {
    const match = /^readback[-.](.+)$/.exec(name);
    if (!match || value === undefined) continue;
    try {
      const parsed = JSON.parse(value) as StepResult[] | { results?: StepResult[] };
      const list = Array.isArray(parsed) ? parsed : (parsed.results ?? []);
      for (const item of list) {
        if (!item || typeof item.id !== 'string' || typeof item.status !== 'string')
          throw new Error('each entry needs id and status');
        results.push({ ...item, id: `readback.${match[1]}.${item.id}` });
      }
    } catch (error) {
      results.push({
        id: `readback.${match[1]}`,
        title: `Readback of ${match[1]}`,
        target: name,
        status: 'failed',
        before: null,
        after: null,
        error: `input ${name} is not a readback (JSON list of step results): ${(error as Error).message}`,
      });
    }
  }
  return results;
}

async function plan(ctx: PhaseContext): Promise<Step[]> {
  const settings = mailboxSettings(ctx.config);
  const retest = retestWanted(ctx);
  const steps: Step[] = [
    {
      id: 'crm.email-server-profile',
      title: `Email server profile "${settings.profileName}"`,
      target: settings.profileName,
      action: 'check',
      before: null,
      after: null,
    },
    {
      id: 'crm.mailboxes',
      title: 'Mailboxes on server-side synchronization',
      target: settings.select,
      action: 'check',
      before: null,
      after: null,
      note: retest
        ? 'runs Test & Enable again on every selected mailbox (schedules the test; no setting changes)'
        : 'reads the last Test & Enable results',
    },
  ];
  for (const readback of ctx.services.verifyReadbacks ?? []) {
    steps.push({
      id: `readback.${readback.id}`,
      title: readback.title,
      target: readback.id,
      action: 'check',
      before: null,
      after: null,
    });
  }
  for (const name of Object.keys(ctx.inputs).filter((n) => /^readback[-.]/.test(n))) {
    steps.push({
      id: name.replace('-', '.'),
      title: `Readback handed over as ${name}`,
      target: name,
      action: 'check',
      before: null,
      after: null,
    });
  }
  return steps;
}

async function verifyD365(ctx: PhaseContext, results: StepResult[], outputs: Record<string, string>): Promise<void> {
  const { client, clock } = requireCrm(ctx, 'verify');
  const settings = mailboxSettings(ctx.config);
  const log = ctx.host.log;
  const retest = retestWanted(ctx);
  const startedAt = clock.now();
  const startedTrips = client.roundTrips;
  const me = await client.whoAmI();
  outputs['organization-id'] = me.OrganizationId;

  const profileBase = {
    id: 'crm.email-server-profile',
    title: `Email server profile "${settings.profileName}"`,
    target: settings.profileName,
  };
  const found = await readProfilesByName(client, settings.profileName);
  const profile = evaluateProfile(settings, found, tenantIdOf(ctx));
  const profileId = profile.profileId;
  results.push({ ...profileBase, ...profile.finding });
  if (settings.organizationDefault && profileId) {
    const current = await readOrganizationDefaultProfile(client, me.OrganizationId);
    results.push({
      ...ORGANIZATION_DEFAULT_STEP,
      target: me.OrganizationId,
      ...evaluateOrganizationDefault(current, profileId, settings),
    });
  }

  const selection = await ctx.host.group('D365: mailboxes', () => selectMailboxes(client, settings));
  const records = new Map(selection.records.map((r) => [r.id, r]));
  const name = profileNamer(profileId, settings);
  const problems = new Map(selection.records.map((r) => [r.id, setupProblems(r, profileId, settings)]));
  const baselines = new Map<string, string | null>();
  const writeErrors = new Map<string, string>();
  const retestNow = retestTargets(selection.records, problems, retest, settings);
  if (retestNow.length) {
    const testAt = testScheduleTime(clock.now());
    const outcome = await client.executeChangeSets(
      retestNow.map((r) => ({
        key: r.id,
        operations: [
          { method: 'PATCH' as const, path: `mailboxes(${r.id})`, body: testSchedulePatch(settings, testAt) },
        ],
      })),
    );
    for (const result of outcome) {
      if (result.ok) baselines.set(result.key, testAt);
      else writeErrors.set(result.key, result.error?.message ?? 'failed');
    }
  }
  const tests = await ctx.host.group('D365: Test & Enable', () =>
    awaitTests(client, settings, selection, records, baselines, clock, log, ctx.host),
  );
  const failedIds = selection.records
    .filter((r) => !tests.timedOut.has(r.id) && (baselines.has(r.id) ? testFailed(r, settings) : !healthy(r, settings)))
    .map((r) => r.id);
  const alerts = failedIds.length
    ? await readAlertDetails(client, new Set(failedIds), clock, baselines.size ? startedAt : undefined)
    : { details: new Map<string, string>() };
  const details = alerts.details;
  if (alerts.warning) log.warn(alerts.warning);

  const outcomes: MailboxOutcome[] = selection.records.map((record) => {
    const timedOut = tests.timedOut.has(record.id);
    const tested = baselines.has(record.id);
    const { failed, writeError } = mailboxVerdict(
      record,
      { setupProblems: problems.get(record.id)!, scheduleError: writeErrors.get(record.id), tested, timedOut },
      settings,
    );
    const described = describeSettings(record, name);
    return {
      record,
      before: described,
      after: described,
      status: failed ? 'failed' : 'unchanged',
      ...(writeError ? { writeError } : {}),
      ...(timedOut ? { timedOut } : {}),
      tested,
      ...(details.has(record.id) ? { alertDetails: details.get(record.id)! } : {}),
      warnings: [],
    };
  });
  for (const outcome of outcomes) results.push(mailboxResult(outcome, settings));
  for (const address of selection.missing) results.push(missingMailboxResult(address));
  const failed = outcomes.filter((o) => o.status === 'failed').length + selection.missing.length;
  results.push({
    id: 'crm.mailboxes',
    title: 'Mailboxes on server-side synchronization',
    target: `${selection.records.length} mailboxes (${settings.select})`,
    status: failed ? 'failed' : 'unchanged',
    before: null,
    after: null,
    evidence: {
      selected: selection.records.length,
      failed,
      retested: baselines.size,
      pollRounds: tests.rounds,
      roundTrips: client.roundTrips - startedTrips,
    },
    ...(alerts.warning ? { warnings: [alerts.warning] } : {}),
    ...(failed ? { error: `${failed} mailboxes failed verification: see their steps for the fix` } : {}),
  });
  outputs['mailboxes-failed'] = String(failed);
  await ctx.host.writeSummary(
    summaryMarkdown('D365 mailboxes (verify)', outcomes, settings, [
      `Email server profile **${settings.profileName}**: ${results.find((r) => r.id === 'crm.email-server-profile')?.status === 'unchanged' ? 'as configured' : 'NOT as configured'}`,
      retest
        ? `Test & Enable run again on ${baselines.size} mailboxes (${tests.rounds} status queries)`
        : 'Last Test & Enable results (retest: false)',
    ]),
  );
}

async function apply(ctx: PhaseContext): Promise<PhaseOutcome> {
  // A bad input stops the phase before anything runs (the readbacks start PowerShell, Graph and Exchange reads).
  retestWanted(ctx);
  const results: StepResult[] = [];
  const outputs: Record<string, string> = {};
  try {
    await verifyD365(ctx, results, outputs);
  } catch (error) {
    // D365 unreachable (or no D365 client): say so, and still collect the other phases' readbacks.
    results.push({
      id: 'crm.webapi',
      title: 'D365 Web API',
      target: ctx.config.deployment.webApi.url ?? ctx.config.deployment.url,
      status: 'failed',
      before: null,
      after: null,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  for (const readback of ctx.services.verifyReadbacks ?? []) {
    try {
      results.push(...(await ctx.host.group(`Readback: ${readback.title}`, () => readback.collect(ctx))));
    } catch (error) {
      results.push({
        id: `readback.${readback.id}`,
        title: readback.title,
        target: readback.id,
        status: 'failed',
        before: null,
        after: null,
        error: (error as Error).message,
      });
    }
  }
  results.push(...inputReadbacks(ctx));
  // retire-previous removes the old key only after this passed, for this certificate.
  outputs.verified = results.some((r) => r.status === 'failed') ? 'false' : 'true';
  const thumbprint = ctx.inputs.thumbprint ?? certificateThumbprint(ctx);
  if (thumbprint) outputs['verified-thumbprint'] = thumbprint.toUpperCase();
  return { results, outputs };
}

/** The SHA-1 thumbprint of the run's certificate, when it was given one that opens. */
function certificateThumbprint(ctx: PhaseContext): string | undefined {
  if (!ctx.certificate) return undefined;
  const { pfx } = loadPfx(ctx.certificate.pfx, ctx.certificate.password);
  return pfx ? sha1Thumbprint(pfx.leaf) : undefined;
}

export const verifyPhase: Phase = {
  id: 'verify',
  title: 'Verify: read every piece back and re-test the mailboxes',
  runsOn: 'anywhere with D365 Web API access',
  changes: 'nothing (re-testing schedules Test & Enable, which changes no setting)',
  writes: { ews: true },
  signsInToEntra: true,
  inputs: [
    RETEST_INPUT,
    {
      name: 'thumbprint',
      description: 'The new certificate (register-entra output); named in the verified-thumbprint output',
    },
  ],
  outputs: [
    { name: 'organization-id', description: 'The D365 organization id' },
    { name: 'mailboxes-failed', description: 'Mailboxes that failed verification' },
    { name: 'verified', description: '"true" when every check passed (retire-previous needs it), else "false"' },
    { name: 'verified-thumbprint', description: 'The certificate this verify checked (thumbprint input, or the PFX)' },
  ],
  plan,
  apply,
};
