// The records of one renewal (as the workflows download them: one folder per job artifact) merge into
// one table, in renewal order, with the failures and the outputs; `report` prints it as text, markdown or JSON.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCommand } from '../../src/cli/commands/report.js';
import { UsageError } from '../../src/cli/usage.js';
import type { CliIo } from '../../src/hosts/cli-host.js';
import { mergeRecords, readRecords } from '../../src/report/merge.js';
import { RUN_RECORD_SCHEMA, type RunRecord } from '../../src/report/run-record.js';
import { runPipelineStep } from '../../src/pipeline/step.js';
import { TestHost } from '../support/test-host.js';
import { startEntraSandbox, type EntraSandbox } from './support/entra-sandbox.js';
import { makeWorkspace, PFX_PASSWORD, type Workspace } from './support/runners.js';

function record(
  phase: RunRecord['phase'],
  machine: string,
  startedAt: string,
  extra: Partial<RunRecord> = {},
): RunRecord {
  return {
    schema: RUN_RECORD_SCHEMA,
    tool: { name: 'd365-exo-sync', version: '0.1.0' },
    phase,
    mode: 'apply',
    status: 'succeeded',
    host: 'github',
    actor: 'octo-admin',
    machine,
    runId: '4242',
    runUrl: 'https://github.example/contoso/d365-renewal/actions/runs/4242',
    startedAt,
    finishedAt: startedAt.replace(':00.000Z', ':30.000Z'),
    configHash: 'sha256:0da2381de9a3aaaa',
    steps: [
      {
        id: `${phase}.step`,
        title: `${phase} step`,
        target: machine,
        status: 'changed',
        before: { thumbprint: 'OLD' },
        after: { thumbprint: 'NEW' },
      },
    ],
    outputs: {},
    ...extra,
  };
}

function io(cwd: string) {
  const out = { stdout: '', stderr: '' };
  const cli: CliIo = { env: {}, cwd, stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t) };
  return { cli, out };
}

describe('report: one table from the records of a run', () => {
  let dir: string;
  let ws: Workspace;
  let sandbox: EntraSandbox;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'd365-records-'));
    sandbox = await startEntraSandbox();
    ws = makeWorkspace({ sandbox });
    // A real preflight record, as the action leaves it, in its artifact folder.
    const host = new TestHost({
      config: ws.config,
      'pfx-base64': ws.pfxBase64,
      'pfx-password': PFX_PASSWORD,
      'record-dir': join(dir, 'd365-exo-sync-records-preflight'),
    });
    const run = await runPipelineStep('preflight', host, { env: ws.env, cwd: ws.dir });
    assert.equal(run?.record.status, 'succeeded');
    const write = (folder: string, name: string, content: unknown) => {
      mkdirSync(join(dir, folder), { recursive: true });
      writeFileSync(join(dir, folder, name), typeof content === 'string' ? content : JSON.stringify(content));
    };
    // Written in an order unlike the renewal order, on purpose.
    write(
      'd365-exo-sync-records-configure-crm',
      'r.json',
      record('configure-crm', 'CRMAPP01', '2026-11-26T10:20:00.000Z', {
        outputs: { 'tenant-id': '11111111-2222-3333-4444-555555555555' },
      }),
    );
    write(
      'd365-exo-sync-records-install-certificate-CRMASYNC01',
      'r.json',
      record('install-certificate', 'CRMASYNC01', '2026-11-26T10:10:00.000Z'),
    );
    write(
      'd365-exo-sync-records-install-certificate-CRMAPP01',
      'r.json',
      record('install-certificate', 'CRMAPP01', '2026-11-26T10:11:00.000Z'),
    );
    write(
      'd365-exo-sync-records-register-entra',
      'r.json',
      record('register-entra', 'gh-hosted-7', '2026-11-26T10:05:00.000Z', { runId: run!.record.runId }),
    );
    write('other', 'package.json', { name: 'not a record' });
    write('other', 'broken.json', '{ "schema": ');
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    ws.remove();
    await sandbox.stop();
  });

  it('reads every record below the folder, skips other JSON and reports unreadable files', () => {
    const { records, problems } = readRecords(dir);
    assert.equal(records.length, 5);
    assert.deepEqual(
      problems.map((p) => p.file),
      [join('other', 'broken.json')],
    );
  });

  it('orders the rows by renewal order, then machine, and warns about more than one run and missing phases', () => {
    const merged = mergeRecords(readRecords(dir).records);
    assert.deepEqual(
      merged.phases.map((p) => `${p.phase}@${p.machine}`),
      [
        'preflight@TESTMACHINE',
        'register-entra@gh-hosted-7',
        'install-certificate@CRMAPP01',
        'install-certificate@CRMASYNC01',
        'configure-crm@CRMAPP01',
      ],
    );
    const preflightSteps = readRecords(dir).records.find((r) => r.record.phase === 'preflight')!.record.steps.length;
    assert.ok(preflightSteps > 1);
    assert.equal(merged.rows.length, preflightSteps + merged.phases.length - 1, 'every step of every record, once');
    assert.equal(merged.status, 'succeeded');
    assert.equal(merged.outputs['tenant-id'], '11111111-2222-3333-4444-555555555555');
    assert.match(merged.warnings.join('\n'), /the records come from 2 runs/);
    assert.match(
      merged.warnings.join('\n'),
      /no record of configure-exchange, configure-adfs, configure-mailboxes, verify, retire-previous/,
    );
  });

  it('report --format markdown: the phases table and the steps table, exit 0 when every phase succeeded', async () => {
    const { cli, out } = io(dir);
    const code = await reportCommand(['--dir', '.', '--run-id', '4242', '--format', 'markdown'], cli);
    assert.equal(code, 0, out.stderr);
    assert.match(out.stdout, /^### d365-exo-sync renewal report\n\nsucceeded · run 4242 · 3 record\(s\)/);
    assert.match(
      out.stdout,
      /\| install-certificate \| CRMASYNC01 \| install-certificate step \| CRMASYNC01 \| changed \| \{"thumbprint":"OLD"\} \| \{"thumbprint":"NEW"\} \|/,
    );
    assert.doesNotMatch(out.stdout, /TESTMACHINE/, 'the preflight record belongs to another run');
    assert.match(out.stderr, /warning: other[\\/]broken\.json: not valid JSON/);
  });

  it('a failed phase makes the report fail, with its error in full below the table', async () => {
    const failed = join(dir, 'd365-exo-sync-records-verify');
    mkdirSync(failed, { recursive: true });
    const steps: RunRecord['steps'] = [
      {
        id: 'mailbox',
        title: 'Mailbox test',
        target: 'a|b@contoso.com',
        status: 'failed',
        before: null,
        after: null,
        error: 'EWS blocked\nby policy',
      },
    ];
    writeFileSync(
      join(failed, 'r.json'),
      JSON.stringify(
        record('verify', 'CRMAPP01', '2026-11-26T10:40:00.000Z', {
          status: 'failed',
          error: 'Mailbox test: EWS blocked',
          steps,
        }),
      ),
    );
    try {
      const { cli, out } = io(dir);
      assert.equal(await reportCommand(['--dir', dir, '--run-id', '4242'], cli), 1);
      assert.match(out.stdout, /^d365-exo-sync renewal report: failed · run 4242/);
      // The error is below the table, once and in full, naming the phase, machine, step and target.
      assert.match(out.stdout, /✗ verify on CRMAPP01: Mailbox test \(a\|b@contoso\.com\): EWS blocked by policy/);
      const md = io(dir);
      await reportCommand(['--dir', dir, '--run-id', '4242', '--format', 'markdown'], md.cli);
      assert.match(md.out.stdout, /a\\\|b@contoso\.com/, 'a | in a cell is escaped');
    } finally {
      rmSync(failed, { recursive: true, force: true });
    }
  });

  it('outputs that count the same things come from one record: mailboxes-succeeded and -failed together', () => {
    const merged = mergeRecords([
      {
        file: 'a.json',
        record: record('configure-mailboxes', 'runner', '2026-11-26T10:30:00.000Z', {
          outputs: { 'mailboxes-succeeded': '39', 'mailboxes-failed': '1', 'organization-id': 'org' },
        }),
      },
      {
        file: 'b.json',
        record: record('verify', 'runner', '2026-11-26T10:40:00.000Z', { outputs: { 'mailboxes-failed': '0' } }),
      },
    ]);
    // verify re-tested every mailbox: its count stands alone, never beside configure-mailboxes' 39 of 40.
    assert.equal(merged.outputs['mailboxes-failed'], '0');
    assert.equal(merged.outputs['mailboxes-succeeded'], undefined);
    assert.equal(merged.outputs['organization-id'], 'org');
  });

  it('report --json: the merged report as data', async () => {
    const { cli, out } = io(dir);
    await reportCommand(['--dir', dir, '--json'], cli);
    const json = JSON.parse(out.stdout) as {
      status: string;
      runIds: string[];
      rows: unknown[];
      problems: { file: string }[];
    };
    assert.equal(json.runIds.length, 2);
    const records = readRecords(dir).records;
    assert.equal(
      json.rows.length,
      records.reduce((sum, r) => sum + r.record.steps.length, 0),
    );
    assert.equal(json.problems.length, 1);
  });

  it('no records, a missing folder and a bad format are told apart', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'd365-no-records-'));
    try {
      const { cli, out } = io(empty);
      assert.equal(await reportCommand(['--dir', '.'], cli), 1);
      assert.match(out.stderr, /no run record in \./);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    await assert.rejects(reportCommand(['--dir', join(dir, 'nope')], io(dir).cli), UsageError);
    await assert.rejects(
      reportCommand(['--dir', dir, '--format', 'html'], io(dir).cli),
      /--format html: use text or markdown/,
    );
    await assert.rejects(reportCommand([], io(dir).cli), /--dir DIR is required/);
  });
});
