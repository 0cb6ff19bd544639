// `d365-exo-sync demo`, run in-process as a user runs it: the whole rehearsal against the sandbox (real pwsh with the
// fake Windows cmdlets for the Windows phases), then its records read back and checked on their own — not through
// the demo's own verdict. Without pwsh the full run is skipped outside CI and fails under CI=true; the run without
// PowerShell is tested on its own (the Windows phases reported as not run, the demo exits 1).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runCli, type CliRun } from '../../support/cli.js';
import { suiteOptions } from '../powershell/helpers.js';
import { Masker } from '../../../src/secrets/masker.js';
import { PHASE_IDS, type StepResult } from '../../../src/phases/phase.js';
import { readRecords, type RecordFile } from '../../../src/report/merge.js';
import type { RunRecord } from '../../../src/report/run-record.js';
import type { DemoReport } from '@d365-exo-sync/sandbox/demo';
import { renderJob, renderMerged } from '@d365-exo-sync/sandbox/demo/render';
import { mergeRecords } from '../../../src/report/merge.js';
import { countSteps } from '@d365-exo-sync/sandbox/demo/expectations';
import type { JobOutcome } from '@d365-exo-sync/sandbox/demo/rehearsal';

const EWS_MAILBOX = 'user0007@contoso.com';
const READ_ONLY = ['preflight', 'verify'];
const ROUNDS = ['1-renewal', '2-rerun', '3-second-renewal'];

/** Every secret the demo registers with its mask, captured as it is registered (the demo makes them at random). */
const secrets: Array<string | Buffer> = [];
const originalAdd = Masker.prototype.add;
Masker.prototype.add = function (secret: string | Buffer) {
  secrets.push(secret);
  return originalAdd.call(this, secret);
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The forms a leaked secret would show up in: itself and its base64 (whole, or a full PEM line of it). */
function leakForms(secret: string | Buffer): string[] {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  const b64 = bytes.toString('base64');
  const forms = typeof secret === 'string' ? [secret, b64.replace(/=+$/, '')] : [b64];
  for (let i = 0; i + 64 <= b64.length; i += 64) forms.push(b64.slice(i, i + 64));
  return forms.filter((form) => form.length >= 12);
}

function leaks(texts: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const secret of secrets) {
      if (leakForms(secret).some((form) => text.includes(form))) found.push(`${where}: a registered secret`);
    }
    // Any JSON web token (the sandbox's access tokens), registered or not.
    if (/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./.test(text)) found.push(`${where}: a JWT`);
  }
  return [...new Set(found)];
}

const results = (record: RunRecord) => record.steps as StepResult[];
const byStatus = (record: RunRecord, status: string) => results(record).filter((s) => s.status === status);

function recordsOf(dir: string): RecordFile[] {
  const { records, problems } = readRecords(dir);
  assert.deepEqual(problems, []);
  return records;
}

function one(records: RecordFile[], phase: string): RunRecord {
  const found = records.filter((r) => r.record.phase === phase);
  assert.equal(found.length, 1, `one ${phase} record`);
  return found[0]!.record;
}

interface KeySummary {
  thumbprint: string;
  state: string;
}

function keysAfter(record: RunRecord, stepId: string): KeySummary[] {
  const step = results(record).find((s) => s.id === stepId);
  assert.ok(step, `${record.phase} has step ${stepId}`);
  return step.after as KeySummary[];
}

describe('d365-exo-sync demo', suiteOptions(), () => {
  let work: string;
  let records: string;
  let run: CliRun;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'demo-test-'));
    records = join(work, 'records');
    run = await runCli(['demo', '--records', records], {}, work);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('exits 0 and says the rehearsal went as expected', () => {
    assert.equal(run.code, 0, run.stdout.slice(-3000) + run.stderr.slice(-2000));
    assert.match(run.stdout, /Everything went as the rehearsal expects/);
    assert.match(
      run.stdout,
      new RegExp(`Records, job summaries, the config and demo.log: ${records.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });

  it('prints each phase table and the merged report of every run', () => {
    for (const phase of PHASE_IDS) assert.match(run.stdout, new RegExp(`✓ ${phase}( CRM\\w+| ADFS01)? on `));
    assert.match(run.stdout, /install-certificate CRMAPP01 on CRMAPP01/);
    assert.match(run.stdout, /install-certificate CRMASYNC01 on CRMASYNC01/);
    assert.match(run.stdout, /step\s+target\s+status\s+before\s+after/);
    assert.equal(
      run.stdout.match(/d365-exo-sync renewal report: succeeded|d365-exo-sync renewal report: failed/g)?.length,
      3,
    );
    assert.match(
      run.stdout,
      /phase\s+machine\s+status\s+changed\s+unchanged\s+skipped\s+(not checked\s+)?failed\s+rerun/,
    );
    assert.match(run.stdout, /Validity timeline \(/);
  });

  it('fits 100 columns (no COLUMNS, no terminal), and 80 when the same jobs and reports are drawn for 80', () => {
    for (const line of run.stdout.split('\n')) assert.ok([...line].length <= 100, line);
    for (const round of ROUNDS) {
      const found = recordsOf(join(records, round));
      for (const width of [80, 100]) {
        let text = renderMerged(round, round, mergeRecords(found), [], width);
        for (const { record } of found) {
          const job: JobOutcome = {
            round: 'renewal-1',
            phase: record.phase,
            machine: record.machine,
            name: `${record.phase} ${record.machine}`,
            record,
            counts: countSteps(record),
            expected: record.status,
            ok: true,
            problems: [],
            warnings: [],
            seconds: 1,
          };
          text += renderJob(job, new Set(), width);
        }
        for (const line of text.split('\n')) assert.ok([...line].length <= width, `${round} at ${width}: ${line}`);
      }
    }
  });

  it('leaves the records folder: one folder per run and per job, the config, the fake servers and the log', () => {
    const top = readdirSync(records).sort();
    assert.deepEqual(top, [...ROUNDS, 'demo.log', 'sandbox']);
    assert.deepEqual(readdirSync(join(records, 'sandbox')).sort(), [
      'ADFS01.fake-windows.json',
      'CRMAPP01.fake-windows.json',
      'CRMASYNC01.fake-windows.json',
      'd365-exo-sync.demo.yml',
      'exchange-online.fake-exchange.json',
    ]);
    const jobs = [
      'configure-adfs-ADFS01',
      'configure-crm-CRMAPP01',
      'configure-exchange',
      'configure-mailboxes',
      'install-certificate-CRMAPP01',
      'install-certificate-CRMASYNC01',
      'preflight',
      'register-entra',
      'retire-previous',
      'verify',
    ];
    const runIds = new Set<string>();
    for (const round of ROUNDS) {
      assert.deepEqual(readdirSync(join(records, round)).sort(), jobs, round);
      for (const job of jobs) {
        const files = readdirSync(join(records, round, job));
        assert.equal(files.length, 2, `${round}/${job}: ${files.join(', ')}`);
        assert.ok(files.includes('summary.md'), `${round}/${job} has the job summary`);
        assert.ok(
          files.some((f) => f.endsWith('.json')),
          `${round}/${job} has the run record`,
        );
      }
      const found = recordsOf(join(records, round));
      assert.equal(found.length, 10);
      const ids = new Set(found.map((r) => r.record.runId));
      assert.equal(ids.size, 1, `${round}: one pipeline run`);
      runIds.add([...ids][0]!);
      for (const { record } of found) {
        assert.equal(record.mode, 'apply');
        assert.equal(record.host, 'demo');
      }
      const machines = found.filter((r) => r.record.phase === 'install-certificate').map((r) => r.record.machine);
      assert.deepEqual(machines.sort(), ['CRMAPP01', 'CRMASYNC01']);
      assert.equal(one(found, 'configure-crm').machine, 'CRMAPP01');
      assert.equal(one(found, 'configure-adfs').machine, 'ADFS01');
    }
    assert.equal(runIds.size, 3, 'each run its own run id');
    // Each emulated server kept its own state: the last certificate is in both D365 servers' stores, not on AD FS.
    const last = one(recordsOf(join(records, '3-second-renewal')), 'preflight').outputs.thumbprint!;
    const store = (server: string) =>
      (
        JSON.parse(readFileSync(join(records, 'sandbox', `${server}.fake-windows.json`), 'utf8')) as {
          store: { thumbprint: string }[];
        }
      ).store.map((c) => c.thumbprint);
    assert.deepEqual(store('CRMAPP01'), [last]);
    assert.deepEqual(store('CRMASYNC01'), [last]);
    assert.deepEqual(store('ADFS01'), []);
  });

  it("first renewal: every phase that changes something changed, the read-only ones passed, configure-exchange let D365 through the tenant's EWS block and the blocked mailbox succeeded", () => {
    const found = recordsOf(join(records, '1-renewal'));
    for (const { record } of found) {
      const name = `${record.phase} on ${record.machine}`;
      if (READ_ONLY.includes(record.phase)) {
        assert.equal(record.status, 'succeeded', name);
        assert.equal(byStatus(record, 'changed').length, 0, name);
      } else {
        assert.ok(byStatus(record, 'changed').length > 0, `${name} changed something`);
      }
      assert.equal(record.status, 'succeeded', `${name}: ${record.error ?? ''}`);
      assert.equal(byStatus(record, 'failed').length, 0, name);
    }
    const exchange = one(found, 'configure-exchange');
    const allowed = results(exchange).find((s) => s.id === 'exchange.allowed-app-ids')!;
    assert.equal(allowed.status, 'changed');
    assert.deepEqual(allowed.before, ['4a5b6c7d-1111-4222-8333-944455556666']);
    assert.deepEqual(allowed.after, ['4a5b6c7d-1111-4222-8333-944455556666', '00000007-0000-0000-c000-000000000000']);
    assert.match(exchange.outputs['ews-effective-after']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(exchange.outputs['ews-state']!, /days left until 2027-04-01/);
    assert.match(run.stdout, /up to 24 hours/);
    const tenant = JSON.parse(readFileSync(join(records, 'sandbox', 'exchange-online.fake-exchange.json'), 'utf8')) as {
      allowedAppIds: string;
    };
    assert.equal(tenant.allowedAppIds, '4a5b6c7d-1111-4222-8333-944455556666,00000007-0000-0000-c000-000000000000');
    const mailboxes = one(found, 'configure-mailboxes');
    const all = results(mailboxes).filter((s) => s.id.startsWith('mailbox.'));
    assert.equal(all.length, 40);
    assert.ok(all.every((s) => s.status === 'changed'));
    assert.ok(all.some((s) => s.target === EWS_MAILBOX));
  });

  it('chains the outputs as the pipelines do and retires the old key only after verify passed', () => {
    for (const round of ['1-renewal', '3-second-renewal']) {
      const found = recordsOf(join(records, round));
      const preflight = one(found, 'preflight');
      const register = one(found, 'register-entra');
      const verify = one(found, 'verify');
      const retire = one(found, 'retire-previous');
      const thumbprint = register.outputs.thumbprint!;
      assert.equal(preflight.outputs.thumbprint, thumbprint);
      assert.equal(register.outputs['tenant-id'], preflight.outputs['tenant-id']);
      assert.equal(one(found, 'configure-crm').outputs['tenant-id'], register.outputs['tenant-id']);
      assert.equal(one(found, 'configure-crm').outputs.thumbprint, thumbprint);
      assert.equal(one(found, 'configure-crm').outputs['organization-id'], preflight.outputs['organization-id']);
      assert.equal(one(found, 'configure-adfs').outputs['outlook-client-id'], preflight.outputs['organization-id']);
      assert.equal(verify.outputs.verified, 'true');
      assert.equal(verify.outputs['verified-thumbprint'], thumbprint);
      assert.equal(retire.outputs.thumbprint, thumbprint);
    }
  });

  it('second renewal: old and new key both valid after register-entra, only the new one after retire-previous', () => {
    const first = recordsOf(join(records, '1-renewal'));
    const second = recordsOf(join(records, '3-second-renewal'));
    const oldThumbprint = one(first, 'register-entra').outputs.thumbprint!;
    const newThumbprint = one(second, 'register-entra').outputs.thumbprint!;
    assert.notEqual(oldThumbprint, newThumbprint);

    const overlap = keysAfter(one(second, 'register-entra'), 'entra.key-credential');
    assert.equal(overlap.length, 2);
    assert.deepEqual(overlap.map((k) => k.thumbprint).sort(), [oldThumbprint, newThumbprint].sort());
    assert.ok(overlap.every((k) => k.state === 'valid'));

    const retired = keysAfter(one(second, 'retire-previous'), 'entra.retire-keys');
    assert.equal(retired.length, 1);
    assert.equal(retired[0]!.thumbprint, newThumbprint);
    assert.equal(retired[0]!.state, 'valid');
    assert.ok(one(second, 'retire-previous').outputs['removed-key-ids']);
    // The first renewal also overlapped with, then retired, the key in production before the demo.
    const before = keysAfter(one(first, 'register-entra'), 'entra.key-credential');
    assert.equal(before.length, 2);
    assert.deepEqual(
      keysAfter(one(first, 'retire-previous'), 'entra.retire-keys').map((k) => k.thumbprint),
      [oldThumbprint],
    );
    // The servers moved on too: the second certificate replaced the first in the stores (same subject).
    for (const { record } of second.filter((r) => r.record.phase === 'install-certificate')) {
      assert.equal(record.outputs.thumbprint, newThumbprint);
      assert.equal(record.outputs['removed-thumbprints'], oldThumbprint);
    }
    assert.equal(one(second, 'configure-crm').outputs.thumbprint, newThumbprint);
  });

  it('rerun: every phase again, nothing changed and nothing failed', () => {
    const found = recordsOf(join(records, '2-rerun'));
    assert.deepEqual([...new Set(found.map((r) => r.record.phase))].sort(), [...PHASE_IDS].sort());
    for (const { record } of found) {
      const name = `${record.phase} on ${record.machine}`;
      assert.equal(record.status, 'succeeded', `${name}: ${record.error ?? ''}`);
      // not-checked is not a change either.
      const unexpected = results(record).filter((s) => !['unchanged', 'skipped', 'not-checked'].includes(s.status));
      assert.deepEqual(
        unexpected.map((s) => `${s.title}: ${s.status}`),
        [],
        name,
      );
      assert.ok(byStatus(record, 'unchanged').length > 0, `${name} checked something`);
    }
  });

  it('never writes a secret: not in the output, the records, the summaries, the config, the fake servers or the log', () => {
    assert.ok(secrets.length >= 5, 'the demo registered its secrets (PFX passwords, client secret, tokens)');
    const texts: Record<string, string> = { stdout: run.stdout, stderr: run.stderr };
    for (const file of filesUnder(records)) texts[relative(records, file)] = readFileSync(file, 'utf8');
    assert.deepEqual(leaks(texts), []);
  });
});

describe('d365-exo-sync demo without PowerShell', () => {
  let work: string;
  let run: CliRun;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'demo-test-nopwsh-'));
    const empty = join(work, 'empty');
    mkdirSync(empty);
    // No pwsh or dotnet on PATH, no restored dotnet tool, no explicit PowerShell.
    run = await runCli(
      ['demo', '--records', join(work, 'records'), '--json', '--mailboxes', '12'],
      {
        PATH: empty,
        NUGET_PACKAGES: empty,
      },
      work,
    );
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('says why the Windows phases did not run, runs the rest, and exits 1', () => {
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as DemoReport;
    assert.equal(report.ok, false);
    assert.equal(report.windows.available, false);
    assert.match((report.windows as { reason: string }).reason, /No PowerShell found/);
    assert.equal(report.rounds.length, 3);
    for (const round of report.rounds) {
      for (const job of round.jobs) {
        if (['install-certificate', 'configure-crm', 'configure-adfs', 'configure-exchange'].includes(job.phase)) {
          assert.equal(job.status, 'not run');
          assert.match(job.notRun!, /PowerShell is not available/);
        } else {
          assert.ok(job.ok, `${round.id} ${job.phase}: ${job.problems.join('; ')}`);
        }
      }
      assert.equal(round.jobs.filter((j) => j.phase === 'install-certificate').length, 2);
      assert.ok(
        round.checks.every((c) => c.ok),
        JSON.stringify(round.checks),
      );
    }
    assert.deepEqual(report.problems, [
      `15 jobs of the PowerShell phases did not run: ${(report.windows as { reason: string }).reason}`,
    ]);
  });
});

describe('d365-exo-sync demo usage', () => {
  it('refuses a records folder that is not empty, and a mailbox count out of range', async () => {
    const work = mkdtempSync(join(tmpdir(), 'demo-test-usage-'));
    try {
      writeFileSync(join(work, 'old.json'), '{}');
      const notEmpty = await runCli(['demo', '--records', work]);
      assert.equal(notEmpty.code, 2);
      assert.match(notEmpty.stderr, /is not empty: give a new or empty folder/);
      const few = await runCli(['demo', '--mailboxes', '3']);
      assert.equal(few.code, 2);
      assert.match(few.stderr, /--mailboxes must be a whole number from 10 to 500/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
