// verify's Entra ID findings without Graph: the current key and the service principal names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateCurrentKey, evaluateServicePrincipalNames } from '../../../src/phases/entra/verify-evaluate.js';
import { makeLeaf } from '../../support/certs.js';
import { storedKey as stored } from '../support/key-credentials.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T10:00:00Z');
const at = (days: number) => new Date(NOW.getTime() + days * DAY);
const APP = '00000007-0000-0000-c000-000000000000';
const cert = makeLeaf({ notBefore: at(-1), notAfter: at(200) });

describe('verify evaluation: Entra ID', () => {
  it('passes when the current certificate is a Verify key valid now', () => {
    const finding = evaluateCurrentKey([stored(cert)], cert.thumbprint, NOW);
    assert.equal(finding.status, 'unchanged');
    assert.equal((finding.after as unknown[]).length, 1);
  });

  it('fails a key that is not valid at the given time, and a certificate that is not a key', () => {
    const expired = evaluateCurrentKey([stored(cert)], cert.thumbprint, at(300));
    assert.match(expired.error!, /is not valid now/);
    const absent = evaluateCurrentKey([stored(cert, { usage: 'Sign' })], cert.thumbprint, NOW);
    assert.match(absent.error!, /is not among the key credentials: run register-entra/);
  });

  it('fails only when a wanted name is missing, comparing without case', () => {
    const wanted = { appId: APP, rootDomain: 'contoso.com', ensureDomainSpn: true };
    assert.equal(evaluateServicePrincipalNames([APP, `${APP}/*.CONTOSO.com`], wanted).status, 'unchanged');
    assert.equal(
      evaluateServicePrincipalNames([APP], wanted).error,
      `missing ${APP}/*.contoso.com: run register-entra`,
    );
    assert.equal(evaluateServicePrincipalNames([APP], { ...wanted, ensureDomainSpn: false }).status, 'unchanged');
  });
});
