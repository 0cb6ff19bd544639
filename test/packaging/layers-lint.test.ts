// The layer rules in eslint.config.js (no-restricted-imports per place of src/) catch an import that runs
// back up the layers, a cycle between two places, product code reaching into the sandbox package, the sandbox
// reaching into src/ past its entry, and a test importing the sandbox by path.
// Each case lints a probe file through ESLint's Node API, at a path inside src/ so the real config applies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });
// eslint.config.js is plain JavaScript; its layer table is read as data.
const configUrl = new URL('../../eslint.config.js', import.meta.url).href;
const { LAYERS } = (await import(configUrl)) as { LAYERS: { files: string[] }[] };

/** Every .ts file under dir. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The no-restricted-imports messages for a file at `path` (relative to the repository) holding `code`. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${path}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  it('pass imports that go down the layers', async () => {
    assert.deepEqual(
      await layerErrors(
        'src/phases/layer-probe.ts',
        [
          "import type { Config } from '../config/schema.js';",
          "import type { Host } from '../hosts/host.js';",
          "import { loadExtraCa } from '../http/extra-ca.js';",
          "import { STEP_STATUSES } from '../report/step-result.js';",
          "import { daysLeft } from '../days.js';",
          'export const probe = [STEP_STATUSES, loadExtraCa, daysLeft] as unknown as [Config, Host];',
        ].join('\n'),
      ),
      [],
    );
  });

  it('fail a client that imports the application (a back-up import)', async () => {
    const errors = await layerErrors(
      'src/crm/layer-probe.ts',
      "import { PHASE_IDS } from '../phases/phase.js';\nexport const probe = PHASE_IDS;\n",
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /src\/crm\/\*\* is in the clients layer/);
  });

  it('fail a domain file that imports an adapter, from a nested folder or the top of src/', async () => {
    assert.equal(
      (await layerErrors('src/cert/layer-probe.ts', "export { azureName } from '../hosts/azure-name.js';\n")).length,
      1,
    );
    assert.equal(
      (await layerErrors('src/days.ts', "import { run } from './cli/index.js';\nexport const probe = run;\n")).length,
      1,
    );
  });

  it('fail one side of every cycle: report <-> phases, graph <-> crm', async () => {
    const reportToPhases = await layerErrors(
      'src/report/layer-probe.ts',
      "import type { Phase } from '../phases/phase.js';\nexport type Probe = Phase;\n",
    );
    const phasesToReport = await layerErrors(
      'src/phases/layer-probe.ts',
      "import type { RunRecord } from '../report/run-record.js';\nexport type Probe = RunRecord;\n",
    );
    assert.equal(reportToPhases.length + phasesToReport.length, 1, 'exactly the upward half is refused');
    assert.equal(reportToPhases.length, 1);

    const crmToGraph = await layerErrors(
      'src/crm/layer-probe.ts',
      "import { tokenCache } from '../graph/token-cache.js';\nexport const probe = tokenCache;\n",
    );
    const graphToCrm = await layerErrors(
      'src/graph/layer-probe.ts',
      "import { odataString } from '../crm/odata-filter.js';\nexport const probe = odataString;\n",
    );
    assert.equal(crmToGraph.length + graphToCrm.length, 1, 'two clients in a cycle: one import is refused');
  });

  it('fail a client that imports a host adapter, but not one that logs through the Host port', async () => {
    assert.equal(
      (await layerErrors('src/graph/layer-probe.ts', "export { GitHubHost } from '../hosts/github.js';\n")).length,
      1,
    );
    assert.deepEqual(
      await layerErrors('src/graph/layer-probe.ts', "export type { Host } from '../hosts/host.js';\n"),
      [],
    );
  });

  it('fail product code that imports the sandbox package, by its name or by a path', async () => {
    const byName = await layerErrors(
      'src/cli/commands/layer-probe.ts',
      "import { runRehearsal } from '@d365-exo-sync/sandbox';\nexport const probe = runRehearsal;\n",
    );
    assert.equal(byName.length, 1);
    assert.match(byName[0]!, /must not import the sandbox package/);
    assert.equal(
      (await layerErrors('src/phases/entra/layer-probe.ts', "export * from '@d365-exo-sync/sandbox/entra';\n")).length,
      1,
    );
    assert.equal(
      (await layerErrors('src/cli/layer-probe.ts', "export { runDemo } from '../../sandbox/src/demo/index.js';\n"))
        .length,
      1,
    );
  });

  it('fail a sandbox file that reaches into src/ past its one entry, src/index.ts', async () => {
    assert.deepEqual(
      await layerErrors('sandbox/src/demo/layer-probe.ts', "export { runPhase } from '../../../src/index.js';\n"),
      [],
    );
    const errors = await layerErrors(
      'sandbox/src/demo/layer-probe.ts',
      "export { runPhase } from '../../../src/phases/runner.js';\n",
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /through src\/index\.ts only/);
  });

  it('fail a test that imports the sandbox by path instead of as its package', async () => {
    assert.equal(
      (await layerErrors('test/integration/layer-probe.ts', "export * from '../../sandbox/src/entra/index.js';\n"))
        .length,
      1,
    );
    assert.deepEqual(
      await layerErrors('test/integration/layer-probe.ts', "export * from '@d365-exo-sync/sandbox/entra';\n"),
      [],
    );
  });

  it('keep src/index.ts (the entry for code outside src/) out of src/: no file of src/ imports it', () => {
    const entry = `${ROOT}src/index.ts`;
    const importers: string[] = [];
    for (const file of sourceFiles(`${ROOT}src`)) {
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        if (resolve(dirname(file), spec!).replace(/\.js$/, '.ts') === entry) importers.push(file);
      }
    }
    assert.deepEqual(importers, []);
  });

  it('give every place of src/ a layer (a new folder cannot slip past the rules)', () => {
    const covered = new Set(LAYERS.flatMap((place) => place.files));
    const places = readdirSync(`${ROOT}src`, { withFileTypes: true })
      // index.ts is the entry for code outside src/ (the sandbox package), above every layer: see the test above.
      .filter((entry) => entry.name !== 'index.ts')
      .map((entry) => (entry.isDirectory() ? `src/${entry.name}/**` : `src/${entry.name}`));
    assert.deepEqual(
      places.filter((place) => !covered.has(place)),
      [],
    );
  });
});
