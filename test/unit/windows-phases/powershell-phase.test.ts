// The skeleton of the PowerShell-backed phases without PowerShell: a stand-in for the Windows service returns the
// module's state objects, and the tests check what plan renders, what apply records, and the failure paths.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { PhaseContext, Step } from '../../../src/phases/phase.js';
import { PowerShellPhaseError, type PhaseScriptResult, type PhaseScriptStep } from '../../../src/powershell/types.js';
import { powerShellPhase, type PowerShellPhaseDefinition } from '../../../src/phases/windows/powershell-phase.js';
import type { WindowsRunRequest, WindowsServices } from '../../../src/phases/windows/powershell-service.js';
import { moduleSteps } from '../../../src/phases/windows/step-catalogue.js';

const SPEC = moduleSteps('configure-crm', { 's2s-certificate': () => 'create' });

function step(id: string, status: PhaseScriptStep['status'], extra: Partial<PhaseScriptStep> = {}): PhaseScriptStep {
  return {
    id,
    title: id,
    status,
    changed: status === 'changed',
    before: null,
    after: null,
    evidence: null,
    message: null,
    ...extra,
  };
}

function result(mode: 'plan' | 'apply', steps: PhaseScriptStep[]): PhaseScriptResult {
  return {
    phase: 'configure-crm',
    mode,
    server: 'CRMAPP01',
    ok: true,
    changed: false,
    steps,
    evidence: {},
    warnings: [],
  };
}

interface Prepared {
  windows: WindowsServices;
}

function harness(
  answer: (request: WindowsRunRequest) => PhaseScriptResult,
  overrides: Partial<PowerShellPhaseDefinition<Prepared>> = {},
) {
  const requests: WindowsRunRequest[] = [];
  const windows: WindowsServices = {
    computerName: 'CRMAPP01',
    timeoutMs: 1000,
    run: async (request) => {
      requests.push(request);
      return answer(request);
    },
  };
  const phase = powerShellPhase<Prepared>({
    spec: SPEC,
    prepare: () => ({ windows }),
    target: () => 'CRMAPP01',
    call: (_ctx, _p, mode) => ({ parameters: { organization: 'contoso', mode } }),
    details: () => ({ server: 'CRMAPP01', skipNotes: { 'restart-services': 'disabled (test)' }, warnings: [] }),
    ...overrides,
  });
  return { phase, requests };
}

const ctx = {} as PhaseContext;

describe('powerShellPhase (the skeleton of the PowerShell-backed phases)', () => {
  it('plan runs the module once with -WhatIf and renders its steps with the catalogue titles and actions', async () => {
    const { phase, requests } = harness((r) =>
      result(r.mode, [
        step('snap-in', 'unchanged'),
        step('s2s-certificate', 'would-change', { before: { thumbprints: [] }, after: { thumbprints: ['AA'] } }),
        step('server-settings', 'would-change'),
        step('restart-services', 'skipped'),
      ]),
    );
    const steps = await phase.plan(ctx);
    assert.deepEqual(
      requests.map((r) => [r.phase, r.mode, r.parameters.mode]),
      [['configure-crm', 'plan', 'plan']],
    );
    assert.deepEqual(
      steps.map((s) => [s.id, s.action]),
      [
        ['crm.snap-in', 'check'],
        ['crm.s2s-certificate', 'create'],
        ['crm.server-settings', 'update'],
        ['crm.restart-services', 'none'],
      ],
    );
    assert.equal(steps[1]!.title, SPEC.steps.find((s) => s.id === 's2s-certificate')!.title);
    assert.equal(steps[3]!.note, 'disabled (test)');
  });

  it('apply records the module steps and hands the result to the phase for its outputs', async () => {
    const { phase, requests } = harness(
      (r) => result(r.mode, [step('snap-in', 'unchanged'), step('oauth-claims', 'changed')]),
      {
        applied: (_ctx, _p, res, results) => ({ results, outputs: { server: res.server } }),
      },
    );
    const outcome = await phase.apply(ctx);
    assert.equal(requests[0]!.mode, 'apply');
    assert.deepEqual(
      outcome.results.map((r) => [r.id, r.status]),
      [
        ['crm.snap-in', 'unchanged'],
        ['crm.oauth-claims', 'changed'],
      ],
    );
    assert.deepEqual(outcome.outputs, { server: 'CRMAPP01' });
  });

  it('a failed apply keeps what the module did, marks the failed step with its message and lists the steps not reached', async () => {
    const partial = result('apply', [step('snap-in', 'unchanged'), step('deployment-administrator', 'failed')]);
    const error = new PowerShellPhaseError(
      'failed',
      {
        phase: 'configure-crm',
        step: 'deployment-administrator',
        server: 'CRMAPP01',
        message: 'not a Deployment Administrator',
      },
      partial,
    );
    const { phase } = harness(() => {
      throw error;
    });
    const outcome = await phase.apply(ctx);
    const byId = new Map(outcome.results.map((r) => [r.id, r]));
    assert.equal(byId.get('crm.deployment-administrator')?.status, 'failed');
    assert.equal(
      (byId.get('crm.deployment-administrator') as { error?: string }).error,
      'not a Deployment Administrator',
    );
    assert.equal(byId.get('crm.read-back')?.status, 'skipped');
    assert.equal(outcome.results.length, SPEC.steps.length);
    assert.deepEqual(outcome.outputs, {});
  });

  it('a failed plan is one error naming the step title and the module message', async () => {
    const { phase } = harness(() => {
      throw new PowerShellPhaseError('failed', {
        phase: 'configure-crm',
        step: 'snap-in',
        server: 'CRMAPP01',
        message: 'not registered',
      });
    });
    await assert.rejects(
      phase.plan(ctx),
      /configure-crm plan for CRMAPP01 stopped at "Load the Microsoft.Crm.PowerShell snap-in": not registered/,
    );
  });

  it('a phase may plan without the module (planWithout), and bad input stops apply before any process starts', async () => {
    const offline: Step[] = [
      { id: 'crm.offline', title: 'offline', target: 'x', action: 'check', before: null, after: null },
    ];
    const { phase, requests } = harness(() => result('plan', []), {
      prepare: () => {
        throw new Error('bad input');
      },
      planWithout: (_ctx, error, started) =>
        started ? undefined : offline.map((s) => ({ ...s, note: String(error) })),
    });
    assert.deepEqual(
      (await phase.plan(ctx)).map((s) => s.note),
      ['Error: bad input'],
    );
    await assert.rejects(phase.apply(ctx), /bad input/);
    assert.equal(requests.length, 0);
  });
});
