// The committed pipeline packages are what the generator and the bundler write now, and they are
// well-formed: action.yml (checked with GitHub's own parser), task.json, the extension manifest, the .vsix.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { NoOperationTraceWriter } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { leftoverFiles } from '../../scripts/generate.js';
import { MAX_BUNDLE_BYTES, packageVersion, ROOT } from '../../scripts/packages.js';
import { azureName } from '../../src/pipeline/inputs.js';
import { packagedSteps } from '../../src/pipeline/steps.js';
import {
  ACTION_MAIN,
  MIN_AGENT_VERSION,
  PUBLISHED,
  TASK_TARGET,
  taskId,
  taskName,
  uuidV5,
} from '../../src/pipeline/manifests.js';
import { builtPackages, type BuiltPackages } from './support/packages.js';
import { readZip } from './support/zip.js';

/**
 * The staleness check runs once in CI (`npm run check:generated`, from .ci/run): the committed bundles
 * are rebuilt and committed once per release, so in a developer's `npm test` they are stale after any
 * change of src/ and the check would only say so.
 */
const STALENESS_SKIP = process.env.D365_EXO_SYNC_CHECK_GENERATED
  ? false
  : 'the committed bundles and manifests are compared once in CI: npm run check:generated (.ci/run runs it)';

/** Every packaged step: the phases and the tools (watch, report). */
const PHASES = packagedSteps();

interface TaskJson {
  id: string;
  name: string;
  friendlyName: string;
  version: { Major: number; Minor: number; Patch: number };
  minimumAgentVersion: string;
  inputs: {
    name: string;
    type: string;
    label: string;
    required: boolean;
    defaultValue?: string;
    options?: Record<string, string>;
  }[];
  outputVariables: { name: string }[];
  restrictions: { settableVariables: { allowed: string[] } };
  execution: Record<string, { target: string }>;
}

describe('generated pipeline packages', () => {
  let built: BuiltPackages;
  before(async () => {
    built = await builtPackages();
  });

  it('every committed generated file is what npm run generate writes now', { skip: STALENESS_SKIP }, (t) => {
    t.diagnostic(built.buildMs ? `packages built in ${built.buildMs} ms` : 'packages reused from this run');
    const stale: string[] = [];
    for (const [path, text] of built.files) {
      const committed = join(ROOT, path);
      if (!existsSync(committed) || readFileSync(committed, 'utf8') !== text) stale.push(path);
    }
    assert.deepEqual(stale, [], `stale or missing generated files: run npm run generate and commit the result`);
  });

  it('actions/ and tasks/ hold nothing the generator does not write', { skip: STALENESS_SKIP }, () => {
    assert.deepEqual(leftoverFiles(built.files), [], 'left over from a removed or renamed phase: run npm run generate');
  });

  it(`every bundle is at most ${MAX_BUNDLE_BYTES / 1024 / 1024} MB`, (t) => {
    const bundles = [...built.files.keys()].filter((p) => p.endsWith(ACTION_MAIN) || p.endsWith(TASK_TARGET));
    assert.equal(bundles.length, PHASES.length * 2);
    for (const path of bundles) {
      const size = Buffer.byteLength(built.files.get(path)!);
      t.diagnostic(`${path}: ${(size / 1024).toFixed(0)} KB`);
      assert.ok(size <= MAX_BUNDLE_BYTES, `${path} is ${size} bytes`);
    }
  });

  it('the Azure DevOps bundles carry one copy of the task lib and no @actions code; the actions no task lib', () => {
    for (const phase of PHASES) {
      const task = built.files.get(`tasks/${phase.id}/dist/licenses.txt`)!;
      assert.equal(task.match(/^azure-pipelines-task-lib@/gm)?.length, 1, phase.id);
      assert.doesNotMatch(task, /^@actions\//m);
      const action = built.files.get(`actions/${phase.id}/dist/licenses.txt`)!;
      assert.match(action, /^@actions\/core@/m);
      assert.doesNotMatch(action, /azure-pipelines-task-lib/);
    }
  });

  for (const phase of PHASES) {
    it(`actions/${phase.id}/action.yml passes GitHub's action parser and declares the step's inputs and outputs`, () => {
      const content = built.files.get(`actions/${phase.id}/action.yml`)!;
      const trace = new NoOperationTraceWriter();
      const result = parseAction({ name: `actions/${phase.id}/action.yml`, content }, trace);
      assert.deepEqual(
        result.context.errors.getErrors().map((e) => e.message),
        [],
      );
      const action = convertActionTemplate(result.context, result.value!);
      assert.equal(action.runs.using, 'node24');
      assert.ok('main' in action.runs && action.runs.main === ACTION_MAIN);
      assert.ok(built.files.has(`actions/${phase.id}/${ACTION_MAIN}`));
      const inputs = phase.inputs;
      assert.deepEqual(
        action.inputs?.map((i) => [i.id, i.required === true, i.default?.toString()]),
        inputs.map((i) => [i.name, i.required === true, i.default]),
      );
      assert.deepEqual(
        action.outputs?.map((o) => o.id),
        phase.outputs.map((o) => o.name),
      );
    });

    it(`tasks/${phase.id}/task.json: stable id, stamped version, Node24 + Node20_1, inputs from the same definitions`, () => {
      const task = JSON.parse(built.files.get(`tasks/${phase.id}/task.json`)!) as TaskJson;
      const version = packageVersion();
      assert.equal(task.id, taskId(phase.id));
      assert.equal(task.name, taskName(phase.id));
      assert.ok(task.friendlyName.length <= 40, `friendlyName "${task.friendlyName}" is over 40 characters`);
      assert.deepEqual(task.version, { Major: version.major, Minor: version.minor, Patch: version.patch });
      assert.equal(task.minimumAgentVersion, MIN_AGENT_VERSION);
      assert.deepEqual(Object.keys(task.execution).sort(), ['Node20_1', 'Node24']);
      for (const handler of Object.values(task.execution)) {
        assert.equal(handler.target, TASK_TARGET);
        assert.ok(built.files.has(`tasks/${phase.id}/${handler.target}`));
      }
      const inputs = phase.inputs;
      // The tasks that sign in to Entra ID first take the service connection, as Microsoft's Azure tasks do.
      const connection = phase.signsInToEntra
        ? [['azureSubscription', 'Azure Resource Manager service connection', false, undefined]]
        : [];
      assert.deepEqual(
        task.inputs.map((i) => [i.name, i.label, i.required, i.defaultValue]),
        [...connection, ...inputs.map((i) => [azureName(i.name), i.name, i.required === true, i.default])],
      );
      if (phase.signsInToEntra) assert.equal(task.inputs[0]!.type, 'connectedService:AzureRM');
      for (const input of task.inputs) assert.match(input.name, /^[A-Za-z][A-Za-z0-9]*$/);
      const mode = task.inputs.find((i) => i.name === 'mode');
      if (phase.kind === 'phase')
        assert.deepEqual([mode?.type, Object.keys(mode?.options ?? {})], ['pickList', ['plan', 'apply']]);
      // An empty filePath input arrives as the repository root: only a required input may be one.
      for (const input of task.inputs.filter((i) => i.type === 'filePath')) assert.ok(input.required, input.name);
      const outputs = phase.outputs.map((o) => azureName(o.name));
      assert.deepEqual(
        task.outputVariables.map((o) => o.name),
        outputs,
      );
      assert.deepEqual(task.restrictions.settableVariables.allowed, outputs);
    });
  }

  it('every task that signs in to Entra ID (for Graph, or for an Exchange Online token) takes the azureSubscription service connection, and only those', () => {
    const withConnection = PHASES.filter((step) => {
      const task = JSON.parse(built.files.get(`tasks/${step.id}/task.json`)!) as TaskJson;
      return task.inputs.some((i) => i.name === 'azureSubscription');
    }).map((step) => step.id);
    assert.deepEqual(withConnection, [
      'preflight',
      'register-entra',
      'configure-exchange',
      'verify',
      'retire-previous',
      'watch',
    ]);
  });

  it('task GUIDs are v5 UUIDs of the phase id, and never change', () => {
    // RFC 4122 test vector: the DNS namespace and "www.example.com".
    assert.equal(
      uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    // Azure DevOps knows the task by this GUID: changing it breaks every pipeline that uses the task.
    assert.equal(taskId('preflight'), '44a59506-d118-59e4-bede-6dafd910893f');
    assert.equal(new Set(PHASES.map((p) => taskId(p.id))).size, PHASES.length);
  });

  it('the extension manifest contributes one task per phase, at the package version', () => {
    const manifest = JSON.parse(built.files.get('tasks/vss-extension.json')!) as {
      id: string;
      publisher: string;
      version: string;
      files: { path: string }[];
      contributions: { type: string; properties: { name: string } }[];
    };
    assert.equal(manifest.version, packageVersion().text);
    assert.equal(`${manifest.publisher}.${manifest.id}`, `${PUBLISHED.publisher}.${PUBLISHED.extensionId}`);
    assert.deepEqual(
      manifest.files.map((f) => f.path),
      PHASES.map((p) => p.id),
    );
    assert.deepEqual(
      manifest.contributions.map((c) => [c.type, c.properties.name]),
      PHASES.map((p) => ['ms.vss-distributed-task.task', p.id]),
    );
  });

  it('the .vsix holds every task folder exactly as generated, and nothing from outside tasks/', () => {
    const entries = new Map(readZip(readFileSync(built.vsix)).map((e) => [e.name, e.data.toString('utf8')]));
    for (const phase of PHASES) {
      for (const file of ['task.json', TASK_TARGET, 'dist/package.json', 'dist/licenses.txt']) {
        assert.equal(
          entries.get(`${phase.id}/${file}`),
          built.files.get(`tasks/${phase.id}/${file}`),
          `${phase.id}/${file}`,
        );
      }
    }
    const vsixManifest = entries.get('extension.vsixmanifest')!;
    assert.match(
      vsixManifest,
      new RegExp(`Id="${PUBLISHED.extensionId}" Publisher="${PUBLISHED.publisher}" Version="${packageVersion().text}"`),
    );
    const allowed = new Set(['[Content_Types].xml', 'extension.vsixmanifest', 'extension.vsomanifest', 'overview.md']);
    for (const name of entries.keys()) {
      assert.ok(
        allowed.has(name) || PHASES.some((p) => name.startsWith(`${p.id}/`)),
        `unexpected ${name} in the .vsix`,
      );
    }
  });

  it('the generated YAML and JSON parse back to the manifests (no formatting surprise)', () => {
    for (const phase of PHASES) {
      assert.equal(
        (parse(built.files.get(`actions/${phase.id}/action.yml`)!) as { name: string }).name,
        `d365-exo-sync ${phase.id}`,
      );
    }
  });
});
