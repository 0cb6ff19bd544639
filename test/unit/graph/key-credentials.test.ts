import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import {
  certificateFacts,
  isToolkitKey,
  keyState,
  keyThumbprint,
  mergeServicePrincipalNames,
  newKeyCredential,
  planAddKey,
  planRetire,
  resendForm,
  summarizeKey,
  thumbprintFromCustomKeyIdentifier,
  toolkitDisplayName,
  wantedServicePrincipalNames,
  type KeyCredential,
} from '../../../src/graph/key-credentials.js';
import { makeLeaf } from '../../support/certs.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T10:00:00Z');
const APP = '00000007-0000-0000-c000-000000000000';

const current = makeLeaf({
  keySlot: 'kc-current',
  notBefore: new Date(NOW.getTime() - DAY),
  notAfter: new Date(NOW.getTime() + 180 * DAY),
});
const previous = makeLeaf({
  keySlot: 'kc-previous',
  notBefore: new Date(NOW.getTime() - 200 * DAY),
  notAfter: new Date(NOW.getTime() + 5 * DAY),
});
const foreign = makeLeaf({
  keySlot: 'kc-foreign',
  notBefore: new Date(NOW.getTime() - 100 * DAY),
  notAfter: new Date(NOW.getTime() + 100 * DAY),
});
const expired = makeLeaf({
  keySlot: 'kc-expired',
  notBefore: new Date(NOW.getTime() - 400 * DAY),
  notAfter: new Date(NOW.getTime() - 10 * DAY),
});

/** A key as Graph returns it on a single-object read (with key) or a collection read (key null). */
function stored(cert: typeof current, fields: Partial<KeyCredential> = {}): KeyCredential {
  return {
    customKeyIdentifier: createHash('sha1').update(cert.der).digest('base64'),
    displayName: null,
    endDateTime: cert.x509.validTo ? new Date(cert.x509.validTo).toISOString().replace(/\.\d{3}Z$/, 'Z') : null,
    key: cert.der.toString('base64'),
    keyId: fields.keyId ?? randomUUID(),
    startDateTime: new Date(cert.x509.validFrom).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    ...fields,
  };
}

describe('customKeyIdentifier is read in every stored form', () => {
  const hex = current.thumbprint;
  it('base64 of the 20 thumbprint bytes (what Graph fills in)', () => {
    assert.equal(thumbprintFromCustomKeyIdentifier(Buffer.from(hex, 'hex').toString('base64')), hex);
  });
  it('the 40 hex characters themselves (hex text sent as Edm.Binary comes back unchanged)', () => {
    assert.equal(thumbprintFromCustomKeyIdentifier(hex.toLowerCase()), hex);
  });
  it('base64 of the hex text', () => {
    assert.equal(thumbprintFromCustomKeyIdentifier(Buffer.from(hex, 'latin1').toString('base64')), hex);
  });
  it('anything else is not a thumbprint', () => {
    assert.equal(thumbprintFromCustomKeyIdentifier('Q049Y3JtLmNvbnRvc28uY29t'), undefined); // "CN=crm.contoso.com"
    assert.equal(thumbprintFromCustomKeyIdentifier(null), undefined);
    assert.equal(thumbprintFromCustomKeyIdentifier('not base64!'), undefined);
  });
  it('the certificate itself wins over the identifier when Graph returns it', () => {
    const key = stored(current, { customKeyIdentifier: Buffer.from(foreign.thumbprint, 'hex').toString('base64') });
    assert.deepEqual(keyThumbprint(key), { thumbprint: current.thumbprint, source: 'key' });
    assert.deepEqual(keyThumbprint({ ...key, key: null }), {
      thumbprint: foreign.thumbprint,
      source: 'customKeyIdentifier',
    });
    assert.deepEqual(keyThumbprint({ key: null, customKeyIdentifier: null }), { source: 'unknown' });
  });
});

describe('the new key credential (microsoft-facts §1.7, Addendum)', () => {
  const facts = certificateFacts(current.x509);
  const key = newKeyCredential(facts, NOW);

  it('is AsymmetricX509Cert / Verify with the base64 DER of the certificate', () => {
    assert.equal(key.type, 'AsymmetricX509Cert');
    assert.equal(key.usage, 'Verify');
    assert.deepEqual(Buffer.from(key.key, 'base64'), current.der);
  });
  it('carries explicit start and end dates from the certificate, in Graph form (UTC, no milliseconds)', () => {
    assert.match(key.startDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(Date.parse(key.startDateTime), Math.floor(new Date(current.x509.validFrom).getTime() / 1000) * 1000);
    assert.equal(Date.parse(key.endDateTime), Math.floor(new Date(current.x509.validTo).getTime() / 1000) * 1000);
  });
  it('sends customKeyIdentifier as base64 of the SHA-1 thumbprint bytes', () => {
    assert.equal(Buffer.from(key.customKeyIdentifier, 'base64').toString('hex').toUpperCase(), current.thumbprint);
  });
  it('marks itself as added by the toolkit, in plain ASCII, and sends no keyId', () => {
    assert.equal(key.displayName, `d365-exo-sync ${current.thumbprint} 2026-11-26`);
    assert.match(key.displayName, /^[\x20-\x7e]+$/);
    assert.equal('keyId' in key, false);
    assert.equal(isToolkitKey(key), true);
  });
});

describe('existing keys are resent without key and displayName', () => {
  it('keeps exactly keyId, type, usage, customKeyIdentifier and the dates', () => {
    const key = stored(previous, { displayName: 'CN=crm.contoso.com (ü special)' });
    const sent = resendForm(key);
    assert.deepEqual(Object.keys(sent).sort(), [
      'customKeyIdentifier',
      'endDateTime',
      'keyId',
      'startDateTime',
      'type',
      'usage',
    ]);
    assert.equal(sent.keyId, key.keyId);
    assert.equal(sent.endDateTime, key.endDateTime);
  });
});

describe('planAddKey', () => {
  const facts = certificateFacts(current.x509);
  it('first setup: only the new key', () => {
    const plan = planAddKey([], facts, NOW);
    assert.equal(plan.present, undefined);
    assert.equal(plan.payload?.length, 1);
  });
  it('renewal: the old keys first, resent as they are, then the new one', () => {
    const old = stored(previous, {
      displayName: toolkitDisplayName(previous.thumbprint, new Date(NOW.getTime() - 200 * DAY)),
    });
    const other = stored(foreign, { displayName: 'CN=crm.contoso.com' });
    const plan = planAddKey([old, other], facts, NOW);
    assert.deepEqual(
      plan.payload?.slice(0, 2).map((k) => ('keyId' in k ? k.keyId : undefined)),
      [old.keyId, other.keyId],
    );
    assert.ok(plan.payload?.slice(0, 2).every((k) => !('key' in k) && !('displayName' in k)));
    assert.equal(plan.payload?.[2], plan.newKey);
  });
  it('the certificate already there (even added by someone else, even without key) means nothing to send', () => {
    const theirs = stored(current, {
      displayName: 'CN=crm.contoso.com',
      key: null,
      customKeyIdentifier: current.thumbprint,
    });
    const plan = planAddKey([theirs], facts, NOW);
    assert.equal(plan.present?.keyId, theirs.keyId);
    assert.equal(plan.payload, undefined);
  });
  it('a Sign key of the same certificate does not count as present', () => {
    const sign = stored(current, { usage: 'Sign', type: 'X509CertAndPassword' });
    assert.ok(planAddKey([sign], facts, NOW).payload);
  });
});

describe('planRetire', () => {
  const ours = (cert: typeof current) => stored(cert, { displayName: toolkitDisplayName(cert.thumbprint, NOW) });
  it('removes our superseded keys only; keeps the current key and keys of others', () => {
    const keys = [
      ours(previous),
      ours(current),
      stored(foreign, { displayName: 'CN=crm.contoso.com' }),
      stored(expired),
    ];
    const plan = planRetire(keys, current.thumbprint, NOW, { expiredKeysOfOthers: false });
    assert.equal(plan.refused, undefined);
    assert.deepEqual(
      plan.remove.map((d) => d.key.keyId),
      [keys[0]!.keyId],
    );
    assert.deepEqual(
      plan.payload?.map((k) => k.keyId),
      [keys[1]!.keyId, keys[2]!.keyId, keys[3]!.keyId],
    );
    assert.ok(plan.payload?.every((k) => !('key' in k) && !('displayName' in k)));
  });
  it('with expiredKeys also removes expired keys of others, never valid ones', () => {
    const keys = [ours(current), stored(foreign), stored(expired)];
    const plan = planRetire(keys, current.thumbprint, NOW, { expiredKeysOfOthers: true });
    assert.deepEqual(
      plan.remove.map((d) => d.key.keyId),
      [keys[2]!.keyId],
    );
  });
  it('refuses when the current certificate is not there: never leaves the service principal without a valid key', () => {
    const plan = planRetire([ours(previous)], current.thumbprint, NOW, { expiredKeysOfOthers: true });
    assert.match(plan.refused ?? '', /not among the key credentials/);
    assert.equal(plan.remove.length, 0);
    assert.equal(plan.payload, undefined);
  });
  it('refuses when the current key is not valid now', () => {
    const future = stored(current, { startDateTime: '2027-01-01T00:00:00Z', displayName: 'd365-exo-sync x' });
    const plan = planRetire([ours(previous), future], current.thumbprint, NOW, { expiredKeysOfOthers: false });
    assert.match(plan.refused ?? '', /not valid now/);
  });
  it('nothing to remove: no payload', () => {
    const plan = planRetire([ours(current), stored(foreign)], current.thumbprint.toLowerCase(), NOW, {
      expiredKeysOfOthers: false,
    });
    assert.equal(plan.remove.length, 0);
    assert.equal(plan.payload, undefined);
  });
});

describe('key summaries and states', () => {
  it('reports who added the key, the thumbprint and the days left', () => {
    const summary = summarizeKey(stored(previous, { displayName: toolkitDisplayName(previous.thumbprint, NOW) }), NOW);
    assert.equal(summary.addedBy, 'd365-exo-sync');
    assert.equal(summary.thumbprint, previous.thumbprint);
    assert.equal(summary.state, 'valid');
    assert.ok(summary.daysLeft === 4 || summary.daysLeft === 5);
    assert.equal(summarizeKey(stored(foreign, { displayName: 'd365-exo-syncX' }), NOW).addedBy, 'someone else');
  });
  it('tells expired, not yet valid and dateless keys apart', () => {
    assert.equal(keyState({ startDateTime: null, endDateTime: '2026-01-01T00:00:00Z' }, NOW), 'expired');
    assert.equal(
      keyState({ startDateTime: '2027-01-01T00:00:00Z', endDateTime: '2028-01-01T00:00:00Z' }, NOW),
      'not-yet-valid',
    );
    assert.equal(keyState({ startDateTime: null, endDateTime: null }, NOW), 'no-dates');
  });
});

describe('service principal names', () => {
  it('wants the bare app id and, when asked, <appId>/*.<rootDomain>', () => {
    assert.deepEqual(wantedServicePrincipalNames(APP, 'contoso.com', true), [APP, `${APP}/*.contoso.com`]);
    assert.deepEqual(wantedServicePrincipalNames(APP, 'contoso.com', false), [APP]);
  });
  it('adds only what is missing, compared without case, keeping the others', () => {
    const merged = mergeServicePrincipalNames(
      ['https://x.example', `${APP}/*.CONTOSO.com`],
      wantedServicePrincipalNames(APP, 'contoso.com', true),
    );
    assert.deepEqual(merged.added, [APP]);
    assert.deepEqual(merged.names, ['https://x.example', `${APP}/*.CONTOSO.com`, APP]);
  });
});
