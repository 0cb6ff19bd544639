// The step ids and titles of the PowerShell-backed phases are defined once, in the module's Steps.json: the
// TypeScript specs are built from it, and the module's step functions use exactly its ids (the Pester suite checks
// the titles and order each function emits at run time). A step renamed on one side only fails here.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { moduleSteps, STEP_CATALOGUE } from '../../../src/phases/windows/step-catalogue.js';
import { EXCHANGE_SPEC } from '../../../src/phases/configure-exchange.js';
import type { WindowsPhaseId } from '../../../src/phases/windows/powershell-service.js';

const moduleDir = resolve(import.meta.dirname, '../../../powershell/D365ExoSync');
const onDisk = JSON.parse(readFileSync(join(moduleDir, 'Steps.json'), 'utf8')) as typeof STEP_CATALOGUE;
const phases = Object.keys(onDisk) as WindowsPhaseId[];

/** Every step id the module's PowerShell names: -Id 'x' of the step records and $stepId = 'x' of the phase functions. */
function idsInPowerShell(): Set<string> {
  const ids = new Set<string>();
  for (const folder of ['Public', 'Private']) {
    // The webapi entry (Invoke-D365ExoSyncWebApi) is the D365 transport, not a phase with steps in the record.
    const files = readdirSync(join(moduleDir, folder)).filter((n) => n.endsWith('.ps1') && !/WebApi/.test(n));
    for (const name of files) {
      const text = readFileSync(join(moduleDir, folder, name), 'utf8');
      for (const m of text.matchAll(/-Id '([a-z0-9-]+)'|\$stepId = '([a-z0-9-]+)'/g)) ids.add((m[1] ?? m[2])!);
    }
  }
  return ids;
}

describe('step catalogue (powershell/D365ExoSync/Steps.json)', () => {
  it('is what the TypeScript specs are built from: same ids, titles, order and read-only marks', () => {
    assert.deepEqual(phases.sort(), ['configure-adfs', 'configure-crm', 'configure-exchange', 'install-certificate']);
    for (const phase of phases) {
      const spec = moduleSteps(phase);
      assert.equal(spec.prefix, onDisk[phase].prefix);
      assert.deepEqual(
        spec.steps.map((s) => ({ id: s.id, title: s.title, ...(s.readOnly ? { readOnly: true } : {}) })),
        onDisk[phase].steps,
        phase,
      );
    }
    assert.deepEqual(
      EXCHANGE_SPEC.steps.map((s) => s.id),
      onDisk['configure-exchange'].steps.map((s) => s.id),
    );
  });

  it('names only steps the module uses, and the module uses no step id it does not list', () => {
    const used = idsInPowerShell();
    const listed = new Set(phases.flatMap((phase) => onDisk[phase].steps.map((s) => s.id)));
    // Checks before the first listed step (elevation) and the entry script's own stages are not steps of the record.
    const notSteps = new Set(['elevation']);
    assert.deepEqual(
      [...listed].filter((id) => !used.has(id)),
      [],
      'listed in Steps.json, never used by the module',
    );
    assert.deepEqual(
      [...used].filter((id) => !listed.has(id) && !notSteps.has(id)),
      [],
      'used by the module, missing from Steps.json',
    );
  });

  it('refuses a plan action for a step the catalogue does not have', () => {
    assert.throws(
      () => moduleSteps('configure-crm', { 'no-such-step': () => 'create' }),
      /no module step no-such-step/,
    );
  });
});
