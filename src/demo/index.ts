// `d365-exo-sync demo`: the whole renewal, twice, against the sandbox (see rehearsal.ts for the rounds and
// expectations.ts for what counts as "went as expected"). Everything it prints and writes goes through one mask.
// The records stay in a folder it names: one sub-folder per run (1-renewal, 2-rerun, 3-second-renewal) with one
// folder per job (as pipeline artifacts come), the config and the fake servers' state under sandbox/, and demo.log.
import { daysLeft, daysText } from '../days.js';
import { DEFAULT_WIDTH, fitLines } from '../text/text-table.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { mergeRecords, readRecords, type MergedRun } from '../report/merge.js';
import { DemoSession } from './host.js';
import { DEMO_HOST, EWS_BLOCKED_MAILBOX, startDemoSandbox, type DemoSandbox } from './sandbox.js';
import { findPhase } from '../phases/registry.js';
import {
  Rehearsal,
  POWERSHELL_PHASES,
  type Check,
  type JobOutcome,
  type RoundOutcome,
  type RoundPlan,
} from './rehearsal.js';
import type { RoundId } from './expectations.js';
import {
  describeCertificate,
  renderCheck,
  renderEvent,
  renderJob,
  renderJobHeadline,
  renderMerged,
  renderRerunTable,
  renderRoundStart,
  renderSandboxLines,
  wrap,
} from './render.js';

export interface DemoOptions {
  /** Folder for the records (created; must be empty). Default: a new folder in the OS temp folder. */
  recordsDir?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Mailboxes in the D365 emulator (default 40). */
  mailboxes?: number;
  /** Print the text report as the demo goes (false with --json). */
  print?: (text: string) => void;
  /** How wide the printed lines may be (Infinity: unlimited). Default 100. */
  width?: number;
  /** Every log line of every job (masked), as it happens (--verbose). */
  log?: (line: string) => void;
}

export interface DemoJobReport {
  phase: string;
  machine: string;
  status: string;
  ok: boolean;
  expected: string;
  problems: string[];
  counts?: JobOutcome['counts'];
  notRun?: string;
  /** Relative to the records folder. */
  record?: string;
  outputs: Record<string, string>;
  seconds: number;
}

export interface DemoRoundReport {
  id: RoundId;
  title: string;
  runId: string;
  /** Relative to the records folder. */
  folder: string;
  certificate: string;
  replaces: string;
  stopped?: string;
  jobs: DemoJobReport[];
  checks: Check[];
  events: string[];
  /** The merged report of this run's records (src/report/merge.ts). */
  report: MergedRun;
}

export interface DemoReport {
  ok: boolean;
  recordsDir: string;
  seconds: number;
  windows: { available: true; powershell: string } | { available: false; reason: string };
  sandbox: {
    entraAuthority: string;
    graph: string;
    d365: string;
    mailboxes: number;
    ewsBlockedMailbox: string;
    servers: Array<{ name: string; roles: string[] }>;
    certificates: { previous: string; first: string; second: string };
  };
  rounds: DemoRoundReport[];
  /** Every job and check that did not go as expected. */
  problems: string[];
}

function roundPlans(dir: string, sandbox: DemoSandbox): RoundPlan[] {
  const { previous, first, second } = sandbox.certificates;
  return [
    {
      id: 'renewal-1',
      title: `Renewal 1: certificate ${first.thumbprint.slice(0, 8)}… replaces ${previous.thumbprint.slice(0, 8)}… (ends in ${daysText(daysLeft(previous.notAfter, new Date()))})`,
      folder: join(dir, '1-renewal'),
      certificate: first,
      replaces: previous,
    },
    {
      id: 'rerun',
      title: 'Rerun: every job of renewal 1 again, same certificate: nothing may change',
      folder: join(dir, '2-rerun'),
      certificate: first,
      replaces: first,
    },
    {
      id: 'renewal-2',
      title: `Renewal 2: certificate ${second.thumbprint.slice(0, 8)}… replaces ${first.thumbprint.slice(0, 8)}…`,
      folder: join(dir, '3-second-renewal'),
      certificate: second,
      replaces: first,
    },
  ];
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const started = Date.now();
  const print = options.print ?? (() => {});
  const session = new DemoSession(options.log);
  const width = options.width ?? DEFAULT_WIDTH;
  // Tables are fitted as they are made; any prose line still wider is wrapped here, so no line is wider.
  const out = (text: string) => print(fitLines(session.mask(text), width));
  const dir = options.recordsDir ?? mkdtempSync(join(tmpdir(), 'd365-exo-sync-demo-'));
  const mailboxes = options.mailboxes ?? 40;

  out(
    'd365-exo-sync demo: two certificate renewals of D365 CE v9 on-premises <-> Exchange Online server-side sync,\n' +
      'rehearsed against a sandbox on this machine (loopback emulators; nothing leaves it).\n\n',
  );
  const sandbox = await startDemoSandbox({
    dir,
    env: options.env,
    cwd: options.cwd,
    mailboxes,
    registerSecret: (value) => session.registerSecret(value),
  });
  try {
    const ps = sandbox.powershell;
    const { previous, first, second } = sandbox.certificates;
    out(
      renderSandboxLines(
        [
          ['CA', `${sandbox.ca.name}, made now, in memory only; it signs the emulators' TLS and the certificates`],
          ['Entra ID', `${sandbox.entra.authority} (tenant ${sandbox.entra.tenantId}; client-secret sign-in)`],
          ['Graph', `${sandbox.entra.graph} (Dynamics CRM service principal with the key of the previous certificate)`],
          [
            'D365 Web API',
            `${sandbox.d365.url} (${mailboxes} mailboxes; Exchange Online refuses EWS for D365, e.g. ${EWS_BLOCKED_MAILBOX}, until configure-exchange allows the Dynamics app)`,
          ],
          [
            'Servers',
            sandbox.servers.map((s) => `${s.name} (${s.description})`).join(', ') +
              (ps.available
                ? `: emulated, the PowerShell module under ${ps.source} with the fake Windows cmdlets of the tests ` +
                  '(each server its own state; their runs warn that fakes were loaded and PowerShell ran on this machine: ' +
                  'expected here)'
                : ': NOT emulated here'),
          ],
          [
            'Certificates',
            `${describeCertificate('previous', previous)}, ${describeCertificate('renewal 1', first)}, ${describeCertificate('renewal 2', second)}; all for ${DEMO_HOST}`,
          ],
          ['Config', sandbox.configFile],
        ],
        width,
      ),
    );
    if (!ps.available) {
      const names = (role: string) =>
        sandbox.servers
          .filter((s) => (role === 'd365' ? !s.roles.includes('adfs') : s.roles.includes(role)))
          .map((s) => s.name)
          .join(', ');
      const where: Record<string, string> = {
        'install-certificate': names('d365'),
        'configure-crm': names('deployment-tools'),
        'configure-adfs': names('adfs'),
        'configure-exchange': 'the runner (ExchangeOnlineManagement)',
      };
      const what = POWERSHELL_PHASES.map((id) => {
        const phase = findPhase(id);
        return `    ${id} on ${where[id]}: would change ${wrap(phase?.changes ?? '(not in this build)', 60, '      ')}\n`;
      }).join('');
      out(
        `\n! The Windows phases cannot run here: ${wrap(ps.reason, 70, '  ')}\n` +
          '  Their plan needs PowerShell too (plan is the module run with -WhatIf), so neither plan nor apply is\n' +
          '  shown; what they would change on each server:\n' +
          what +
          '  The cloud and D365 phases run without them, and the demo reports the rehearsal as incomplete (exit 1).\n',
      );
    }

    const writeSummary = (job: JobOutcome) => {
      // The job summary as a pipeline shows it (GitHub step summary), next to the record.
      writeFileSync(join(dirname(job.recordFile!), 'summary.md'), session.mask(job.summary ?? ''), { mode: 0o600 });
    };
    const seenWarnings = new Set<string>();
    let currentRound: RoundId = 'renewal-1';
    const rehearsal = new Rehearsal(sandbox, session, {
      roundStarted: (round) => {
        currentRound = round.id;
        out(renderRoundStart(round));
      },
      jobFinished: (job) => {
        if (job.record) writeSummary(job);
        out(
          currentRound === 'rerun'
            ? job.ok
              ? ''
              : renderJobHeadline(job, width)
            : renderJob(job, seenWarnings, width),
        );
      },
      check: (check) => out(renderCheck(check)),
      event: (event) => out(renderEvent(event, width)),
      roundFinished: (round) => {
        if (round.plan.id === 'rerun') out(renderRerunTable(round, width));
        if (round.stopped) out(`\n✗ Stopped: ${wrap(round.stopped, 100, '  ')}\n`);
      },
    });

    const rounds: RoundOutcome[] = [];
    for (const plan of roundPlans(dir, sandbox)) {
      const outcome = await rehearsal.round(plan);
      rounds.push(outcome);
      if (outcome.stopped) break;
    }

    out(
      '\n\nMerged reports: each run\'s records in one table, as "d365-exo-sync report --dir <folder>" shows them\n' +
        '(here with the mailbox rows folded and long cells cut)\n',
    );
    const reports: DemoRoundReport[] = rounds.map((round) => {
      const { records, problems } = readRecords(round.plan.folder);
      const merged = mergeRecords(records);
      if (problems.length) merged.warnings.push(...problems.map((p) => `${p.file}: ${p.message}`));
      const expectedFailures = round.jobs.filter((j) => j.ok && j.record?.status === 'failed').map((j) => j.name);
      out(renderMerged(round.plan.title, relative(dir, round.plan.folder), merged, expectedFailures, width));
      return {
        id: round.plan.id,
        title: round.plan.title,
        runId: round.runId,
        folder: relative(dir, round.plan.folder),
        certificate: round.plan.certificate.thumbprint,
        replaces: round.plan.replaces.thumbprint,
        ...(round.stopped ? { stopped: round.stopped } : {}),
        jobs: round.jobs.map((job) => ({
          phase: job.phase,
          machine: job.machine,
          status: job.record?.status ?? 'not run',
          ok: job.ok,
          expected: job.expected,
          problems: job.problems,
          ...(job.counts ? { counts: job.counts } : {}),
          ...(job.notRun ? { notRun: job.notRun } : {}),
          ...(job.recordFile ? { record: relative(dir, job.recordFile) } : {}),
          outputs: job.record?.outputs ?? {},
          seconds: job.seconds,
        })),
        checks: round.checks,
        events: round.events.map((e) => e.text),
        report: merged,
      };
    });

    const notRun = rounds.flatMap((r) => r.jobs.filter((j) => j.windowsUnavailable));
    const problems = [
      ...(notRun.length && !ps.available
        ? [`${notRun.length} jobs of the PowerShell phases did not run: ${ps.reason}`]
        : []),
      ...rounds.flatMap((r) =>
        r.jobs
          .filter((j) => !j.ok && !j.windowsUnavailable)
          .map((j) => `${r.plan.id}: ${j.name}: ${j.notRun ?? j.problems.join('; ')}`),
      ),
      ...rounds.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => `${r.plan.id}: ${c.what}: ${c.actual}`)),
      ...rounds.filter((r) => r.stopped).map((r) => `${r.plan.id} stopped: ${r.stopped}`),
    ];
    if (rounds.length < 3) problems.push(`only ${rounds.length} of 3 runs ran`);
    const ok = problems.length === 0;
    const seconds = Math.round((Date.now() - started) / 100) / 10;

    out('\n\nRehearsal\n');
    for (const round of rounds) {
      const jobsOk = round.jobs.filter((j) => j.ok).length;
      const checksOk = round.checks.filter((c) => c.ok).length;
      out(
        `  ${round.jobs.every((j) => j.ok) && round.checks.every((c) => c.ok) && !round.stopped ? '✓' : '✗'} ${round.plan.title}: ` +
          `${jobsOk}/${round.jobs.length} jobs and ${checksOk}/${round.checks.length} checks as expected\n`,
      );
    }
    if (ok) {
      out(
        '\n' +
          fitLines(
            `Everything went as the rehearsal expects (${seconds} s): every phase that changes something changed on ` +
              "the first run, the read-only ones passed, configure-exchange let the Dynamics app through the tenant's " +
              'EWS block and the blocked mailbox then succeeded, nothing changed on the rerun, and each renewal kept ' +
              'the old and the new key valid until verify passed, then retired the old one.',
            width,
          ) +
          '\n',
      );
    } else {
      out(`\nThe rehearsal did NOT go as expected (${seconds} s):\n`);
      for (const problem of problems) out(`  ✗ ${wrap(problem, 104, '    ')}\n`);
    }
    out(`\nRecords, job summaries, the config and demo.log: ${dir}\n`);

    const report: DemoReport = {
      ok,
      recordsDir: dir,
      seconds,
      windows: ps.available ? { available: true, powershell: ps.source } : { available: false, reason: ps.reason },
      sandbox: {
        entraAuthority: sandbox.entra.authority,
        graph: sandbox.entra.graph,
        d365: sandbox.d365.url,
        mailboxes,
        ewsBlockedMailbox: EWS_BLOCKED_MAILBOX,
        servers: sandbox.servers.map((s) => ({ name: s.name, roles: s.roles })),
        certificates: { previous: previous.thumbprint, first: first.thumbprint, second: second.thumbprint },
      },
      rounds: reports,
      problems,
    };
    return JSON.parse(session.mask(JSON.stringify(report))) as DemoReport;
  } finally {
    writeFileSync(join(dir, 'demo.log'), session.logText(), { mode: 0o600 });
    await sandbox.close();
    session.dispose();
  }
}
