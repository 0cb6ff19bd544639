// Each built GitHub Action run as the runner runs it: node on runs.main, inputs as INPUT_*, outputs to
// GITHUB_OUTPUT, the summary to GITHUB_STEP_SUMMARY, temp files under RUNNER_TEMP, the exit code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PHASES } from '../../src/phases/registry.js';
import { startEntraSandbox, type EntraSandbox } from './support/entra-sandbox.js';
import { builtPackages, type BuiltPackages } from './support/packages.js';
import {
  assertNoSecret,
  cleanupRuns,
  filesUnder,
  makeWorkspace,
  PFX_PASSWORD,
  runAction,
  type ActionRun,
  type Workspace,
} from './support/runners.js';

function assertNothingLeaked(run: ActionRun, ws: Workspace): void {
  assertNoSecret('the job log (stdout)', run.log, ws);
  assertNoSecret('stderr', run.stderr, ws);
  assertNoSecret('the step summary', run.summary, ws);
  assertNoSecret('the outputs', JSON.stringify(run.outputs), ws);
  for (const [path, text] of filesUnder(run.temp)) assertNoSecret(path, text, ws);
}

describe('GitHub Actions: the bundles as the runner runs them', () => {
  let built: BuiltPackages;
  let ws: Workspace;
  let wrongHost: Workspace;
  let sandbox: EntraSandbox;
  before(async () => {
    sandbox = await startEntraSandbox();
    built = await builtPackages();
    ws = makeWorkspace({ sandbox });
    wrongHost = makeWorkspace({ dnsNames: ['intranet.fabrikam.example'], sandbox });
  });
  after(async () => {
    ws.remove();
    wrongHost.remove();
    await sandbox.stop();
    cleanupRuns();
  });
  const action = (id: string) => join(built.root, 'actions', id);

  it('preflight succeeds: exit 0, thumbprint and record-file outputs, the summary, a record in RUNNER_TEMP', async () => {
    const run = await runAction(action('preflight'), ws, {
      config: ws.config,
      mode: 'apply',
      'pfx-base64': ws.pfxBase64,
      'pfx-password': PFX_PASSWORD,
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.thumbprint, ws.thumbprint);
    assert.ok(
      run.outputs['record-file']!.startsWith(join(run.temp, 'd365-exo-sync', 'records')),
      run.outputs['record-file'],
    );
    const record = JSON.parse(readFileSync(run.outputs['record-file']!, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(
      [
        record.phase,
        record.mode,
        record.status,
        record.host,
        record.actor,
        record.machine,
        record.runId,
        record.runUrl,
      ],
      [
        'preflight',
        'apply',
        'succeeded',
        'github',
        'octo-admin',
        'crm-runner-01',
        '4242',
        'https://github.example/contoso/d365-renewal/actions/runs/4242/attempts/1',
      ],
    );
    assert.match(run.summary, /### d365-exo-sync · preflight \(apply\) · succeeded/);
    assert.match(run.summary, new RegExp(`\\| thumbprint \\| ${ws.thumbprint} \\|`));
    assert.match(run.log, /^::group::preflight \(apply\)$/m);
    assertNothingLeaked(run, ws);
  });

  it('registers the password, the PFX base64 and its PEM lines with ::add-mask:: before anything else is written', async () => {
    const run = await runAction(action('preflight'), ws, {
      config: ws.config,
      'pfx-base64': ws.pfxBase64,
      'pfx-password': PFX_PASSWORD,
    });
    for (const form of [PFX_PASSWORD, ws.pfxBase64, ...ws.pfxBase64.match(/.{1,64}/g)!])
      assert.ok(run.masks.includes(form), form.slice(0, 8));
    // The PFX and its password are masked before anything else is written; secrets obtained later
    // (an access token on the first Graph call) are masked when they appear, before their first use.
    const lines = run.stdout.split('\n');
    const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
    assert.ok(firstOther > 0, 'output came before the first ::add-mask::');
    for (const form of [PFX_PASSWORD, ws.pfxBase64]) {
      const at = lines.indexOf(`::add-mask::${form}`);
      assert.ok(at >= 0 && at < firstOther, 'a certificate secret was masked only after other output');
    }
  });

  it('reads the certificate from a PFX file in the workspace (pfx-file)', async () => {
    writeFileSync(join(ws.dir, 'renewed.pfx'), ws.pfx);
    const run = await runAction(action('preflight'), ws, {
      config: ws.config,
      'pfx-file': 'renewed.pfx',
      'pfx-password': PFX_PASSWORD,
    });
    assert.equal(run.code, 0, run.stdout);
    assert.equal(run.outputs.thumbprint, ws.thumbprint);
    assertNothingLeaked(run, ws);
  });

  it('a failing phase fails the step: exit 1, ::error:: with the underlying error, a failed record', async () => {
    const run = await runAction(action('preflight'), wrongHost, {
      config: wrongHost.config,
      'pfx-base64': wrongHost.pfxBase64,
      'pfx-password': PFX_PASSWORD,
    });
    assert.equal(run.code, 1);
    assert.match(run.log, /^::error::preflight failed: .*HOST_NOT_COVERED/m);
    assert.equal(run.outputs.thumbprint, undefined);
    const record = JSON.parse(readFileSync(run.outputs['record-file']!, 'utf8')) as { status: string; error: string };
    assert.equal(record.status, 'failed');
    assert.match(record.error, /HOST_NOT_COVERED/);
    assert.match(run.summary, /preflight \(apply\) · failed/);
    assertNothingLeaked(run, wrongHost);
  });

  it('a missing required input fails the step before anything runs, naming the input', async () => {
    const run = await runAction(action('preflight'), ws, { 'pfx-password': PFX_PASSWORD });
    assert.equal(run.code, 1);
    assert.match(run.log, /^::error::preflight: Input required and not supplied: config$/m);
    assertNothingLeaked(run, ws);
  });

  it('a wrong PFX password fails the step with the certificate error, and the wrong password stays masked', async () => {
    const wrong = 'Wrong-Pa55word-Distinct-91f!';
    const run = await runAction(action('preflight'), ws, {
      config: ws.config,
      'pfx-base64': ws.pfxBase64,
      'pfx-password': wrong,
    });
    assert.equal(run.code, 1);
    assert.match(run.log, /PFX_BAD_PASSWORD/);
    assert.ok(run.masks.includes(wrong));
    assert.ok(!run.log.includes(wrong) && !run.summary.includes(wrong));
  });

  for (const phase of PHASES) {
    it(`${phase.id}: plan mode runs, leaves a record, and the exit code matches the record's status`, async () => {
      const run = await runAction(action(phase.id), ws, {
        config: ws.config,
        mode: 'plan',
        'pfx-base64': ws.pfxBase64,
        'pfx-password': PFX_PASSWORD,
      });
      const record = JSON.parse(readFileSync(run.outputs['record-file']!, 'utf8')) as {
        phase: string;
        mode: string;
        status: string;
        error?: string;
      };
      assert.deepEqual([record.phase, record.mode], [phase.id, 'plan']);
      assert.equal(run.code, record.status === 'succeeded' ? 0 : 1, record.error);
      if (record.error) assert.ok(run.log.includes(record.error), 'the step failure carries the record error');
      assertNothingLeaked(run, ws);
    });
  }
});
