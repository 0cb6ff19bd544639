// Loading PFX files: the encodings real tools write, passwords, and every way a file can be wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { loadPfx, type ProblemCode } from '../../../src/cert/index.js';
import { hasOpensslLegacyProvider } from '../../support/cert-openssl.js';
import { makeChain, makeLeaf, makePfx, type PfxEncoding, testKey } from '../../support/certs.js';

const password = 'Correct-Horse-42';
const unicodePassword = 'Pässwörd-€';
const chain = makeChain({ dnsNames: ['crm.contoso.com'] });
const { root, intermediate, leaf } = chain;
const legacySkip = hasOpensslLegacyProvider() ? false : 'OpenSSL legacy provider (RC2) not installed';

function onlyProblem(data: Buffer, pw: string): { code: ProblemCode; message: string } {
  const result = loadPfx(data, pw);
  assert.equal(result.pfx, undefined, 'no PFX expected');
  assert.equal(result.problems.length, 1, JSON.stringify(result.problems));
  const [first] = result.problems;
  return { code: first!.code, message: first!.message };
}

function assertLoads(data: Buffer, pw: string): void {
  const result = loadPfx(data, pw);
  assert.deepEqual(result.problems, []);
  assert.ok(result.pfx);
  assert.equal(result.pfx.leaf.fingerprint, leaf.x509.fingerprint);
  assert.ok(result.pfx.privateKey.equals(leaf.privateKey), 'the leaf key');
  assert.equal(result.pfx.privateKey.type, 'private');
}

// Editing PFX files with node-forge's ASN.1 (DER in, DER out: only the edited bytes change).
type Asn1 = forge.asn1.Asn1;
const parse = (bytes: Buffer | string): Asn1 =>
  forge.asn1.fromDer(typeof bytes === 'string' ? bytes : bytes.toString('binary'));
const encode = (node: Asn1): Buffer => Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');

/** Walks forge's ASN.1 tree by child indexes. */
function child(node: Asn1, ...path: number[]): Asn1 {
  return path.reduce((current, index) => (current.value as Asn1[])[index]!, node);
}

/** XORs one byte of a primitive node's content. */
function flip(node: Asn1, at: number, mask: number): void {
  const value = node.value as string;
  node.value = value.slice(0, at) + String.fromCharCode(value.charCodeAt(at) ^ mask) + value.slice(at + 1);
}

// ---- encodings real tools write

const encodings: { encoding: PfxEncoding; skip: string | false }[] = [
  { encoding: 'openssl-default', skip: false },
  { encoding: 'openssl-legacy', skip: legacySkip },
  { encoding: 'openssl-3des', skip: false },
  { encoding: 'forge-3des', skip: false },
  { encoding: 'forge-aes256', skip: false },
];

for (const { encoding, skip } of encodings) {
  test(`loads a ${encoding} PFX with its chain`, { skip }, () => {
    const data = makePfx(leaf, { password, encoding, chain: [intermediate, root] });
    assertLoads(data, password);
    const { pfx } = loadPfx(data, password);
    assert.deepEqual(
      pfx!.chain.map((cert) => cert.fingerprint),
      [intermediate.x509.fingerprint, root.x509.fingerprint],
    );
  });

  test(`a wrong password on a ${encoding} PFX is PFX_BAD_PASSWORD`, { skip }, () => {
    const data = makePfx(leaf, { password, encoding });
    assert.equal(onlyProblem(data, 'correct-horse-42').code, 'PFX_BAD_PASSWORD');
  });
}

test('a non-ASCII password opens an OpenSSL 3 default (PBES2, AES-256) PFX', () => {
  // PBKDF2 takes the UTF-8 bytes while the MAC takes UTF-16: node-forge's reader fails exactly here.
  assertLoads(makePfx(leaf, { password: unicodePassword, encoding: 'openssl-default' }), unicodePassword);
});

test('a non-ASCII password opens an OpenSSL 3DES PFX', () => {
  assertLoads(makePfx(leaf, { password: unicodePassword, encoding: 'openssl-3des' }), unicodePassword);
});

test('a non-ASCII password opens an OpenSSL legacy (RC2-40) PFX', { skip: legacySkip }, () => {
  assertLoads(makePfx(leaf, { password: unicodePassword, encoding: 'openssl-legacy' }), unicodePassword);
});

test('a non-ASCII password opens a node-forge 3DES PFX', () => {
  assertLoads(makePfx(leaf, { password: unicodePassword, encoding: 'forge-3des' }), unicodePassword);
});

test('the same password in another Unicode normalization (NFD) is PFX_BAD_PASSWORD', () => {
  const data = makePfx(leaf, { password: unicodePassword });
  assert.equal(onlyProblem(data, unicodePassword.normalize('NFD')).code, 'PFX_BAD_PASSWORD');
});

test('a password with a trailing line break (a common secret mistake) is PFX_BAD_PASSWORD', () => {
  const data = makePfx(leaf, { password });
  assert.equal(onlyProblem(data, `${password}\n`).code, 'PFX_BAD_PASSWORD');
});

test('a password with characters outside the BMP (UTF-16 surrogate pairs) opens OpenSSL PFX files', () => {
  for (const encoding of ['openssl-default', 'openssl-3des'] as const) {
    assertLoads(makePfx(leaf, { password: 'Schlüssel-😀', encoding }), 'Schlüssel-😀');
  }
});

test('an empty password opens a PFX exported without password, and a non-empty one does not', () => {
  const data = makePfx(leaf, { password: '' });
  assertLoads(data, '');
  assert.equal(onlyProblem(data, 'anything').code, 'PFX_BAD_PASSWORD');
});

test('an empty password also opens a PFX whose MAC uses the NULL password form (no terminator bytes)', () => {
  // forge writes a null password's MAC key from zero bytes: the other reading of "no password".
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(leaf.privateKeyPem),
    [forge.pki.certificateFromPem(leaf.pem)],
    null,
  );
  const data = encode(asn1);
  assertLoads(data, '');
  assert.equal(onlyProblem(data, 'anything').code, 'PFX_BAD_PASSWORD');
});

test('a PFX without MAC and a wrong password is PFX_BAD_PASSWORD (decryption fails everywhere)', () => {
  const data = makePfx(leaf, { password, noMac: true });
  assertLoads(data, password);
  assert.equal(onlyProblem(data, 'nope').code, 'PFX_BAD_PASSWORD');
});

test('a BER-encoded PFX (indefinite lengths, chunked OCTET STRING, as Java tools write) loads', () => {
  const data = toBer(makePfx(leaf, { password, chain: [intermediate] }));
  assert.notEqual(data[1], makePfx(leaf, { password })[1], 'outer length is indefinite');
  assertLoads(data, password);
});

/** Re-encodes the PFX's outer layers in BER: the MAC covers the octets, not their encoding. */
function toBer(pfx: Buffer): Buffer {
  const root = parse(pfx);
  const [version, authSafe, macData] = root.value as [Asn1, Asn1, Asn1];
  const octets = child(authSafe, 1, 0).value as string;
  const chunks: Buffer[] = [];
  for (let i = 0; i < octets.length; i += 500) {
    const chunk = forge.asn1.create(
      forge.asn1.Class.UNIVERSAL,
      forge.asn1.Type.OCTETSTRING,
      false,
      octets.slice(i, i + 500),
    );
    chunks.push(encode(chunk));
  }
  const indefinite = (identifier: number, ...parts: Buffer[]): Buffer =>
    Buffer.concat([Buffer.from([identifier, 0x80]), ...parts, Buffer.from([0, 0])]);
  return indefinite(
    0x30,
    encode(version),
    indefinite(0x30, encode(child(authSafe, 0)), indefinite(0xa0, indefinite(0x24, ...chunks))),
    encode(macData),
  );
}

// ---- the leaf is chosen by its key

test('a full chain in scrambled bag order still yields the leaf (by key) and the chain in issuer order', () => {
  for (const order of [
    [root, leaf, intermediate],
    [intermediate, root, leaf],
  ]) {
    // node-forge tags the first certificate with the key's localKeyId: here a CA, not the leaf.
    const data = makePfx(leaf, { password, encoding: 'forge-3des', order });
    const { pfx, problems } = loadPfx(data, password);
    assert.deepEqual(problems, []);
    assert.equal(pfx!.leaf.fingerprint, leaf.x509.fingerprint);
    assert.deepEqual(
      pfx!.chain.map((cert) => cert.fingerprint),
      [intermediate.x509.fingerprint, root.x509.fingerprint],
    );
  }
});

test('a certificate unrelated to the chain is listed after the issuers', () => {
  const stranger = makeLeaf({ commonName: 'other.fabrikam.com', keySlot: 'stranger' });
  const data = makePfx(leaf, { password, encoding: 'forge-3des', order: [stranger, root, leaf, intermediate] });
  const { pfx } = loadPfx(data, password);
  assert.deepEqual(
    pfx!.chain.map((cert) => cert.fingerprint),
    [intermediate.x509.fingerprint, root.x509.fingerprint, stranger.x509.fingerprint],
  );
});

test('the friendly name of the key bag is kept', () => {
  const { pfx } = loadPfx(makePfx(leaf, { password, friendlyName: 'CRM S2S 2026' }), password);
  assert.equal(pfx!.friendlyName, 'CRM S2S 2026');
});

test('a PFX exported from a CNG key (KSP name attribute) loads like any other', () => {
  const data = makePfx(leaf, { password, cspName: 'Microsoft Software Key Storage Provider' });
  assertLoads(data, password);
});

// ---- missing or wrong keys

test('a PFX without private key is PFX_NO_PRIVATE_KEY and still lists its certificates', () => {
  const result = loadPfx(makePfx(leaf, { password, key: null, chain: [intermediate] }), password);
  assert.equal(result.pfx, undefined);
  assert.deepEqual(
    result.problems.map((p) => p.code),
    ['PFX_NO_PRIVATE_KEY'],
  );
  assert.match(result.problems[0]!.message, /2 certificates but no private key/);
  assert.match(result.problems[0]!.message, /export the private key/);
  assert.equal(result.certificates.length, 2);
});

test('a key that matches none of the certificates is PFX_KEY_MISMATCH', () => {
  const otherKey = testKey('unrelated-key').privateKey;
  const data = makePfx(leaf, { password, encoding: 'forge-3des', key: otherKey, chain: [intermediate] });
  assert.equal(onlyProblem(data, password).code, 'PFX_KEY_MISMATCH');
});

test('a key with no certificate at all is PFX_KEY_MISMATCH', () => {
  const data = makePfx(leaf, { password, encoding: 'forge-3des', order: [] });
  const problem = onlyProblem(data, password);
  assert.equal(problem.code, 'PFX_KEY_MISMATCH');
  assert.match(problem.message, /no certificate at all/);
});

test('an EC key loads (node-forge cannot) and is found by its certificate', () => {
  const ecLeaf = makeLeaf({ keyType: 'ec', keySlot: 'ec-leaf', issuer: intermediate });
  const { pfx, problems } = loadPfx(makePfx(ecLeaf, { password, chain: [intermediate] }), password);
  assert.deepEqual(problems, []);
  assert.equal(pfx!.privateKey.asymmetricKeyType, 'ec');
  assert.equal(pfx!.leaf.fingerprint, ecLeaf.x509.fingerprint);
});

// ---- not a PFX, or a damaged one

const good = makePfx(leaf, { password, chain: [intermediate] });
const goodByForge = makePfx(leaf, { password, chain: [intermediate], encoding: 'forge-3des' });

const unreadable: { name: string; data: () => Buffer; says: RegExp }[] = [
  { name: 'an empty file', data: () => Buffer.alloc(0), says: /empty/ },
  { name: 'a text file', data: () => Buffer.from('Server=CRMAPP01\r\nOrganization=contoso\r\n'), says: /text file/ },
  {
    name: 'a PEM certificate and key',
    data: () => Buffer.from(leaf.pem + leaf.privateKeyPem),
    says: /PEM text \(CERTIFICATE\)/,
  },
  { name: 'the base64 text of a PFX', data: () => Buffer.from(good.toString('base64')), says: /base64 text/ },
  { name: 'a DER certificate (.cer)', data: () => leaf.der, says: /single certificate/ },
  {
    name: 'random bytes',
    data: () => Buffer.concat([Buffer.from([0x8f]), randomBytes(1999)]),
    says: /does not start like a PKCS#12/,
  },
  {
    name: 'a base64 PFX saved by Windows PowerShell 5.1 (UTF-16LE with BOM)',
    data: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${good.toString('base64')}\r\n`, 'utf16le')]),
    says: /base64 text \(UTF-16LE\); decode it/,
  },
  {
    name: 'random bytes behind a SEQUENCE header',
    data: () => Buffer.concat([Buffer.from([0x30, 0x82, 0x07, 0xd0]), randomBytes(2000)]),
    says: /structure is broken/,
  },
  { name: 'a PFX cut in half', data: () => good.subarray(0, good.length >> 1), says: /truncated/ },
  { name: 'a forge PFX cut in half', data: () => goodByForge.subarray(0, goodByForge.length >> 1), says: /truncated/ },
  { name: 'a PFX missing its last byte', data: () => good.subarray(0, good.length - 1), says: /truncated/ },
  {
    name: 'a forge PFX missing its last byte',
    data: () => goodByForge.subarray(0, goodByForge.length - 1),
    says: /truncated/,
  },
  {
    name: 'ASN.1 nested 400 levels deep',
    data: () => Buffer.concat([Buffer.from('3080'.repeat(400), 'hex'), Buffer.alloc(800)]),
    says: /structure is broken/,
  },
  { name: 'a PFX with bytes appended', data: () => Buffer.concat([good, Buffer.from('\r\n')]), says: /left over/ },
  { name: 'a PFX of version 2', data: () => withVersion(good, 2), says: /version 2/ },
  { name: 'a PFX whose MAC value was altered', data: () => withAlteredMac(good), says: /damaged or altered/ },
  {
    name: 'a forge PFX whose MAC value was altered',
    data: () => withAlteredMac(goodByForge),
    says: /damaged or altered/,
  },
  {
    name: 'a PFX with a damaged encrypted certificate part',
    data: () => withDamagedCertificates(good),
    says: /damaged or altered/,
  },
];

for (const { name, data, says } of unreadable) {
  test(`${name} is PFX_UNREADABLE`, () => {
    const problem = onlyProblem(data(), password);
    assert.equal(problem.code, 'PFX_UNREADABLE');
    assert.match(problem.message, says);
    assert.match(problem.message, /openssl pkcs12 -export/);
  });
}

function withVersion(pfx: Buffer, version: number): Buffer {
  const root = parse(pfx);
  child(root, 0).value = String.fromCharCode(version);
  return encode(root);
}

function withAlteredMac(pfx: Buffer): Buffer {
  const root = parse(pfx);
  flip(child(root, 2, 0, 1), 5, 0x01);
  return encode(root);
}

/** Flips a byte inside the encrypted certificate safe: the MAC fails, yet the key still decrypts. */
function withDamagedCertificates(pfx: Buffer): Buffer {
  const root = parse(pfx);
  const authSafe = child(root, 1, 1, 0);
  const safes = parse(authSafe.value as string);
  flip(child(safes, 0, 1, 0, 1, 2), 40, 0xff);
  authSafe.value = encode(safes).toString('binary');
  return encode(root);
}

/** Sets the MacData iteration count. */
function withMacIterations(pfx: Buffer, count: number): Buffer {
  const root = parse(pfx);
  child(root, 2, 2).value = forge.asn1.integerToDer(count).getBytes();
  return encode(root);
}

/** Sets the iteration count of the shrouded key, in the second (plain) safe of a forge PFX. */
function withKeyIterations(pfx: Buffer, count: number): Buffer {
  const root = parse(pfx);
  const authSafe = child(root, 1, 1, 0);
  const safes = parse(authSafe.value as string);
  const keySafe = child(safes, 1, 1, 0);
  const bags = parse(keySafe.value as string);
  child(bags, 0, 1, 0, 0, 1, 1).value = forge.asn1.integerToDer(count).getBytes();
  keySafe.value = encode(bags).toString('binary');
  authSafe.value = encode(safes).toString('binary');
  return encode(root);
}

test('absurd iteration counts are refused before any key derivation (PFX_UNREADABLE)', () => {
  // A crafted file would otherwise keep the key derivation busy for minutes.
  const base = makePfx(leaf, { password, encoding: 'forge-3des' });
  const mac = onlyProblem(withMacIterations(base, 5_000_000), password);
  assert.equal(mac.code, 'PFX_UNREADABLE');
  assert.match(mac.message, /5000000 MAC iterations \(this tool accepts 1\.\.1000000\)/);
  const key = onlyProblem(withKeyIterations(base, 2 ** 31 - 1), password);
  assert.equal(key.code, 'PFX_UNREADABLE');
  assert.match(key.message, /2147483647 iterations/);
  assert.equal(onlyProblem(withMacIterations(base, 0), password).code, 'PFX_UNREADABLE');
});

test('no mutation of a valid PFX makes loadPfx throw', () => {
  const base = makePfx(leaf, { password, encoding: 'forge-3des' });
  let seed = 12345;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const seen = new Set<string>();
  for (let round = 0; round < 25; round++) {
    const copy = Buffer.from(base);
    const at = next() % copy.length;
    copy[at] = (copy[at] as number) ^ (1 + (next() % 255));
    const result = loadPfx(copy, password);
    for (const p of result.problems) seen.add(p.code);
    if (result.problems.length === 0) assert.ok(result.pfx, `round ${round}: no problem but no PFX`);
  }
  assert.ok(
    [...seen].every((code) => ['PFX_UNREADABLE', 'PFX_BAD_PASSWORD', 'PFX_KEY_MISMATCH'].includes(code)),
    [...seen].join(),
  );
  assert.ok(seen.has('PFX_UNREADABLE'));
});
