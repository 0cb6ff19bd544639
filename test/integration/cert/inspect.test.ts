// inspectPfx: the report fields and every certificate problem code of the `cert inspect` contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CertificateReport,
  inspectPfx,
  InputError,
  leafDerBase64,
  type ProblemCode,
} from '../../../src/cert/index.js';
import { openssl, opensslFingerprint } from '../../support/cert-openssl.js';
import {
  type CertificateOptions,
  makeCa,
  makeChain,
  makeLeaf,
  makePfx,
  type TestCertificate,
} from '../../support/certs.js';

const password = 'Inspect-Me-7';
const dayMs = 24 * 60 * 60 * 1000;
// Whole seconds: X.509 dates have no milliseconds.
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const { root, intermediate, leaf } = makeChain({
  dnsNames: ['crm.contoso.com', 'auth.contoso.com'],
  notBefore: new Date(now.getTime() - 30 * dayMs),
  notAfter: new Date(now.getTime() + 100 * dayMs + 3600_000),
});

function inspectLeaf(
  cert: TestCertificate,
  options: { chain?: TestCertificate[]; hosts?: string[]; minDays?: number } = {},
): CertificateReport {
  const data = makePfx(cert, { password, chain: options.chain ?? [intermediate, root] });
  return inspectPfx(data, password, { hosts: options.hosts, minDays: options.minDays, now }).report;
}

function leafWith(options: CertificateOptions): TestCertificate {
  return makeLeaf({ issuer: intermediate, ...options });
}

function codes(report: CertificateReport): ProblemCode[] {
  return report.problems.map((p) => p.code);
}

// ---- a good certificate

test('a good certificate is usable and its report carries the real values', () => {
  const result = inspectPfx(makePfx(leaf, { password, chain: [root, intermediate] }), password, {
    hosts: ['crm.contoso.com'],
    now,
  });
  const { report } = result;
  assert.deepEqual(report.problems, []);
  assert.equal(report.usable, true);
  assert.equal(report.thumbprint, opensslFingerprint(leaf.pem, 'sha1'));
  assert.equal(report.sha256, opensslFingerprint(leaf.pem, 'sha256'));
  assert.match(report.thumbprint!, /^[0-9A-F]{40}$/);
  assert.equal(report.subject, 'CN=crm.contoso.com, O=Contoso Test, C=US');
  assert.equal(report.issuer, 'CN=Contoso Test Issuing CA, O=Contoso Test, C=US');
  assert.deepEqual(report.dnsNames, ['crm.contoso.com', 'auth.contoso.com']);
  assert.equal(report.notBefore, new Date(now.getTime() - 30 * dayMs).toISOString());
  assert.equal(report.notAfter, new Date(now.getTime() + 100 * dayMs + 3600_000).toISOString());
  assert.equal(report.daysRemaining, 100);
  assert.deepEqual(report.key, { algorithm: 'RSA', bits: 2048 });
  assert.equal(report.signatureAlgorithm, 'sha256WithRSAEncryption');
  assert.deepEqual(report.chain, [
    {
      subject: 'CN=Contoso Test Issuing CA, O=Contoso Test, C=US',
      issuer: 'CN=Contoso Test Root CA, O=Contoso Test, C=US',
      thumbprint: intermediate.thumbprint,
    },
    {
      subject: 'CN=Contoso Test Root CA, O=Contoso Test, C=US',
      issuer: 'CN=Contoso Test Root CA, O=Contoso Test, C=US',
      thumbprint: root.thumbprint,
    },
  ]);
  // The Graph keyCredential value is the DER certificate, as openssl writes it.
  const opensslDer = openssl(['x509', '-outform', 'DER'], { input: Buffer.from(leaf.pem) });
  assert.equal(leafDerBase64(result.pfx!), opensslDer.toString('base64'));
});

test('the report is plain JSON (the CLI prints it as is)', () => {
  const report = inspectLeaf(leaf);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

test('an unreadable file gives an empty report that is not usable', () => {
  const { report, pfx } = inspectPfx(Buffer.from('not a pfx'), password, { now });
  assert.equal(pfx, undefined);
  assert.equal(report.usable, false);
  assert.deepEqual(codes(report), ['PFX_UNREADABLE']);
  assert.equal(report.thumbprint, null);
  assert.equal(report.daysRemaining, null);
  assert.equal(report.key, null);
  assert.deepEqual(report.chain, []);
});

test('a PFX without key still reports its certificate and checks it', () => {
  const expired = leafWith({
    notBefore: new Date(now.getTime() - 50 * dayMs),
    notAfter: new Date(now.getTime() - dayMs),
  });
  const data = makePfx(expired, { password, key: null, chain: [intermediate, root] });
  const { report } = inspectPfx(data, password, { now });
  assert.deepEqual(codes(report), ['PFX_NO_PRIVATE_KEY', 'CERT_EXPIRED']);
  assert.equal(report.thumbprint, expired.thumbprint);
  assert.equal(report.chain.length, 2);
});

// ---- key

test('an EC key is KEY_NOT_RSA and the certificate is still analysed', () => {
  const ecLeaf = leafWith({ keyType: 'ec', keySlot: 'ec-leaf', signatureHash: 'sha1' });
  const report = inspectLeaf(ecLeaf, { hosts: ['crm.contoso.com', 'mail.contoso.com'] });
  assert.deepEqual(codes(report), ['KEY_NOT_RSA', 'SIGNATURE_SHA1', 'HOST_NOT_COVERED']);
  assert.deepEqual(report.key, { algorithm: 'EC', bits: 256 });
  assert.equal(report.thumbprint, ecLeaf.thumbprint);
  assert.match(report.problems[0]!.message, /256-bit EC, not RSA.*RSA key of 2048 bits/);
  assert.equal(report.usable, false);
});

test('an RSA key under 2048 bits is KEY_TOO_SMALL', () => {
  const report = inspectLeaf(leafWith({ rsaBits: 1024, keySlot: 'small-key' }));
  assert.deepEqual(codes(report), ['KEY_TOO_SMALL']);
  assert.deepEqual(report.key, { algorithm: 'RSA', bits: 1024 });
  assert.match(report.problems[0]!.message, /1024 bits; at least 2048/);
});

// ---- signature

test('a leaf signed with SHA-1 (RSA) is SIGNATURE_SHA1', () => {
  const report = inspectLeaf(leafWith({ signatureHash: 'sha1' }));
  assert.deepEqual(codes(report), ['SIGNATURE_SHA1']);
  assert.equal(report.signatureAlgorithm, 'sha1WithRSAEncryption');
  assert.match(report.problems[0]!.message, /reissue it signed with SHA-256/);
});

test('a leaf signed with ECDSA-SHA1 by an EC CA is SIGNATURE_SHA1; SHA-384 is fine', () => {
  const ecCa = makeCa({ commonName: 'Contoso EC Root', keyType: 'ec', keySlot: 'ec-ca' });
  const sha1 = inspectLeaf(makeLeaf({ issuer: ecCa, signatureHash: 'sha1' }), { chain: [ecCa] });
  assert.deepEqual(codes(sha1), ['SIGNATURE_SHA1']);
  assert.equal(sha1.signatureAlgorithm, 'ecdsa-with-SHA1');
  const sha384 = inspectLeaf(makeLeaf({ issuer: ecCa, signatureHash: 'sha384' }), { chain: [ecCa] });
  assert.deepEqual(codes(sha384), []);
  assert.equal(sha384.signatureAlgorithm, 'ecdsa-with-SHA384');
});

// ---- validity

test('an expired certificate is CERT_EXPIRED with negative whole days', () => {
  const report = inspectLeaf(
    leafWith({ notBefore: new Date(now.getTime() - 90 * dayMs), notAfter: new Date(now.getTime() - 2.5 * dayMs) }),
  );
  assert.deepEqual(codes(report), ['CERT_EXPIRED']);
  assert.equal(report.daysRemaining, -3);
  assert.match(report.problems[0]!.message, /expired on .*Renew it/);
});

test('a certificate valid from tomorrow is CERT_NOT_YET_VALID', () => {
  const report = inspectLeaf(
    leafWith({ notBefore: new Date(now.getTime() + 1.5 * dayMs), notAfter: new Date(now.getTime() + 200 * dayMs) }),
  );
  assert.deepEqual(codes(report), ['CERT_NOT_YET_VALID']);
  assert.match(report.problems[0]!.message, /in 2 days/);
});

test('fewer whole days left than minDays is CERT_EXPIRES_SOON (default 14)', () => {
  const soon = leafWith({ notAfter: new Date(now.getTime() + 10.5 * dayMs) });
  const data = makePfx(soon, { password, chain: [intermediate, root] });
  const at = (minDays?: number): CertificateReport => inspectPfx(data, password, { now, minDays }).report;
  assert.equal(at().daysRemaining, 10);
  assert.deepEqual(codes(at()), ['CERT_EXPIRES_SOON']);
  assert.match(at().problems[0]!.message, /in 10 days: fewer than the 14 required/);
  assert.deepEqual(codes(at(11)), ['CERT_EXPIRES_SOON']);
  assert.deepEqual(codes(at(10)), []);
  assert.deepEqual(codes(at(0)), []);
});

test('a negative or non-numeric minDays is an InputError', () => {
  const data = makePfx(leaf, { password });
  assert.throws(() => inspectPfx(data, password, { minDays: -1 }), InputError);
  assert.throws(
    () => inspectPfx(data, password, { minDays: Number.NaN }),
    (e: unknown) => (e as InputError).field === 'minDays',
  );
});

// ---- hosts

test('one HOST_NOT_COVERED per host the certificate does not name', () => {
  const report = inspectLeaf(leaf, {
    hosts: ['crm.contoso.com', 'crm.fabrikam.com', 'AUTH.Contoso.com.', 'contoso.com'],
  });
  assert.deepEqual(codes(report), ['HOST_NOT_COVERED', 'HOST_NOT_COVERED']);
  assert.match(report.problems[0]!.message, /"crm\.fabrikam\.com" \(it names: crm\.contoso\.com, auth\.contoso\.com\)/);
  assert.match(report.problems[1]!.message, /"contoso\.com"/);
});

test('a wildcard covers exactly one label', () => {
  const wildcard = leafWith({ commonName: '*.contoso.com', dnsNames: ['*.contoso.com'] });
  const report = inspectLeaf(wildcard, {
    hosts: ['crm.contoso.com', 'a.b.contoso.com', 'contoso.com', 'crm.contoso.org'],
  });
  assert.deepEqual(
    report.problems.map((p) => /"([^"]+)"/.exec(p.message)?.[1]),
    ['a.b.contoso.com', 'contoso.com', 'crm.contoso.org'],
  );
  assert.ok(report.problems.every((p) => p.code === 'HOST_NOT_COVERED'));
});

test('a partial wildcard (c*.contoso.com) covers nothing, as in browsers', () => {
  const partial = leafWith({ dnsNames: ['c*.contoso.com'] });
  assert.deepEqual(codes(inspectLeaf(partial, { hosts: ['crm.contoso.com'] })), ['HOST_NOT_COVERED']);
});

test('the CN counts only when the certificate has no SAN dNSName', () => {
  const cnOnly = leafWith({ commonName: 'crm.contoso.com', dnsNames: [] });
  const cnOnlyReport = inspectLeaf(cnOnly, { hosts: ['crm.contoso.com'] });
  assert.deepEqual(codes(cnOnlyReport), []);
  assert.deepEqual(cnOnlyReport.dnsNames, []);
  const sanElsewhere = leafWith({ commonName: 'crm.contoso.com', dnsNames: ['portal.contoso.com'] });
  assert.deepEqual(codes(inspectLeaf(sanElsewhere, { hosts: ['crm.contoso.com'] })), ['HOST_NOT_COVERED']);
});

test('an IP address host is matched against SAN iPAddress entries', () => {
  const withIp = leafWith({ ipAddresses: ['10.0.0.5', '::1'] });
  const report = inspectLeaf(withIp, { hosts: ['10.0.0.5', '::1', '10.0.0.6'] });
  assert.deepEqual(codes(report), ['HOST_NOT_COVERED']);
  assert.match(report.problems[0]!.message, /"10\.0\.0\.6"/);
});

// ---- trust (warnings)

test('a self-signed certificate is SELF_SIGNED (a warning: still usable), never CHAIN_INCOMPLETE', () => {
  const selfSigned = makeLeaf();
  const report = inspectLeaf(selfSigned, { chain: [] });
  assert.deepEqual(codes(report), ['SELF_SIGNED']);
  assert.equal(report.problems[0]!.severity, 'warning');
  assert.match(report.problems[0]!.message, /evaluation only/);
  assert.equal(report.usable, true);
});

test('a leaf whose issuer has the same name but another key is not SELF_SIGNED', () => {
  const namesake = makeCa({ commonName: 'crm.contoso.com', keySlot: 'namesake-ca' });
  const issued = makeLeaf({ issuer: namesake });
  assert.equal(issued.x509.subject, issued.x509.issuer);
  assert.deepEqual(codes(inspectLeaf(issued, { chain: [namesake] })), []);
  assert.deepEqual(codes(inspectLeaf(issued, { chain: [] })), ['CHAIN_INCOMPLETE']);
});

test('a leaf without its issuers is CHAIN_INCOMPLETE naming the missing issuer', () => {
  const report = inspectLeaf(leaf, { chain: [] });
  assert.deepEqual(codes(report), ['CHAIN_INCOMPLETE']);
  assert.equal(report.problems[0]!.severity, 'warning');
  assert.match(report.problems[0]!.message, /"CN=Contoso Test Issuing CA, O=Contoso Test, C=US" is missing/);
  assert.equal(report.usable, true);
});

test('a chain that stops at the intermediate is CHAIN_INCOMPLETE naming the root', () => {
  const report = inspectLeaf(leaf, { chain: [intermediate] });
  assert.deepEqual(codes(report), ['CHAIN_INCOMPLETE']);
  assert.match(report.problems[0]!.message, /"CN=Contoso Test Root CA, O=Contoso Test, C=US" is missing/);
});

test('an impostor CA with the issuer name but another key does not complete the chain', () => {
  const impostor = makeCa({ commonName: 'Contoso Test Issuing CA', issuer: root, keySlot: 'impostor-ca' });
  const report = inspectLeaf(leaf, { chain: [impostor, root] });
  assert.deepEqual(codes(report), ['CHAIN_INCOMPLETE']);
});

test('an EKU without serverAuth is NO_SERVER_AUTH_EKU (warning); no EKU extension at all is fine', () => {
  const clientOnly = inspectLeaf(leafWith({ extendedKeyUsage: ['clientAuth', 'emailProtection'] }));
  assert.deepEqual(codes(clientOnly), ['NO_SERVER_AUTH_EKU']);
  assert.equal(clientOnly.problems[0]!.severity, 'warning');
  assert.match(clientOnly.problems[0]!.message, /\(clientAuth, emailProtection\)/);
  assert.deepEqual(codes(inspectLeaf(leafWith({ extendedKeyUsage: [] }))), []);
  assert.deepEqual(codes(inspectLeaf(leafWith({ extendedKeyUsage: ['serverAuth'] }))), []);
});

// ---- many problems at once, and what messages never contain

test('problems add up, errors make it unusable, and no message contains the password', () => {
  const secret = 'Tr0ub4dor&3-Secret';
  const bad = makeLeaf({
    rsaBits: 1024,
    keySlot: 'small-key',
    signatureHash: 'sha1',
    extendedKeyUsage: ['clientAuth'],
    notBefore: new Date(now.getTime() - 60 * dayMs),
    notAfter: new Date(now.getTime() + 3 * dayMs),
  });
  const data = makePfx(bad, { password: secret });
  const { report } = inspectPfx(data, secret, {
    hosts: ['crm.contoso.com', 'portal.contoso.com', 'crm.fabrikam.com'],
    now,
  });
  assert.deepEqual(codes(report), [
    'KEY_TOO_SMALL',
    'SIGNATURE_SHA1',
    'CERT_EXPIRES_SOON',
    'HOST_NOT_COVERED',
    'HOST_NOT_COVERED',
    'SELF_SIGNED',
    'NO_SERVER_AUTH_EKU',
  ]);
  assert.equal(report.usable, false);
  const wrong = inspectPfx(data, `${secret}!`, { now }).report;
  assert.deepEqual(codes(wrong), ['PFX_BAD_PASSWORD']);
  for (const p of [...report.problems, ...wrong.problems]) {
    assert.ok(!p.message.includes(secret), `${p.code} leaks the password`);
  }
});

test('every problem has the severity the contract fixes and a message with a fix', () => {
  const report = inspectLeaf(leafWith({ signatureHash: 'sha1', extendedKeyUsage: ['clientAuth'] }), { chain: [] });
  for (const p of report.problems) {
    assert.equal(
      p.severity,
      ['SELF_SIGNED', 'CHAIN_INCOMPLETE', 'NO_SERVER_AUTH_EKU'].includes(p.code) ? 'warning' : 'error',
    );
    assert.ok(p.message.length > 60, p.message);
  }
});
