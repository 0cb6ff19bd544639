// register-entra's decision without Graph: which key to add (if any) and which names to send.
// One key for every certificate (the default slot): each certificate still has its own serial, so its own thumbprint.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  certificateFacts,
  toolkitDisplayName,
  type KeyCredential,
  type ResentKeyCredential,
} from '../../../src/graph/key-credentials.js';
import {
  certificateRefusal,
  diffRegisterEntra,
  diffServicePrincipalNames,
  NO_CERTIFICATE,
  type RegisterEntraWanted,
} from '../../../src/phases/entra/register-diff.js';
import { makeLeaf } from '../../support/certs.js';
import { storedKey as stored } from '../support/key-credentials.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T10:00:00Z');
const APP = '00000007-0000-0000-c000-000000000000';

const current = makeLeaf({
  notBefore: new Date(NOW.getTime() - DAY),
  notAfter: new Date(NOW.getTime() + 300 * DAY),
});
const previous = makeLeaf({
  notBefore: new Date(NOW.getTime() - 400 * DAY),
  notAfter: new Date(NOW.getTime() - DAY),
});
const expiredNew = makeLeaf({
  notBefore: new Date(NOW.getTime() - 30 * DAY),
  notAfter: new Date(NOW.getTime() - 2 * DAY),
});

function wanted(fields: Partial<RegisterEntraWanted> = {}): RegisterEntraWanted {
  return { appId: APP, rootDomain: 'contoso.com', ensureDomainSpn: true, ...fields };
}

const sp = (keys: KeyCredential[], servicePrincipalNames: string[] = [APP, `${APP}/*.contoso.com`]) => ({
  keys,
  servicePrincipalNames,
});

describe('register-entra diff: the key credential', () => {
  it('sends nothing when a Verify key already holds the certificate', () => {
    const key = stored(current);
    const changes = diffRegisterEntra(
      sp([stored(previous), key]),
      wanted({ certificate: certificateFacts(current.x509) }),
      NOW,
    );
    assert.equal(changes.key.kind, 'present');
    assert.equal(changes.key.kind === 'present' && changes.key.key.keyId, key.keyId);
  });

  it('recognises the certificate from customKeyIdentifier when Graph returned no key bytes', () => {
    const key = stored(current, { key: null });
    const changes = diffRegisterEntra(sp([key]), wanted({ certificate: certificateFacts(current.x509) }), NOW);
    assert.equal(changes.key.kind, 'present');
  });

  it('adds the new key and resends every existing key, the expired previous one included, without key and displayName', () => {
    const own = stored(previous, {
      displayName: toolkitDisplayName(previous.thumbprint, new Date(NOW.getTime() - 400 * DAY)),
    });
    const other = stored(makeLeaf(), { displayName: 'added by someone else' });
    const changes = diffRegisterEntra(sp([own, other]), wanted({ certificate: certificateFacts(current.x509) }), NOW);
    assert.equal(changes.key.kind, 'add');
    if (changes.key.kind !== 'add') return;
    assert.equal(changes.key.payload.length, 3);
    const resent = changes.key.payload.slice(0, 2) as ResentKeyCredential[];
    // The expired key of an earlier run is kept here: removing it is retire-previous's job.
    assert.deepEqual(
      resent.map((k) => k.keyId),
      [own.keyId, other.keyId],
    );
    for (const entry of resent) {
      assert.equal('key' in entry, false);
      assert.equal('displayName' in entry, false);
    }
    assert.equal(changes.key.newKey.key, current.der.toString('base64'));
    assert.equal(changes.key.newKey.displayName, toolkitDisplayName(current.thumbprint, NOW));
    assert.equal(changes.key.payload[2], changes.key.newKey);
  });

  it('adds the key on a service principal with no key at all (first setup, where addKey cannot work)', () => {
    const changes = diffRegisterEntra(sp([]), wanted({ certificate: certificateFacts(current.x509) }), NOW);
    assert.equal(changes.key.kind, 'add');
    assert.equal(changes.key.kind === 'add' && changes.key.payload.length, 1);
  });

  it('does not count a key of the same certificate with Sign usage as present', () => {
    const changes = diffRegisterEntra(
      sp([stored(current, { usage: 'Sign' })]),
      wanted({ certificate: certificateFacts(current.x509) }),
      NOW,
    );
    assert.equal(changes.key.kind, 'add');
  });

  it('refuses an expired new certificate and a run with neither certificate nor thumbprint', () => {
    const expired = diffRegisterEntra(sp([]), wanted({ certificate: certificateFacts(expiredNew.x509) }), NOW);
    assert.equal(expired.key.kind, 'refuse');
    assert.match(
      expired.key.kind === 'refuse' ? expired.key.reason : '',
      /expired on .*renew it first; nothing was changed/,
    );
    const neither = diffRegisterEntra(sp([]), wanted(), NOW);
    assert.deepEqual(neither.key, { kind: 'refuse', reason: NO_CERTIFICATE });
    assert.equal(certificateRefusal({ certificate: certificateFacts(current.x509) }, NOW), undefined);
  });

  it('uses the clock it is given: the same certificate is refused once now is past its end', () => {
    const cert = certificateFacts(current.x509);
    assert.equal(diffRegisterEntra(sp([]), wanted({ certificate: cert }), NOW).key.kind, 'add');
    const later = new Date(cert.notAfter.getTime() + 1);
    assert.equal(diffRegisterEntra(sp([]), wanted({ certificate: cert }), later).key.kind, 'refuse');
  });

  it('with only a thumbprint, confirms a key that is there and names one that is not', () => {
    const key = stored(current);
    const present = diffRegisterEntra(sp([key]), wanted({ thumbprint: current.thumbprint }), NOW);
    assert.deepEqual(present.key, { kind: 'present', thumbprint: current.thumbprint, key });
    const absent = diffRegisterEntra(sp([key]), wanted({ thumbprint: previous.thumbprint }), NOW);
    assert.deepEqual(absent.key, { kind: 'absent', thumbprint: previous.thumbprint });
  });

  it('prefers the certificate over a thumbprint input when both are given', () => {
    const changes = diffRegisterEntra(
      sp([stored(previous)]),
      wanted({ certificate: certificateFacts(current.x509), thumbprint: previous.thumbprint }),
      NOW,
    );
    assert.equal(changes.key.kind, 'add');
  });
});

describe('register-entra diff: the service principal names', () => {
  it('adds nothing when the names are there, in another case (Entra compares them without case)', () => {
    const names = diffServicePrincipalNames([APP.toUpperCase(), `${APP}/*.CONTOSO.COM`], wanted());
    assert.deepEqual(names.added, []);
    assert.deepEqual(names.names, [APP.toUpperCase(), `${APP}/*.CONTOSO.COM`]);
  });

  it('adds only the missing domain name, keeps the others as they are, and adds no duplicate', () => {
    const names = diffServicePrincipalNames([APP, 'https://other.example'], wanted());
    assert.deepEqual(names.added, [`${APP}/*.contoso.com`]);
    assert.deepEqual(names.names, [APP, 'https://other.example', `${APP}/*.contoso.com`]);
  });

  it('wants only the bare app id when tenant.ensureDomainSpn is off', () => {
    const names = diffServicePrincipalNames([], wanted({ ensureDomainSpn: false }));
    assert.deepEqual(names.wanted, [APP]);
    assert.deepEqual(names.added, [APP]);
  });

  it('is part of the phase diff next to the key', () => {
    const changes = diffRegisterEntra(
      sp([stored(current)], [APP]),
      wanted({ certificate: certificateFacts(current.x509) }),
      NOW,
    );
    assert.equal(changes.key.kind, 'present');
    assert.deepEqual(changes.names.added, [`${APP}/*.contoso.com`]);
  });
});
