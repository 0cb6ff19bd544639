// Each built Azure DevOps task run two ways: through the task lib's MockTestRunner (nodePath set to this
// Node, so nothing is downloaded), and from the unpacked .vsix as a plain process, as the agent's Node
// handler starts it. What the agent would read is parsed from the ##vso commands on stdout.
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
  runTaskMock,
  runTaskProcess,
  type TaskRun,
  type Workspace,
} from './support/runners.js';

function assertNothingLeaked(run: TaskRun, ws: Workspace): void {
  assertNoSecret('the job log (stdout)', run.log, ws);
  assertNoSecret('stderr', run.stderr, ws);
  assertNoSecret('the uploaded summary', run.summary, ws);
  assertNoSecret('the output variables', JSON.stringify(run.outputs), ws);
  for (const [path, text] of filesUnder(run.temp)) if (!path.endsWith('scenario.json')) assertNoSecret(path, text, ws);
}

function record(run: TaskRun): {
  phase: string;
  mode: string;
  status: string;
  host: string;
  actor: string;
  machine: string;
  runId: string;
  runUrl?: string;
  error?: string;
} {
  return JSON.parse(readFileSync(run.outputs.recordFile!, 'utf8'));
}

describe('Azure DevOps: the task bundles under the task lib and from the .vsix', () => {
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
  const treeTask = (id: string) => join(built.root, 'tasks', id);
  const vsixTask = (id: string) => join(built.unpacked, id);
  const inputs = (w: Workspace, extra: Record<string, string> = {}) => ({
    config: w.config,
    pfxBase64: w.pfxBase64,
    pfxPassword: PFX_PASSWORD,
    ...extra,
  });

  it('MockTestRunner: preflight succeeds with the thumbprint and recordFile output variables and an uploaded summary', async () => {
    const run = await runTaskMock(treeTask('preflight'), ws, inputs(ws, { mode: 'apply' }));
    assert.ok(run.runner.succeeded, run.stdout);
    assert.deepEqual(run.runner.errorIssues, []);
    assert.equal(run.result?.result, 'Succeeded');
    assert.equal(run.outputs.thumbprint, ws.thumbprint);
    const setvariable = run.commands.find(
      (c) => c.command === 'task.setvariable' && c.properties.variable === 'thumbprint',
    );
    assert.deepEqual(setvariable?.properties, { variable: 'thumbprint', isOutput: 'true', issecret: 'false' });
    assert.deepEqual(
      (({ phase, mode, status, host, actor, machine, runId, runUrl }) => ({
        phase,
        mode,
        status,
        host,
        actor,
        machine,
        runId,
        runUrl,
      }))(record(run)),
      {
        phase: 'preflight',
        mode: 'apply',
        status: 'succeeded',
        host: 'azure-devops',
        actor: 'Contoso Admin',
        machine: 'CRMAPP01',
        runId: '777',
        runUrl: 'https://azdo.example/contoso/CRM%20Ops/_build/results?buildId=777',
      },
    );
    assert.match(run.summary, /### d365-exo-sync · preflight \(apply\) · succeeded/);
    assert.ok(
      run.commands.some(
        (c) => c.command === 'task.uploadsummary' && c.message.startsWith(join(run.temp, 'd365-exo-sync')),
      ),
    );
    assertNothingLeaked(run, ws);
  });

  it('MockTestRunner: registers every secret line by line with task.setsecret, and the task lib never logs a secret input', async () => {
    const run = await runTaskMock(treeTask('preflight'), ws, inputs(ws));
    for (const form of [PFX_PASSWORD, ws.pfxBase64, ...ws.pfxBase64.match(/.{1,64}/g)!])
      assert.ok(run.secrets.includes(form), form.slice(0, 8));
    assert.ok(
      run.secrets.every((s) => !/[\r\n]/.test(s)),
      'a multi-line secret would make the task lib throw',
    );
    assert.ok(!run.stdout.includes(`pfxPassword=${PFX_PASSWORD}`));
    // The task lib's own "name=value" debug line still appears for plain inputs.
    assert.match(run.stdout, /##vso\[task\.debug\]config=d365-exo-sync\.yml/);
  });

  it('MockTestRunner: a failing phase fails the task with the underlying error as an error issue', async () => {
    const run = await runTaskMock(treeTask('preflight'), wrongHost, inputs(wrongHost));
    assert.ok(run.runner.failed);
    assert.equal(run.result?.result, 'Failed');
    assert.match(run.result!.message, /^preflight failed: .*HOST_NOT_COVERED/);
    assert.ok(run.runner.createdErrorIssue(run.result!.message), run.runner.errorIssues.join('\n'));
    assert.equal(record(run).status, 'failed');
    assert.equal(run.outputs.thumbprint, undefined);
    assertNothingLeaked(run, wrongHost);
  });

  it('MockTestRunner: a missing required input fails the task, naming the task input', async () => {
    const run = await runTaskMock(treeTask('preflight'), ws, { pfxPassword: PFX_PASSWORD });
    assert.ok(run.runner.failed);
    assert.equal(run.result?.message, 'preflight: Input required: config');
    assertNothingLeaked(run, ws);
  });

  it('MockTestRunner: pfxFile and recordDir are read relative to the sources folder', async () => {
    writeFileSync(join(ws.dir, 'renewed.pfx'), ws.pfx);
    const run = await runTaskMock(treeTask('preflight'), ws, {
      config: ws.config,
      pfxFile: 'renewed.pfx',
      pfxPassword: PFX_PASSWORD,
      recordDir: 'records',
    });
    assert.ok(run.runner.succeeded, run.stdout);
    assert.ok(run.outputs.recordFile!.startsWith(join(ws.dir, 'records')));
    assert.equal(run.outputs.thumbprint, ws.thumbprint);
  });

  it('the task from the unpacked .vsix runs as a process: succeeds, sets outputs, uploads the summary, exits 0', async () => {
    const run = await runTaskProcess(vsixTask('preflight'), ws, inputs(ws));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.result?.result, 'Succeeded');
    assert.equal(run.outputs.thumbprint, ws.thumbprint);
    assert.equal(record(run).host, 'azure-devops');
    assert.match(run.summary, /preflight \(apply\) · succeeded/);
    assert.match(run.log, /^##\[group\]preflight \(apply\)$/m);
    assertNothingLeaked(run, ws);
  });

  it('the task from the unpacked .vsix: a failing phase completes the task as Failed with the underlying error', async () => {
    const run = await runTaskProcess(vsixTask('preflight'), wrongHost, inputs(wrongHost));
    assert.equal(run.code, 0, 'the task lib reports the result with task.complete, not the exit code');
    assert.equal(run.result?.result, 'Failed');
    assert.ok(
      run.errors.some((e) => /HOST_NOT_COVERED/.test(e)),
      run.errors.join('\n'),
    );
    assertNothingLeaked(run, wrongHost);
  });

  it('the task lib finds its messages in the bundle (no resource-file warnings)', async () => {
    const run = await runTaskProcess(vsixTask('preflight'), ws, { pfxPassword: PFX_PASSWORD });
    assert.equal(run.result?.message, 'preflight: Input required: config');
    const warnings = run.commands
      .filter((c) => c.command === 'task.issue' && c.properties.type === 'warning')
      .map((c) => c.message);
    assert.deepEqual(
      warnings.filter((w) => /resource file|loc string/i.test(w)),
      [],
    );
  });

  for (const phase of PHASES) {
    it(`${phase.id}: plan mode runs from the .vsix and under MockTestRunner, and the result matches the record`, async () => {
      for (const run of [
        await runTaskProcess(vsixTask(phase.id), ws, inputs(ws, { mode: 'plan' })),
        await runTaskMock(treeTask(phase.id), ws, inputs(ws, { mode: 'plan' })),
      ]) {
        const rec = record(run);
        assert.deepEqual([rec.phase, rec.mode], [phase.id, 'plan']);
        assert.equal(run.result?.result, rec.status === 'succeeded' ? 'Succeeded' : 'Failed', rec.error);
        if (rec.error) assert.ok(run.errors.some((e) => e.includes(rec.error!)));
        assertNothingLeaked(run, ws);
      }
    });
  }
});
