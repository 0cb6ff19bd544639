// Every phase twice, through the command line, against the emulators and the fake Windows server, in renewal
// order: the second run must report no change (every step unchanged or skipped) and send no write: no PATCH to
// Graph, no write to D365 (the emulator counts every committed PATCH/POST, inside $batch or not), and no cmdlet
// that changes the server in the fake's call log. The first runs must have changed something, or the second
// proving nothing would prove nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PHASES } from '../../src/phases/registry.js';
import { makeLeaf, makePfx } from '../support/certs.js';
import {
  ADFS_SERVER,
  mutatingCalls,
  PFX_PASSWORD,
  PFX_PASSWORD_ENV,
  startWorld,
  windowsCalls,
  type World,
} from './support/world.js';

interface RunRecord {
  phase: string;
  status: string;
  error?: string;
  steps: { id: string; status: string }[];
}

const DAY = 86_400_000;

describe('every phase, run twice: the second run changes nothing and writes nothing', () => {
  let world: World;
  let previousPfx: string;

  before(async () => {
    world = await startWorld();
    // A key this toolkit added for the previous certificate, so retire-previous has something to retire once.
    const previous = makeLeaf({
      keySlot: 'reliability-renewal',
      notBefore: new Date(Date.now() - 100 * DAY),
      notAfter: new Date(Date.now() + 60 * DAY),
    });
    previousPfx = join(world.dir, 'previous.pfx');
    writeFileSync(previousPfx, makePfx(previous, { password: PFX_PASSWORD, encoding: 'forge-3des' }));
    const seeded = await world.cli([
      'run',
      '--config',
      world.configFile,
      '--phase',
      'register-entra',
      '--pfx',
      previousPfx,
      '--password-env',
      PFX_PASSWORD_ENV,
    ]);
    assert.equal(seeded.code, 0, seeded.stdout + seeded.stderr);
  });
  after(() => world?.close());

  const pfx = () => ['--pfx', world.pfxFile, '--password-env', PFX_PASSWORD_ENV];
  /** The phase's arguments beyond --config and --phase (verify without retest: a retest schedules Test & Enable). */
  const ARGS: Record<string, () => string[]> = {
    preflight: pfx,
    'register-entra': pfx,
    'install-certificate': pfx,
    'configure-crm': pfx,
    'configure-adfs': () => [
      '--set',
      `server=${ADFS_SERVER}`,
      '--set',
      `organization-id=${world.d365.state.organizationId}`,
    ],
    'configure-exchange': () => [],
    'configure-mailboxes': () => [],
    verify: () => [...pfx(), '--set', 'retest=false'],
    'retire-previous': () => [...pfx(), '--set', 'verified=true'],
  };
  /** Phases whose first run must change something here (the others only read). */
  const WRITERS = new Set([
    'register-entra',
    'install-certificate',
    'configure-crm',
    'configure-adfs',
    'configure-exchange',
    'configure-mailboxes',
    'retire-previous',
  ]);

  it('knows every phase of the registry', () => {
    assert.deepEqual(
      PHASES.map((p) => p.id).filter((id) => !ARGS[id]),
      [],
    );
  });

  for (const phase of PHASES) {
    it(`${phase.id}: the second run reports no change and sends no write`, async () => {
      const args = ARGS[phase.id];
      assert.ok(args, `no arguments for ${phase.id}`);
      const once = async () => {
        const patches = world.entra.requestsTo('sp-patch').length;
        const writes = world.d365.requests.writes;
        const calls = windowsCalls(world.windowsState).length;
        const exchangeCalls = windowsCalls(world.exchangeState).length;
        const run = await world.cli(['run', '--config', world.configFile, '--phase', phase.id, '--json', ...args()]);
        assert.equal(run.code, 0, run.stdout + run.stderr);
        return {
          record: JSON.parse(run.stdout) as RunRecord,
          patches: world.entra.requestsTo('sp-patch').length - patches,
          writes: world.d365.requests.writes - writes,
          mutating: [
            ...mutatingCalls(windowsCalls(world.windowsState).slice(calls)),
            // The fake Exchange Online tenant's changes (Connect/Disconnect only open and close the session).
            ...mutatingCalls(windowsCalls(world.exchangeState).slice(exchangeCalls)).filter(
              (c) => !/^(Connect|Disconnect)-ExchangeOnline$/.test(c.name),
            ),
          ],
        };
      };
      const first = await once();
      assert.equal(first.record.status, 'succeeded', first.record.error);
      if (WRITERS.has(phase.id)) {
        assert.ok(
          first.record.steps.some((s) => s.status === 'changed'),
          `the first ${phase.id} changed nothing: ${JSON.stringify(first.record.steps)}`,
        );
        assert.ok(first.patches + first.writes + first.mutating.length > 0, 'the first run wrote nothing');
      } else {
        assert.equal(first.patches + first.writes + first.mutating.length, 0, `${phase.id} only reads`);
      }

      const second = await once();
      assert.equal(second.record.status, 'succeeded', second.record.error);
      assert.deepEqual(
        // not-checked (an optional read the app may not hold) is no change either.
        second.record.steps.filter((s) => !['unchanged', 'skipped', 'not-checked'].includes(s.status)),
        [],
        'the second run reports a change',
      );
      assert.equal(second.patches, 0, 'the second run sent a PATCH to Graph');
      assert.equal(second.writes, 0, 'the second run wrote to D365');
      assert.deepEqual(second.mutating, [], 'the second run changed the Windows server');
    });
  }
});
