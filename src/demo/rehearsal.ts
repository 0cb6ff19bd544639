// The rehearsal: three pipeline runs against the sandbox, each phase run as its pipeline job runs it (its own Host,
// its own run record, the outputs of earlier jobs handed over as the workflows hand them over):
//   1. renewal-1: the first certificate replaces the one in production (which ends in 12 days);
//   2. rerun: every job of that renewal again, with the same certificate: nothing may change;
//   3. renewal-2: a second certificate replaces the first: old and new key both valid after register-entra, the
//      old key gone after retire-previous.
// Jobs run in the zero-downtime order of DESIGN.md; install-certificate runs on both D365 servers at once, like the
// matrix legs of a pipeline. As in a pipeline, a job whose outcome is not the expected one stops the run.
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CertificateInput, Phase, PhaseContext, PhaseId, PhaseServices } from '../phases/phase.js';
import { findPhase } from '../phases/registry.js';
import { runPhase } from '../phases/runner.js';
import { createServices } from '../phases/create-services.js';
import { createEntraServices } from '../graph/entra-service.js';
import { createCrmServices } from '../crm/client-factory.js';
import { createWindowsServices } from '../phases/windows/powershell-service.js';
import { createExchangeServices } from '../graph/exchange-service.js';
import { sandboxWindowsTransport } from '../sandbox/d365/index.js';
import type { DemoCertificate } from '../sandbox/demo-certificates.js';
import type { RunRecord } from '../report/run-record.js';
import { DYNAMICS_APP_ID } from '../config/schema.js';
import { DemoHost, type DemoSession } from './host.js';
import {
  alignFakeCrmOrganization,
  DEMO_OTHER_EWS_APP,
  EWS_BLOCKED_MAILBOX,
  exchangeAllowedAppIds,
  type DemoSandbox,
  type DemoServer,
} from './sandbox.js';
import { countSteps, expectationFor, judgeRecord, type RoundId, type StepCounts } from './expectations.js';

export const WINDOWS_PHASES: readonly PhaseId[] = ['install-certificate', 'configure-crm', 'configure-adfs'];
/** Phases that run the PowerShell module: the Windows ones, and configure-exchange (ExchangeOnlineManagement). */
export const POWERSHELL_PHASES: readonly PhaseId[] = [...WINDOWS_PHASES, 'configure-exchange'];

export interface RoundPlan {
  id: RoundId;
  title: string;
  /** Folder of this round's records (one sub-folder per job, as pipeline artifacts come). */
  folder: string;
  certificate: DemoCertificate;
  /** The certificate this round replaces (its key is retired at the end). */
  replaces: DemoCertificate;
}

export interface JobOutcome {
  round: RoundId;
  phase: PhaseId;
  machine: string;
  /** The job's name: the phase, with the server for the Windows phases. */
  name: string;
  record?: RunRecord;
  recordFile?: string;
  /** Why the job did not run. */
  notRun?: string;
  /** Not run because PowerShell is missing (a Windows phase): the rest of the run goes on. */
  windowsUnavailable?: boolean;
  counts?: StepCounts;
  expected: string;
  ok: boolean;
  problems: string[];
  /** The job's host warnings (logged; masked). */
  warnings: string[];
  /** The job summary the phase wrote (markdown, masked), as a pipeline shows it. */
  summary?: string;
  seconds: number;
}

export interface KeySnapshot {
  thumbprint: string;
  start: string;
  end: string;
  /** Valid now (started and not ended). */
  valid: boolean;
  displayName: string | null;
}

export interface Check {
  round: RoundId;
  what: string;
  expected: string;
  actual: string;
  ok: boolean;
}

export interface DemoEvent {
  round: RoundId;
  /** After which job it happened. */
  after: string;
  text: string;
}

export interface RoundOutcome {
  plan: RoundPlan;
  runId: string;
  jobs: JobOutcome[];
  checks: Check[];
  events: DemoEvent[];
  /** The run stopped at an unexpected outcome (the rest of the round and later rounds did not run). */
  stopped?: string;
}

export interface RehearsalReporter {
  roundStarted(round: RoundPlan): void;
  jobFinished(job: JobOutcome): void;
  check(check: Check): void;
  event(event: DemoEvent): void;
  roundFinished(round: RoundOutcome): void;
}

interface JobRequest {
  phase: PhaseId;
  server?: DemoServer;
  certificate?: DemoCertificate;
  inputs?: Record<string, string | undefined>;
}

const thumbprintOf = (base64Der: string) =>
  createHash('sha1').update(Buffer.from(base64Der, 'base64')).digest('hex').toUpperCase();

const short = (thumbprint: string) => thumbprint.slice(0, 8) + '…';

export class Rehearsal {
  readonly runner = hostname();

  constructor(
    private readonly sandbox: DemoSandbox,
    private readonly session: DemoSession,
    private readonly reporter: RehearsalReporter,
  ) {}

  /** The key credentials of the Dynamics CRM service principal, read from the emulator (not through the toolkit). */
  keys(): KeySnapshot[] {
    const now = Date.now();
    return this.sandbox.entra.state.dynamics().keyCredentials.map((key) => ({
      thumbprint: thumbprintOf(key.key),
      start: key.startDateTime,
      end: key.endDateTime,
      valid: Date.parse(key.startDateTime) <= now && now < Date.parse(key.endDateTime),
      displayName: key.displayName,
    }));
  }

  private services(host: DemoHost, server: DemoServer | undefined, phase: PhaseId): PhaseServices {
    const { sandbox } = this;
    const { config, env } = sandbox;
    const services: PhaseServices = {
      // The same services a CLI run builds (verify's readbacks among them) ...
      ...createServices(config, host, env),
      // ... with the sandbox's CA trusted through the options and short waits between Graph read-backs,
      entra: createEntraServices(config, host, env, { ca: sandbox.ca.caPem, verifyDelayMs: 100 }),
      // the Web API reached over HTTPS with the emulator's stand-in for the runner's Windows identity,
      crm: createCrmServices(config, host, env, {
        ca: sandbox.ca.caPem,
        transport: sandboxWindowsTransport(sandbox.d365),
      }),
      // the Exchange Online token from the same emulated Entra app,
      exchange: createExchangeServices(config, host, env, { ca: sandbox.ca.caPem }),
    };
    // and on an emulated Windows server, the module under pwsh with that server's fake Windows cmdlets and state.
    const ps = sandbox.powershell;
    // configure-exchange, and the Exchange reads of preflight and verify: the module under pwsh on this runner with
    // the fake Exchange Online tenant.
    if (['preflight', 'configure-exchange', 'verify'].includes(phase) && ps.available) {
      services.windows = createWindowsServices(
        host,
        { ...env, FAKE_EXCHANGE_STATE_FILE: sandbox.exchangeStateFile },
        {
          computerName: this.runner,
          modulePath: ps.modulePath,
          extraModulePaths: [ps.fakeExchangeModule],
          ...(ps.pwshPath ? { pwshPath: ps.pwshPath } : {}),
          timeoutMs: 5 * 60_000,
        },
      );
    }
    if (server && ps.available) {
      services.windows = createWindowsServices(
        host,
        { ...env, FAKE_WINDOWS_STATE_FILE: server.stateFile },
        {
          computerName: server.name,
          modulePath: ps.modulePath,
          extraModulePaths: [ps.fakeModule],
          ...(ps.pwshPath ? { pwshPath: ps.pwshPath } : {}),
          timeoutMs: 5 * 60_000,
        },
      );
    }
    return services;
  }

  private certificateInput(cert: DemoCertificate, name: string): CertificateInput {
    return { pfx: cert.pfx, password: cert.password, source: `demo certificate ${name} (${short(cert.thumbprint)})` };
  }

  private async job(round: RoundPlan, runId: string, request: JobRequest): Promise<JobOutcome> {
    const phase: Phase | undefined = findPhase(request.phase);
    const machine = request.server?.name ?? this.runner;
    const name = request.server ? `${request.phase} ${request.server.name}` : request.phase;
    const expectation = expectationFor(round.id, request.phase);
    const base = { round: round.id, phase: request.phase, machine, name, expected: expectation.text };
    const started = Date.now();
    const seconds = () => Math.round((Date.now() - started) / 100) / 10;
    if (!phase) {
      return {
        ...base,
        notRun: `this build has no ${request.phase} phase`,
        ok: false,
        problems: ['not run'],
        warnings: [],
        seconds: 0,
      };
    }
    const ps = this.sandbox.powershell;
    if (POWERSHELL_PHASES.includes(request.phase) && !ps.available) {
      return {
        ...base,
        notRun: 'PowerShell is not available here (the reason is above): the Windows phases run in it',
        ok: false,
        problems: ['not run: no PowerShell'],
        windowsUnavailable: true,
        warnings: [],
        seconds: 0,
      };
    }
    const host = new DemoHost(this.session, { machine, runId, name });
    const certName = round.certificate === this.sandbox.certificates.second ? '2' : '1';
    const ctx: PhaseContext = {
      config: this.sandbox.config,
      host,
      inputs: request.inputs ?? {},
      now: new Date(),
      ...(request.certificate ? { certificate: this.certificateInput(request.certificate, certName) } : {}),
      services: this.services(host, request.server, request.phase),
    };
    const folder = join(round.folder, request.server ? `${request.phase}-${request.server.name}` : request.phase);
    const { record, recordFile } = await runPhase(phase, ctx, {
      mode: 'apply',
      configHash: this.sandbox.configHash,
      recordDir: folder,
    });
    const judged = judgeRecord(expectation, record);
    return {
      ...base,
      record,
      recordFile,
      counts: countSteps(record),
      ok: judged.ok,
      problems: judged.problems,
      warnings: [...new Set(host.warnings)],
      summary: host.summary,
      seconds: seconds(),
    };
  }

  async round(plan: RoundPlan): Promise<RoundOutcome> {
    const runId = randomUUID();
    const outcome: RoundOutcome = { plan, runId, jobs: [], checks: [], events: [] };
    const { sandbox, reporter } = this;
    reporter.roundStarted(plan);
    const d365Servers = sandbox.servers.filter((s) => s.roles.some((r) => r !== 'adfs'));
    const toolsServer = sandbox.servers.find((s) => s.roles.includes('deployment-tools'))!;
    const adfsServer = sandbox.servers.find((s) => s.roles.includes('adfs'))!;
    const cert = plan.certificate;

    const check = (what: string, expected: string, actual: string, ok: boolean) => {
      const c: Check = { round: plan.id, what, expected, actual, ok };
      outcome.checks.push(c);
      reporter.check(c);
      return ok;
    };
    /** Runs jobs (several: in parallel, like matrix legs); false when one did not go as expected. */
    const run = async (...requests: JobRequest[]): Promise<JobOutcome[] | undefined> => {
      const jobs = await Promise.all(requests.map((r) => this.job(plan, runId, r)));
      for (const job of jobs) {
        outcome.jobs.push(job);
        reporter.jobFinished(job);
      }
      const bad = jobs.filter((j) => !j.ok);
      // A Windows phase that could not run (no PowerShell) is reported and the cloud and D365 jobs go on: they do not
      // depend on the servers in the sandbox. Anything else unexpected stops the run, as a failed job stops a pipeline.
      const blocking = bad.filter((j) => !j.windowsUnavailable);
      if (blocking.length) {
        outcome.stopped = `${blocking.map((j) => j.name).join(', ')} did not go as expected: ${blocking
          .flatMap((j) => j.problems)
          .join('; ')}`;
        return undefined;
      }
      return jobs;
    };
    const outputs = (jobs: JobOutcome[] | undefined) => jobs?.[0]?.record?.outputs ?? {};
    const keyCheck = (after: string, wanted: DemoCertificate[]) => {
      const keys = this.keys();
      const wantedSet = wanted.map((c) => c.thumbprint).sort();
      const have = keys.map((k) => k.thumbprint).sort();
      const allValid = keys.every((k) => k.valid);
      const describe = (list: string[]) => list.map(short).join(' + ') || 'none';
      return check(
        `Entra ID keys of the Dynamics CRM service principal after ${after}`,
        `${describe(wantedSet)} (${wanted.length}), all valid now`,
        `${describe(have)} (${keys.length})${allValid ? ', all valid now' : ', NOT all valid'}`,
        JSON.stringify(have) === JSON.stringify(wantedSet) && allValid,
      );
    };
    const finish = () => {
      reporter.roundFinished(outcome);
      return outcome;
    };

    const preflight = await run({ phase: 'preflight', certificate: cert });
    if (!preflight) return finish();
    const register = await run({ phase: 'register-entra', certificate: cert });
    if (!register) return finish();
    // Zero downtime: from here until retire-previous, Entra ID accepts the old and the new certificate.
    const overlap = plan.id === 'rerun' ? [cert] : [plan.replaces, cert];
    keyCheck('register-entra', overlap);

    // configure-exchange, behind the same approval as register-entra: the tenant lets only another app use EWS, so
    // the phase adds the Dynamics app id (keeping the other) and says the change takes up to 24 hours.
    const exchange = await run({ phase: 'configure-exchange' });
    if (!exchange) return finish();
    if (plan.id === 'renewal-1') {
      const ids = exchangeAllowedAppIds(sandbox.exchangeStateFile);
      const ran = !exchange[0]?.windowsUnavailable;
      if (ran) {
        check(
          "The tenant's EwsAllowedAppIDs after configure-exchange",
          `${DYNAMICS_APP_ID} added, ${DEMO_OTHER_EWS_APP} kept`,
          ids.join(', ') || 'empty',
          ids.includes(DYNAMICS_APP_ID) && ids.includes(DEMO_OTHER_EWS_APP),
        );
      }
      // Exchange Online applies the change within 24 hours; the demo fast-forwards past ews-effective-after. Only a
      // tenant that now lists the Dynamics app stops refusing EWS for D365.
      const after = outputs(exchange)['ews-effective-after'];
      if (ids.includes(DYNAMICS_APP_ID) || !ran) {
        delete sandbox.d365.state.testAndEnable.failures?.[EWS_BLOCKED_MAILBOX];
      }
      const event: DemoEvent = {
        round: plan.id,
        after: 'configure-exchange',
        text: ran
          ? `Exchange Online takes up to 24 hours to apply EWS changes (Test & Enable is worth running after ${after || '—'}); ` +
            `the demo fast-forwards: with the Dynamics app in EwsAllowedAppIDs, EWS for ${EWS_BLOCKED_MAILBOX} is no longer refused.`
          : `configure-exchange could not run here (no PowerShell): the demo plays the Exchange admin adding ${DYNAMICS_APP_ID} to EwsAllowedAppIDs.`,
      };
      outcome.events.push(event);
      reporter.event(event);
    }

    const pf = outputs(preflight);
    const re = outputs(register);
    const tenantId = re['tenant-id'] || pf['tenant-id'];
    const thumbprint = re.thumbprint || pf.thumbprint;

    if (
      !(await run(
        ...d365Servers.map((server) => ({ phase: 'install-certificate' as const, server, certificate: cert })),
      ))
    )
      return finish();
    // The fake CRM deployment of the Deployment Tools server gets the emulated D365 organization's id.
    alignFakeCrmOrganization(toolsServer, sandbox.config.deployment.organization, sandbox.d365.state.organizationId);
    if (
      !(await run({
        phase: 'configure-crm',
        server: toolsServer,
        certificate: cert,
        inputs: { 'tenant-id': tenantId, thumbprint },
      }))
    )
      return finish();
    if (
      !(await run({
        phase: 'configure-adfs',
        server: adfsServer,
        inputs: { 'organization-id': pf['organization-id'] },
      }))
    )
      return finish();

    const mailboxes = await run({ phase: 'configure-mailboxes' });
    if (!mailboxes) return finish();
    if (plan.id === 'renewal-1') {
      const step = mailboxes[0]?.record?.steps.find((st) => st.id === `mailbox.${EWS_BLOCKED_MAILBOX}`);
      const status = step && 'status' in step ? step.status : 'not found';
      check(
        `Test & Enable of ${EWS_BLOCKED_MAILBOX} (EWS refused until configure-exchange)`,
        'changed (server-side synchronization works)',
        status,
        status === 'changed',
      );
    }

    const verify = await run({ phase: 'verify', inputs: { thumbprint } });
    if (!verify) return finish();
    const v = outputs(verify);
    check(
      'verify outputs',
      `verified=true, verified-thumbprint=${short(cert.thumbprint)}`,
      `verified=${v.verified ?? '—'}, verified-thumbprint=${v['verified-thumbprint'] ? short(v['verified-thumbprint']) : '—'}`,
      v.verified === 'true' && v['verified-thumbprint'] === cert.thumbprint,
    );

    const retire = await run({
      phase: 'retire-previous',
      inputs: { thumbprint, verified: v.verified, 'verified-thumbprint': v['verified-thumbprint'] },
    });
    if (!retire) return finish();
    keyCheck('retire-previous', [cert]);
    return finish();
  }
}
