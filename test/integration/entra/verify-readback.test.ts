// verify's Entra readback: passes after register-entra, fails (naming the fix) before it.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { entraReadback } from '../../../src/phases/entra/verify-readback.js';
import { registerEntraPhase } from '../../../src/phases/register-entra.js';
import type { EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { TestHost } from '../../support/test-host.js';
import { daysFromNow, phaseContext, startSandbox, testCertificate } from './sandbox.js';

const current = testCertificate('readback-current', { notBefore: daysFromNow(-1), notAfter: daysFromNow(90) });

describe('verify: Entra readback', () => {
  let emulator: EntraEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it('fails before register-entra, passes after it, and changes nothing itself', async () => {
    emulator = await startSandbox();
    const inputs = { thumbprint: current.cert.thumbprint };
    const before = await entraReadback.collect(phaseContext(emulator, new TestHost(), { inputs }));
    assert.deepEqual(
      before.map((r) => [r.id, r.status]),
      [
        ['entra.key-present', 'failed'],
        ['entra.service-principal-names', 'failed'],
      ],
    );
    assert.match(before[0]!.error ?? '', /not among the key credentials: run register-entra/);
    assert.match(before[1]!.error ?? '', /missing 00000007-0000-0000-c000-000000000000\/\*\.contoso\.com/);
    assert.equal(emulator.requestsTo('sp-patch').length, 0);

    await registerEntraPhase.apply(phaseContext(emulator, new TestHost(), { certificate: current.input }));
    const patches = emulator.requestsTo('sp-patch').length;
    const after = await entraReadback.collect(phaseContext(emulator, new TestHost(), { inputs }));
    assert.ok(after.every((r) => r.status === 'unchanged'));
    assert.equal(emulator.requestsTo('sp-patch').length, patches);
  });
});
