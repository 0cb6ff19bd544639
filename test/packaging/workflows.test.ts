// The ready-to-copy workflows: GitHub's with GitHub's own parser, Azure DevOps' structurally; in both,
// every step that uses one of our actions or tasks is checked against the step's own inputs (required
// ones given, no unknown ones), the major version, the renewal order of DESIGN.md and the gates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { ROOT, packageVersion } from '../../scripts/packages.js';
import { PHASE_IDS, type PhaseId } from '../../src/phases/phase.js';
import { PHASES } from '../../src/phases/registry.js';
import { azureName, COMMON_INPUTS, stepInputs, type PipelineInput } from '../../src/pipeline/inputs.js';
import { actionRef, PUBLISHED, taskName } from '../../src/pipeline/manifests.js';

type Yaml = Record<string, unknown>;
const MAJOR = packageVersion().major;
const GATED: PhaseId[] = ['register-entra', 'configure-crm', 'retire-previous'];

function workflowFiles(host: 'github' | 'azure'): string[] {
  const dir = join(ROOT, 'workflows', host);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(dir, f));
}

function load(file: string): Yaml {
  return parse(readFileSync(file, 'utf8'), { uniqueKeys: true }) as Yaml;
}

/** Secrets only from secrets: the value must be an expression or a macro, never text in the file. */
function checkSecrets(
  where: string,
  inputs: readonly PipelineInput[],
  given: Record<string, unknown>,
  name: (input: string) => string,
): void {
  for (const input of inputs.filter((i) => i.secret)) {
    const value = given[name(input.name)];
    if (value !== undefined)
      assert.match(
        String(value),
        /^(\$\{\{.*\}\}|\$\([A-Za-z0-9_.]+\))$/,
        `${where}: ${name(input.name)} must come from a secret`,
      );
  }
}

/** Checks one use of a phase's step against its inputs; returns a note when the phase has not landed yet. */
function checkInputs(
  where: string,
  phaseId: string,
  given: Record<string, unknown>,
  name: (input: string) => string,
): string | undefined {
  assert.ok(
    (PHASE_IDS as readonly string[]).includes(phaseId),
    `${where}: "${phaseId}" is not a phase (${PHASE_IDS.join(', ')})`,
  );
  const phase = PHASES.find((p) => p.id === phaseId);
  if (!phase) {
    checkSecrets(where, COMMON_INPUTS, given, name);
    // Not in the registry yet: only the common inputs are known.
    const common = new Set(COMMON_INPUTS.map((i) => name(i.name)));
    for (const input of COMMON_INPUTS.filter((i) => i.required))
      assert.ok(name(input.name) in given, `${where}: required input ${name(input.name)} missing`);
    const own = Object.keys(given).filter((k) => !common.has(k));
    return `${where}: ${phaseId} has not landed; inputs ${own.join(', ') || '(none)'} beyond the common ones are unchecked`;
  }
  const inputs = stepInputs(phase);
  const known = new Set(inputs.map((i) => name(i.name)));
  for (const key of Object.keys(given))
    assert.ok(known.has(key), `${where}: ${phaseId} has no input "${key}" (it has ${[...known].join(', ')})`);
  for (const input of inputs.filter((i) => i.required && i.default === undefined)) {
    assert.ok(name(input.name) in given, `${where}: required input ${name(input.name)} of ${phaseId} is missing`);
  }
  checkSecrets(where, inputs, given, name);
  return undefined;
}

/** needs/dependsOn, transitively: does `job` (eventually) wait for `before`? */
function waitsFor(graph: Map<string, string[]>, job: string, before: string, seen = new Set<string>()): boolean {
  for (const need of graph.get(job) ?? []) {
    if (need === before) return true;
    if (!seen.has(need)) {
      seen.add(need);
      if (waitsFor(graph, need, before, seen)) return true;
    }
  }
  return false;
}

function assertRenewalOrder(graph: Map<string, string[]>, id: (phase: PhaseId) => string): void {
  for (const phase of PHASE_IDS) assert.ok(graph.has(id(phase)), `no job/stage for ${phase}`);
  PHASE_IDS.forEach((later, j) => {
    for (const earlier of PHASE_IDS.slice(0, j)) {
      assert.ok(
        waitsFor(graph, id(later), id(earlier)),
        `${id(later)} must run after ${id(earlier)} (zero-downtime order of DESIGN.md)`,
      );
    }
  });
}

const asList = (value: unknown): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];

describe('GitHub workflows', () => {
  const files = workflowFiles('github');

  it('there is a renewal and a watch workflow', () => {
    assert.deepEqual(files.map((f) => f.split(/[\\/]/).pop()).sort(), ['renewal.yml', 'watch.yml']);
  });

  for (const file of files) {
    const name = `workflows/github/${file.split(/[\\/]/).pop()}`;
    it(`${name} passes GitHub's workflow parser (schema, expressions, job graph)`, async () => {
      const result = parseWorkflow({ name, content: readFileSync(file, 'utf8') }, new NoOperationTraceWriter());
      assert.ok(result.value, 'no workflow parsed');
      await convertWorkflowTemplate(result.context, result.value);
      assert.deepEqual(
        result.context.errors.getErrors().map((e) => e.message),
        [],
      );
    });

    it(`${name}: every use of our actions names a phase, the v${MAJOR} tag and only that step's inputs`, (t) => {
      const workflow = load(file) as { jobs: Record<string, { steps?: { uses?: string; with?: Yaml }[] }> };
      for (const [jobId, job] of Object.entries(workflow.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.includes('/actions/') || step.uses.startsWith('actions/')) continue;
          const match = /^(.+)\/actions\/([a-z-]+)@(.+)$/.exec(step.uses);
          assert.ok(match, `${jobId}: cannot read ${step.uses}`);
          assert.equal(
            match[1],
            PUBLISHED.githubRepository,
            `${jobId}: ${step.uses} must use ${PUBLISHED.githubRepository}`,
          );
          assert.equal(
            match[3],
            actionRef(packageVersion()),
            `${jobId}: ${step.uses} must use the tag ${actionRef(packageVersion())}`,
          );
          const note = checkInputs(`${name} job ${jobId}`, match[2]!, step.with ?? {}, (n) => n);
          if (note) t.diagnostic(note);
        }
      }
    });
  }

  it('renewal.yml: triggers, concurrency, the zero-downtime order, gates, chained outputs, records uploaded always', () => {
    const workflow = load(join(ROOT, 'workflows/github/renewal.yml')) as {
      on: {
        workflow_dispatch: { inputs: Yaml };
        repository_dispatch: { types: string[] };
        workflow_call: { outputs: Yaml };
      };
      concurrency: { group: string; 'cancel-in-progress': boolean };
      jobs: Record<
        string,
        {
          needs?: string | string[];
          environment?: string;
          strategy?: { matrix?: Yaml };
          outputs?: Yaml;
          'runs-on': unknown;
          steps: { uses?: string; if?: string; with?: Yaml }[];
        }
      >;
    };
    assert.ok(workflow.on.workflow_dispatch.inputs.phases);
    assert.deepEqual(workflow.on.repository_dispatch.types, ['certificate-renewed']);
    assert.deepEqual(Object.keys(workflow.on.workflow_call.outputs).sort(), [
      'organization-id',
      'tenant-id',
      'thumbprint',
    ]);
    assert.ok(workflow.concurrency.group);
    assert.equal(workflow.concurrency['cancel-in-progress'], false);
    const graph = new Map(Object.entries(workflow.jobs).map(([id, job]) => [id, asList(job.needs)]));
    assertRenewalOrder(graph, (p) => p);
    const environments = GATED.map((p) => workflow.jobs[p]!.environment);
    assert.ok(
      environments.every(Boolean) && new Set(environments).size === GATED.length,
      `gates: ${environments.join(', ')}`,
    );
    for (const phase of PHASE_IDS.filter((p) => !GATED.includes(p)))
      assert.equal(workflow.jobs[phase]!.environment, undefined, phase);
    assert.ok(
      workflow.jobs['install-certificate']!.strategy?.matrix?.server,
      'install-certificate: one matrix leg per server',
    );
    assert.match(JSON.stringify(workflow.jobs['install-certificate']!['runs-on']), /matrix\.server/);
    assert.match(
      JSON.stringify(workflow.jobs['configure-crm']!.steps),
      /needs\.(register-entra|preflight)\.outputs\.tenant-id/,
    );
    for (const phase of PHASE_IDS) {
      const upload = workflow.jobs[phase]!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
      assert.equal(upload?.if, '${{ always() }}', `${phase}: records uploaded if: always()`);
      assert.match(String(upload?.with?.name), /^d365-exo-sync-records-/);
      const run = workflow.jobs[phase]!.steps.find((s) => s.uses?.includes(`/actions/${phase}@`));
      assert.equal(
        run?.with?.['record-dir'],
        upload?.with?.path,
        `${phase}: the uploaded folder is where the step writes its record`,
      );
    }
    assert.match(JSON.stringify(workflow.jobs.report), new RegExp(`d365-exo-sync@${MAJOR} report --dir`));
  });

  it('watch.yml: scheduled, runs watch --json and opens an issue or fails under the threshold', () => {
    const workflow = load(join(ROOT, 'workflows/github/watch.yml')) as {
      on: { schedule: { cron: string }[] };
      permissions: Yaml;
    };
    assert.ok(workflow.on.schedule[0]?.cron);
    assert.equal(workflow.permissions.issues, 'write');
    const text = readFileSync(join(ROOT, 'workflows/github/watch.yml'), 'utf8');
    assert.match(text, new RegExp(`npx --yes d365-exo-sync@${MAJOR} watch .*--json`));
    assert.match(text, /gh issue create/);
  });
});

interface AdoStep {
  task?: string;
  inputs?: Yaml;
  publish?: string;
  condition?: string;
}
interface AdoJob {
  job?: string;
  deployment?: string;
  environment?: string | { name: string; resourceType?: string; tags?: string };
  steps?: AdoStep[];
  strategy?: Record<string, Record<string, unknown>>;
}
interface AdoStage {
  stage: string;
  dependsOn?: string | string[];
  condition?: string;
  jobs: AdoJob[];
}

/** Every step of a job, including those of a deployment strategy's lifecycle hooks. */
function jobSteps(job: AdoJob): AdoStep[] {
  const steps = [...(job.steps ?? [])];
  for (const strategy of Object.values(job.strategy ?? {})) {
    for (const hook of Object.values(strategy)) {
      if (hook && typeof hook === 'object' && 'steps' in hook)
        steps.push(...((hook as { steps: AdoStep[] }).steps ?? []));
    }
  }
  return steps;
}

describe('Azure DevOps pipelines', () => {
  const files = workflowFiles('azure');
  const stageId = (phase: string) => phase.replace(/-/g, '_');

  it('there is a renewal and a watch pipeline', () => {
    assert.deepEqual(files.map((f) => f.split(/[\\/]/).pop()).sort(), ['renewal.yml', 'watch.yml']);
  });

  for (const file of files) {
    const name = `workflows/azure/${file.split(/[\\/]/).pop()}`;
    it(`${name}: valid YAML with the pipeline keys Azure Pipelines knows, no manual trigger on push`, () => {
      const pipeline = load(file);
      const allowed = [
        'trigger',
        'pr',
        'schedules',
        'parameters',
        'variables',
        'stages',
        'jobs',
        'steps',
        'lockBehavior',
        'pool',
        'resources',
        'name',
      ];
      for (const key of Object.keys(pipeline))
        assert.ok(allowed.includes(key), `${name}: unknown top-level key ${key}`);
      assert.equal(pipeline.trigger, 'none');
    });

    it(`${name}: every D365ExoSync task names a phase, major ${MAJOR} and only that task's inputs`, (t) => {
      const pipeline = load(file) as { stages?: AdoStage[]; jobs?: AdoJob[] };
      const jobs = [...(pipeline.jobs ?? []), ...(pipeline.stages ?? []).flatMap((s) => s.jobs)];
      for (const job of jobs) {
        for (const step of jobSteps(job)) {
          if (!step.task?.startsWith('D365ExoSync')) continue;
          const [task, major] = step.task.split('@');
          assert.equal(Number(major), MAJOR, `${step.task}: use major ${MAJOR}`);
          const phase = PHASE_IDS.find((p) => taskName(p) === task);
          assert.ok(phase, `${step.task} is not one of our tasks`);
          const note = checkInputs(`${name} job ${job.job ?? job.deployment}`, phase, step.inputs ?? {}, azureName);
          if (note) t.diagnostic(note);
        }
      }
    });
  }

  it('renewal.yml: stages in the zero-downtime order, gates on environments, VM resources by tag, records published always', () => {
    const pipeline = load(join(ROOT, 'workflows/azure/renewal.yml')) as { lockBehavior: string; stages: AdoStage[] };
    assert.equal(pipeline.lockBehavior, 'sequential');
    const graph = new Map(pipeline.stages.map((s) => [s.stage, asList(s.dependsOn)]));
    assertRenewalOrder(graph, stageId);
    const stage = (phase: PhaseId) => pipeline.stages.find((s) => s.stage === stageId(phase))!;
    const gates = GATED.map((phase) =>
      stage(phase)
        .jobs.map((j) => j.environment)
        .find((e) => typeof e === 'string'),
    );
    assert.ok(
      gates.every(Boolean) && new Set(gates).size === GATED.length,
      `approval environments: ${gates.join(', ')}`,
    );
    for (const phase of ['install-certificate', 'configure-crm', 'configure-adfs'] as PhaseId[]) {
      const vm = stage(phase)
        .jobs.map((j) => j.environment)
        .find((e) => typeof e === 'object');
      assert.equal(typeof vm === 'object' && vm.resourceType, 'VirtualMachine', `${phase} runs on the VM resources`);
      assert.ok(typeof vm === 'object' && vm.tags, `${phase} selects its servers by tag`);
    }
    for (const phase of PHASE_IDS) {
      const steps = stage(phase).jobs.flatMap(jobSteps);
      const publish = steps.find((s) => s.publish);
      assert.equal(publish?.condition, 'always()', `${phase}: records published always`);
      const run = steps.find((s) => s.task === `${taskName(phase)}@${MAJOR}`);
      assert.equal(
        run?.inputs?.recordDir,
        publish?.publish,
        `${phase}: the published folder is where the task writes its record`,
      );
    }
  });

  it('watch.yml: scheduled, runs watch --json and fails under the threshold', () => {
    const pipeline = load(join(ROOT, 'workflows/azure/watch.yml')) as { schedules: { cron: string }[] };
    assert.ok(pipeline.schedules[0]?.cron);
    assert.match(
      readFileSync(join(ROOT, 'workflows/azure/watch.yml'), 'utf8'),
      new RegExp(`npx --yes d365-exo-sync@${MAJOR} watch .*--json`),
    );
  });
});
