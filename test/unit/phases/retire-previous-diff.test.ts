// retire-previous's decision without Graph: the verify gate, and which keys go and which stay.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toolkitDisplayName } from '../../../src/graph/key-credentials.js';
import { diffRetirePrevious, verifyGate, type RetireWanted } from '../../../src/phases/entra/retire-diff.js';
import { makeLeaf, type TestCertificate } from '../../support/certs.js';
import { storedKey as stored } from '../support/key-credentials.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T10:00:00Z');
const at = (days: number) => new Date(NOW.getTime() + days * DAY);

const current = makeLeaf({ notBefore: at(-1), notAfter: at(300) });
const previous = makeLeaf({ notBefore: at(-360), notAfter: at(5) });
const othersValid = makeLeaf({ notBefore: at(-10), notAfter: at(100) });
const othersExpired = makeLeaf({ notBefore: at(-400), notAfter: at(-3) });
const notYet = makeLeaf({ notBefore: at(2), notAfter: at(400) });

const ours = (cert: TestCertificate) => stored(cert, { displayName: toolkitDisplayName(cert.thumbprint, at(-30)) });

const wanted = (fields: Partial<RetireWanted> = {}): RetireWanted => ({
  thumbprint: current.thumbprint,
  verified: 'true',
  expiredKeysOfOthers: false,
  ...fields,
});

describe('retire-previous diff: the verify gate', () => {
  it('opens only for verified=true', () => {
    assert.equal(verifyGate(wanted()), undefined);
    assert.match(verifyGate(wanted({ verified: undefined }))!, /only after a passing verify: pass verified=true/);
    assert.match(verifyGate(wanted({ verified: 'false' }))!, /got verified=false; nothing was removed/);
    assert.match(verifyGate(wanted({ verified: 'True ' }))!, /got verified=True /);
  });

  it('stays shut when verify checked another certificate, and compares thumbprints in any spelling', () => {
    assert.match(
      verifyGate(wanted({ verifiedThumbprint: previous.thumbprint }))!,
      new RegExp(`verify passed for ${previous.thumbprint}, not for the current certificate`),
    );
    const spaced = current.thumbprint.toLowerCase().replace(/(..)/g, '$1 ').trim();
    assert.equal(verifyGate(wanted({ verifiedThumbprint: spaced })), undefined);
  });

  it('is part of the diff, which still lists what would go (the plan shows both)', () => {
    const changes = diffRetirePrevious([stored(current), ours(previous)], wanted({ verified: 'false' }), NOW);
    assert.match(changes.gate!, /got verified=false/);
    assert.equal(changes.retire.remove.length, 1);
  });
});

describe('retire-previous diff: the keys', () => {
  it('removes the key this toolkit added for an earlier certificate, while it is still valid', () => {
    const old = ours(previous);
    const { gate, retire } = diffRetirePrevious([old, stored(current)], wanted(), NOW);
    assert.equal(gate, undefined);
    assert.deepEqual(
      retire.remove.map((d) => d.key.keyId),
      [old.keyId],
    );
    assert.match(retire.remove[0]!.reason, /added by d365-exo-sync for .*superseded by/);
    assert.deepEqual(
      retire.payload!.map((k) => k.keyId),
      retire.keep.map((d) => d.key.keyId),
    );
  });

  it('never removes the key of the current certificate, though this toolkit added it', () => {
    const mine = ours(current);
    const { retire } = diffRetirePrevious([mine], wanted(), NOW);
    assert.deepEqual(retire.remove, []);
    assert.equal(retire.keep[0]!.reason, 'the current certificate');
    assert.equal(retire.payload, undefined);
  });

  it('keeps keys added by others: valid always, expired unless retire.expiredKeys is on', () => {
    const valid = stored(othersValid, { displayName: 'CN=crm.contoso.com' });
    const expired = stored(othersExpired);
    const keys = [stored(current), valid, expired];
    const off = diffRetirePrevious(keys, wanted(), NOW).retire;
    assert.deepEqual(off.remove, []);
    assert.match(off.keep.find((d) => d.key === expired)!.reason, /set retire.expiredKeys to remove it/);
    const on = diffRetirePrevious(keys, wanted({ expiredKeysOfOthers: true }), NOW).retire;
    assert.deepEqual(
      on.remove.map((d) => d.key),
      [expired],
    );
    assert.equal(
      on.keep.some((d) => d.key === valid),
      true,
    );
  });

  it('refuses to remove anything when the current certificate is not a key yet', () => {
    const { retire } = diffRetirePrevious([ours(previous)], wanted(), NOW);
    assert.match(retire.refused!, /is not among the key credentials: run register-entra for it first/);
    assert.deepEqual(retire.remove, []);
  });

  it('refuses when the current key is not valid at the time it is given (not yet valid)', () => {
    const next = ours(notYet);
    const { retire } = diffRetirePrevious([ours(previous), next], wanted({ thumbprint: notYet.thumbprint }), NOW);
    assert.match(retire.refused!, /is not valid now .*could leave no valid key/);
    const later = diffRetirePrevious([ours(previous), next], wanted({ thumbprint: notYet.thumbprint }), at(3));
    assert.equal(later.retire.refused, undefined);
    assert.equal(later.retire.remove.length, 1);
  });

  it('changes nothing on a second run: after the removal there is nothing left to remove', () => {
    const keys = [ours(previous), stored(current)];
    const first = diffRetirePrevious(keys, wanted(), NOW).retire;
    const second = diffRetirePrevious(
      first.keep.map((d) => d.key),
      wanted(),
      NOW,
    ).retire;
    assert.deepEqual(second.remove, []);
    assert.equal(second.payload, undefined);
  });
});
