// A preflight whose external checks fail one at a time: what could not run is "not checked" with its reason, in the
// terminal table, in the job summary and in the run record; never "unchanged", never left out.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPreflightPhase } from '../../../src/phases/preflight/preflight-phase.js';
import { entraCheck } from '../../../src/phases/preflight/entra-checks.js';
import { d365PreflightCheck } from '../../../src/phases/preflight/d365-checks.js';
import { runPhase } from '../../../src/phases/runner.js';
import type { PhaseContext, StepResult } from '../../../src/phases/phase.js';
import { stepsText } from '../../../src/report/markdown.js';
import { widestLine } from '../../../src/text/text-table.js';
import type { RunRecord } from '../../../src/report/run-record.js';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { createCrmServices } from '../../../src/crm/client-factory.js';
import { HttpsTransport, staticAuth } from '../../../src/crm/https-transport.js';
import type { EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { TestHost } from '../../support/test-host.js';
import { phaseContext, startSandbox, testCertificate, daysFromNow } from './sandbox.js';
import { configFor, contextFor } from '../d365/support.js';

const next = testCertificate('nc-next', { notBefore: daysFromNow(-1), notAfter: daysFromNow(199) });

/** Runs preflight with these checks as a pipeline would, and reads back what a person and an auditor get. */
async function preflight(checks: Parameters<typeof createPreflightPhase>[0], ctx: PhaseContext, host: TestHost) {
  const dir = mkdtempSync(join(tmpdir(), 'd365-exo-sync-nc-'));
  try {
    const { record, recordFile } = await runPhase(createPreflightPhase(checks), ctx, {
      mode: 'apply',
      configHash: 'sha256:test',
      recordDir: dir,
    });
    const saved = JSON.parse(readFileSync(recordFile, 'utf8')) as RunRecord;
    return { record, saved, summary: host.summary, steps: saved.steps as StepResult[] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The step is not checked with this reason everywhere: the record, the summary's table and the terminal table. */
function assertNotChecked(run: Awaited<ReturnType<typeof preflight>>, id: string, reason: RegExp) {
  const step = run.steps.find((s) => s.id === id);
  assert.ok(step, `${id} is in the record (not left out)`);
  assert.equal(step.status, 'not-checked', `${id}: ${step.status}`);
  assert.match(step.reason ?? '', reason);
  const words = `not checked (${step.reason})`;
  const summaryRow = run.summary.split('\n').find((line) => line.startsWith(`| ${step.title} |`));
  assert.ok(summaryRow?.includes(words), `summary row of ${id}: ${summaryRow}`);
  const wide = stepsText(run.steps, Infinity);
  const row = wide.split('\n').find((line) => line.startsWith(step.title));
  assert.ok(row?.includes(words), `table row of ${id}: ${row}`);
  for (const width of [80, 100]) {
    const fitted = stepsText(run.steps, width);
    assert.ok(widestLine(fitted) <= width, `fits ${width}`);
    assert.match(fitted, /not checked/);
  }
}

describe('preflight: checks that could not run are "not checked (why)"', () => {
  let emulator: EntraEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it('Entra sign-in fails: the Graph checks and the days left are not checked, the sign-in error is printed once', async () => {
    emulator = await startSandbox();
    const host = new TestHost();
    const ctx = phaseContext(emulator, host, {
      env: { CRM_SYNC_CLIENT_SECRET: 'wrong-secret-value' },
      certificate: next.input,
    });
    const run = await preflight([entraCheck], ctx, host);
    assert.equal(run.steps.find((s) => s.id === 'entra.sign-in')!.status, 'failed');
    for (const id of ['entra.permissions', 'entra.tenant', 'entra.service-principal', 'entra.key-expiry'])
      assertNotChecked(run, id, /sign-in to Entra ID failed/);
    assert.equal(run.saved.status, 'failed');
    const text = stepsText(run.steps, 100);
    assert.equal(text.split('AADSTS7000215').length - 1, 1, 'the sign-in error once, below the table');
  });

  it('the service principal cannot be read: its check failed, the days left are not checked', async () => {
    emulator = await startSandbox();
    emulator.faults.add({ endpoint: 'sp-list', kind: 'status', status: 403, times: 10 });
    const host = new TestHost();
    const run = await preflight([entraCheck], phaseContext(emulator, host, { certificate: next.input }), host);
    assert.equal(run.steps.find((s) => s.id === 'entra.service-principal')!.status, 'failed');
    assertNotChecked(run, 'entra.key-expiry', /keys of the Dynamics CRM service principal could not be read/);
    // What could be checked still is: the new certificate's days left.
    const expiry = run.steps.find((s) => s.id === 'entra.key-expiry')!;
    assert.ok((expiry.after as { newCertificate?: unknown }).newCertificate);
  });

  it('D365 WhoAmI fails: the role, privilege and organization checks are not checked, not missing', async (t) => {
    const d365 = await startD365Emulator({ mailboxes: 1 });
    t.after(() => d365.close());
    const config = configFor(d365);
    const host = new TestHost();
    const transport = new HttpsTransport({
      auth: staticAuth('windows-stand-in', 'Negotiate d3Jvbmc='),
      timeoutMs: 5000,
      ca: d365.caPem,
    });
    const ctx = contextFor(config, host, createCrmServices(config, host, {}, { transport }));
    const run = await preflight([d365PreflightCheck], ctx, host);
    assert.equal(run.steps[0]!.status, 'failed');
    for (const id of ['d365.system-administrator', 'd365.email-privileges', 'd365.organization-id'])
      assertNotChecked(run, id, /WhoAmI failed/);
  });
});
