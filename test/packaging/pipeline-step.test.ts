// The host-neutral pipeline step, in process on the TestHost: inputs, certificate, config, failures.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipelineStep } from '../../src/pipeline/step.js';
import { azureName, COMMON_INPUTS, stepInputs, stepOutputs } from '../../src/pipeline/inputs.js';
import { PHASES } from '../../src/phases/registry.js';
import type { Phase } from '../../src/phases/phase.js';
import { TestHost } from '../support/test-host.js';
import { startEntraSandbox, type EntraSandbox } from './support/entra-sandbox.js';
import { assertNoSecret, makeWorkspace, PFX_PASSWORD, type Workspace } from './support/runners.js';

describe('pipeline step (host-neutral)', () => {
  let ws: Workspace;
  let wrongHost: Workspace;
  let sandbox: EntraSandbox;
  before(async () => {
    sandbox = await startEntraSandbox();
    ws = makeWorkspace({ sandbox });
    wrongHost = makeWorkspace({ dnsNames: ['intranet.fabrikam.example'], sandbox });
  });
  after(async () => {
    ws.remove();
    wrongHost.remove();
    await sandbox.stop();
  });

  const env = (dir: string) => ({ env: ws.env, cwd: dir });

  it('runs preflight with the certificate from pfx-base64 and sets the thumbprint and record-file outputs', async () => {
    const host = new TestHost({
      config: ws.config,
      'pfx-base64': ws.pfxBase64,
      'pfx-password': PFX_PASSWORD,
      mode: 'apply',
    });
    const run = await runPipelineStep('preflight', host, env(ws.dir));
    assert.equal(host.result?.result, 'succeeded', host.result?.message);
    assert.equal(host.outputs.thumbprint, ws.thumbprint);
    assert.equal(host.outputs['record-file'], run?.recordFile);
    const record = JSON.parse(readFileSync(run!.recordFile, 'utf8')) as {
      phase: string;
      mode: string;
      status: string;
      host: string;
    };
    assert.deepEqual(
      [record.phase, record.mode, record.status, record.host],
      ['preflight', 'apply', 'succeeded', 'test'],
    );
    assert.match(host.summary, /preflight \(apply\) · succeeded/);
    assertNoSecret('test host output', host.allText() + readFileSync(run!.recordFile, 'utf8'), ws);
  });

  it('reads the certificate from pfx-file, relative to the working directory', async () => {
    writeFileSync(join(ws.dir, 'new.pfx'), ws.pfx);
    const host = new TestHost({ config: ws.config, 'pfx-file': 'new.pfx', 'pfx-password': PFX_PASSWORD });
    await runPipelineStep('preflight', host, env(ws.dir));
    assert.equal(host.result?.result, 'succeeded', host.result?.message);
    assert.equal(host.outputs.thumbprint, ws.thumbprint);
  });

  it('plan mode records the steps and sets no phase output', async () => {
    const host = new TestHost({
      config: ws.config,
      'pfx-base64': ws.pfxBase64,
      'pfx-password': PFX_PASSWORD,
      mode: 'plan',
    });
    const run = await runPipelineStep('preflight', host, env(ws.dir));
    assert.equal(run?.record.mode, 'plan');
    assert.equal(host.outputs.thumbprint, undefined);
    assert.ok(host.outputs['record-file']);
  });

  it('a failing phase fails the step with the underlying error', async () => {
    const host = new TestHost({
      config: wrongHost.config,
      'pfx-base64': wrongHost.pfxBase64,
      'pfx-password': PFX_PASSWORD,
    });
    const run = await runPipelineStep('preflight', host, env(wrongHost.dir));
    assert.equal(host.result?.result, 'failed');
    assert.match(host.result!.message, /HOST_NOT_COVERED/);
    assert.equal(run?.record.status, 'failed');
  });

  const failures: [string, Record<string, string>, RegExp][] = [
    ['no config input', { config: '' }, /Input required and not supplied: config/],
    [
      'a config that does not exist',
      { config: 'missing.yml' },
      /missing\.yml does not exist .*checks out the repository/,
    ],
    ['an unknown mode', { mode: 'deploy' }, /mode is "deploy": use one of plan, apply/],
    ['both certificate inputs', { 'pfx-file': 'new.pfx' }, /either pfx-base64 or pfx-file, not both/],
    ['a password without a certificate', { 'pfx-base64': '' }, /pfx-password is set but there is no certificate/],
    ['base64 that is not a PFX', { 'pfx-base64': '"' + 'QUJD' + '"' }, /pfx-base64: is wrapped in quotes/],
    ['a wrong PFX password', { 'pfx-password': 'not-the-password' }, /PFX_BAD_PASSWORD/],
  ];
  for (const [what, change, message] of failures) {
    it(`fails the step on ${what}, naming the input`, async () => {
      const values: Record<string, string> = {
        config: ws.config,
        'pfx-base64': ws.pfxBase64,
        'pfx-password': PFX_PASSWORD,
        ...change,
      };
      for (const [k, v] of Object.entries(values)) if (v === '') delete values[k];
      const host = new TestHost(values);
      await runPipelineStep('preflight', host, env(ws.dir));
      assert.equal(host.result?.result, 'failed');
      assert.match(host.result!.message, message);
      assertNoSecret('failure message', host.allText(), ws);
    });
  }

  it('names inputs the way the host does (Azure DevOps: camelCase)', async () => {
    const host = new TestHost({ config: ws.config, 'pfx-base64': ws.pfxBase64, 'pfx-file': 'new.pfx' });
    await runPipelineStep('preflight', host, { env: ws.env, cwd: ws.dir, inputName: azureName });
    assert.match(host.result!.message, /either pfxBase64 or pfxFile/);
  });

  it('reports a config with problems in the summary and the failure, and does nothing', async () => {
    writeFileSync(join(ws.dir, 'broken.yml'), 'deployment:\n  url: http://crm.contoso.com\n');
    const host = new TestHost({ config: 'broken.yml' });
    const run = await runPipelineStep('preflight', host, env(ws.dir));
    assert.equal(run, undefined);
    assert.equal(host.result?.result, 'failed');
    assert.match(host.result!.message, /broken\.yml has \d+ problem\(s\); nothing was done\. deployment\.url/);
    assert.match(host.summary, /\| deployment\.url \|/);
  });

  it('an unknown phase fails the step', async () => {
    const host = new TestHost({ config: ws.config });
    await runPipelineStep('no-such-phase', host, env(ws.dir));
    assert.match(host.result!.message, /no phase "no-such-phase"/);
  });
});

describe('step inputs and outputs', () => {
  it('every phase has the common inputs first, then its own, and the record-file output', () => {
    for (const phase of PHASES) {
      const names = stepInputs(phase).map((i) => i.name);
      assert.deepEqual(
        names.slice(0, COMMON_INPUTS.length),
        COMMON_INPUTS.map((i) => i.name),
        phase.id,
      );
      assert.deepEqual(
        names.slice(COMMON_INPUTS.length),
        phase.inputs.map((i) => i.name),
        phase.id,
      );
      assert.ok(
        stepOutputs(phase).some((o) => o.name === 'record-file'),
        phase.id,
      );
    }
  });

  it('refuses a phase input that redeclares a common one, or is not kebab-case', () => {
    const base = PHASES[0]!;
    const clash: Phase = { ...base, inputs: [{ name: 'config', description: 'mine' }] };
    assert.throws(() => stepInputs(clash), /input "config" is declared twice/);
    const camel: Phase = { ...base, inputs: [{ name: 'tenantId', description: 'camel' }] };
    assert.throws(() => stepInputs(camel), /"tenantId" must be kebab-case/);
  });

  it('Azure DevOps names are the camelCase of the kebab-case names', () => {
    assert.equal(azureName('pfx-base64'), 'pfxBase64');
    assert.equal(azureName('tenant-id'), 'tenantId');
    assert.equal(azureName('config'), 'config');
    assert.equal(azureName('record-dir'), 'recordDir');
  });
});
