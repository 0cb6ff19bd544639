import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { runPhase } from '../../../src/phases/runner.js';
import type { Phase, PhaseContext } from '../../../src/phases/phase.js';
import { validateConfig } from '../../../src/config/load.js';
import { TestHost } from '../../support/test-host.js';

const config = validateConfig(parse(readFileSync('examples/contoso.yml', 'utf8'))).config!;
const SECRET = 'S3cret-Value-For-Runner';

function context(host: TestHost): PhaseContext {
  return { config, host, inputs: {}, now: new Date('2026-11-26T00:00:00Z'), services: {} };
}

function phase(apply: Phase['apply']): Phase {
  return {
    id: 'register-entra',
    title: 'test phase',
    runsOn: 'anywhere',
    changes: 'nothing',
    inputs: [],
    outputs: [],
    plan: async () => [{ id: 's', title: 'step', target: 't', action: 'update', before: 1, after: 2 }],
    apply,
  };
}

test('a failed step fails the run with the underlying error, and the record says so', async () => {
  const host = new TestHost();
  const { record, recordFile } = await runPhase(
    phase(async () => ({
      results: [
        { id: 'a', title: 'first', target: 'X', status: 'changed', before: 1, after: 2 },
        {
          id: 'b',
          title: 'second',
          target: 'Y',
          status: 'failed',
          before: 1,
          after: 1,
          error: 'Access denied (0x80070005)',
        },
      ],
      outputs: {},
    })),
    context(host),
    { mode: 'apply', configHash: 'sha256:x' },
  );
  assert.equal(record.status, 'failed');
  assert.match(record.error!, /second \(Y\): Access denied \(0x80070005\)/);
  assert.equal(host.result?.result, 'failed');
  assert.match(host.result!.message, /Access denied/);
  assert.equal(JSON.parse(readFileSync(recordFile, 'utf8')).status, 'failed');
});

test('an exception in a phase fails the run with its message', async () => {
  const host = new TestHost();
  const { record } = await runPhase(
    phase(async () => {
      throw new Error('Graph said 403 Authorization_RequestDenied');
    }),
    context(host),
    { mode: 'apply', configHash: 'sha256:x' },
  );
  assert.equal(record.status, 'failed');
  assert.equal(host.result?.result, 'failed');
  assert.match(host.result!.message, /Authorization_RequestDenied/);
});

test('secrets that a phase put into results, outputs or errors are masked in the record, summary and outputs', async () => {
  const host = new TestHost();
  host.registerSecret(SECRET);
  const { recordFile } = await runPhase(
    phase(async () => ({
      results: [{ id: 'a', title: 'step', target: 'X', status: 'changed', before: SECRET, after: { token: SECRET } }],
      outputs: { leaked: `x${SECRET}x` },
    })),
    context(host),
    { mode: 'apply', configHash: 'sha256:x' },
  );
  const file = readFileSync(recordFile, 'utf8');
  assert.ok(!file.includes(SECRET));
  assert.ok(!host.allText().includes(SECRET));
  assert.equal(host.outputs.leaked, 'x***x');
});

test('plan mode records the planned steps and succeeds', async () => {
  const host = new TestHost();
  const { record } = await runPhase(
    phase(async () => ({ results: [], outputs: {} })),
    context(host),
    {
      mode: 'plan',
      configHash: 'sha256:x',
    },
  );
  assert.equal(record.mode, 'plan');
  assert.equal(record.status, 'succeeded');
  assert.equal(record.steps.length, 1);
  assert.match(host.summary, /register-entra \(plan\)/);
});

test('the runner guards by what a phase declares it writes, not by its id', async () => {
  const afterEws = new Date('2027-04-02T00:00:00Z');
  const unusable = { pfx: Buffer.from('not a PFX'), password: '', source: 'file ./broken.pfx' };
  const cases: Array<{ writes: Phase['writes']; now?: Date; refused?: RegExp }> = [
    { writes: undefined, now: afterEws },
    { writes: { ews: true }, now: afterEws, refused: /needs EWS in Exchange Online, which Microsoft shut down/ },
    { writes: { ews: true } },
    { writes: undefined },
    {
      writes: { certificate: true },
      refused: /the certificate \(file \.\/broken\.pfx\) is not usable, so .* changed nothing/,
    },
  ];
  for (const { writes, now, refused } of cases) {
    const host = new TestHost();
    let applied = false;
    const guarded: Phase = {
      ...phase(async () => {
        applied = true;
        return { results: [], outputs: {} };
      }),
      id: 'configure-mailboxes',
      ...(writes ? { writes } : {}),
    };
    const ctx = { ...context(host), certificate: unusable, ...(now ? { now } : {}) };
    const { record } = await runPhase(guarded, ctx, { mode: 'apply', configHash: 'sha256:x' });
    const label = JSON.stringify({ writes, now });
    if (refused) {
      assert.equal(record.status, 'failed', label);
      assert.match(record.error ?? '', refused, label);
      assert.equal(applied, false, label);
    } else {
      assert.equal(record.status, 'succeeded', label);
      assert.equal(applied, true, label);
    }
  }
});
