// buildWindowsPfx: the PFX the Windows import reads into a legacy CSP with KeySpec 1. Checked by
// reading it back with openssl and with node-forge, not only with our own reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import forge from 'node-forge';
import { buildWindowsPfx, InputError, loadPfx, type LoadedPfx } from '../../../src/cert/index.js';
import { opensslPkcs12Info } from '../../support/cert-openssl.js';
import { makeChain, makeLeaf, makePfx, type TestCertificate } from '../../support/certs.js';

const asciiPassword = 'Windows-Import-1';
const unicodePassword = 'Pässwörd-€';
const { root, intermediate, leaf } = makeChain();

function load(
  cert: TestCertificate,
  options: { password?: string; chain?: TestCertificate[]; cspName?: string; friendlyName?: string } = {},
): LoadedPfx {
  const password = options.password ?? asciiPassword;
  const { pfx, problems } = loadPfx(
    makePfx(cert, { password, ...options, chain: options.chain ?? [intermediate, root] }),
    password,
  );
  assert.deepEqual(problems, []);
  return pfx!;
}

/** Walks node-forge's ASN.1 tree by child indexes. */
function forgeChild(node: forge.asn1.Asn1, ...path: number[]): forge.asn1.Asn1 {
  return path.reduce((current, index) => (current.value as forge.asn1.Asn1[])[index]!, node);
}

/** The key's SafeBag: the first bag of the second (plain) safe, where both we and openssl put it. */
function keySafeBag(pfxAsn1: forge.asn1.Asn1): forge.asn1.Asn1 {
  const authSafe = forge.asn1.fromDer(forgeChild(pfxAsn1, 1, 1, 0).value as string);
  const safeContents = forge.asn1.fromDer(forgeChild(authSafe, 1, 1, 0).value as string);
  return forgeChild(safeContents, 0);
}

/** Key and certificate bags as node-forge's PKCS#12 reader sees them (it verifies the MAC and decrypts). */
function forgeBags(pfx: Buffer, password: string): { keys: forge.pkcs12.Bag[]; certificates: forge.pkcs12.Bag[] } {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(pfx.toString('binary')), password);
  const bags = (type: string): forge.pkcs12.Bag[] => p12.getBags({ bagType: type })[type] ?? [];
  return { keys: bags(forge.pki.oids.pkcs8ShroudedKeyBag!), certificates: bags(forge.pki.oids.certBag!) };
}

/** localKeyID as `openssl pkcs12 -info` prints it: "AB CD ...". */
function spacedHex(hex: string): string {
  return hex.match(/../g)!.join(' ');
}

test('openssl reads it: 3DES everywhere, SHA-1 MAC, CSP name and key-exchange usage on the key', () => {
  const source = load(leaf, { password: unicodePassword, friendlyName: 'CRM S2S' });
  const info = opensslPkcs12Info(buildWindowsPfx(source, unicodePassword), unicodePassword);
  assert.match(info, /MAC: sha1, Iteration 2048/);
  assert.match(info, /PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/);
  assert.match(info, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/);
  assert.equal(info.match(/Certificate bag/g)?.length, 3);

  // The key's attributes are the last "Bag Attributes" block, right before the private key.
  const keyAttributes = info.slice(info.lastIndexOf('Bag Attributes'), info.indexOf('-----BEGIN PRIVATE KEY-----'));
  assert.match(keyAttributes, /Microsoft CSP Name: Microsoft Enhanced RSA and AES Cryptographic Provider\n/);
  assert.match(keyAttributes, /Key Attributes\n\s+X509v3 Key Usage: 10 ?\n/);
  assert.match(keyAttributes, /friendlyName: CRM S2S/);
  // The key and the leaf certificate carry the same localKeyId: the leaf's SHA-1 thumbprint.
  const localKeyIds = [...info.matchAll(/localKeyID: ([0-9A-F ]+?) ?\n/g)].map((m) => m[1]);
  assert.deepEqual(localKeyIds, [spacedHex(leaf.thumbprint), spacedHex(leaf.thumbprint)]);
  const leafBlock = info.slice(info.indexOf('Bag Attributes'), info.indexOf('-----BEGIN CERTIFICATE-----'));
  assert.match(leafBlock, /subject=C = US, O = Contoso Test, CN = crm\.contoso\.com/);
});

test('node-forge reads it too: MAC, 3DES, key, CSP name attribute and PKCS#8 key usage', () => {
  const output = buildWindowsPfx(load(leaf), asciiPassword);
  const pfxAsn1 = forge.asn1.fromDer(output.toString('binary'));
  const p12 = forge.pkcs12.pkcs12FromAsn1(pfxAsn1, asciiPassword); // verifies the MAC, decrypts both parts
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!]!;
  assert.deepEqual(
    certBags.map((bag) => bag.cert!.subject.getField('CN').value),
    ['crm.contoso.com', 'Contoso Test Issuing CA', 'Contoso Test Root CA'],
  );
  const keyBag = p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[
    forge.pki.oids.pkcs8ShroudedKeyBag!
  ]![0]!;
  const forgeKey = keyBag.key as forge.pki.rsa.PrivateKey;
  const jwk = leaf.privateKey.export({ format: 'jwk' });
  assert.equal(Buffer.from(forgeKey.n.toString(16), 'hex').toString('base64url'), jwk.n);
  assert.equal(Buffer.from(keyBag.attributes.localKeyId![0]!, 'binary').toString('hex').toUpperCase(), leaf.thumbprint);

  // The raw key SafeBag: forge drops attributes it does not know, so walk the ASN.1.
  const safeBag = keySafeBag(pfxAsn1);
  const attributes = forgeChild(safeBag, 2).value as forge.asn1.Asn1[];
  const byOid = new Map(
    attributes.map((a) => {
      return [forge.asn1.derToOid(forgeChild(a, 0).value as string), forgeChild(a, 1, 0)] as const;
    }),
  );
  assert.deepEqual([...byOid.keys()].sort(), ['1.2.840.113549.1.9.21', '1.3.6.1.4.1.311.17.1']);
  const cspName = byOid.get('1.3.6.1.4.1.311.17.1')!;
  assert.equal(cspName.type, forge.asn1.Type.BMPSTRING);
  assert.equal(cspName.value, 'Microsoft Enhanced RSA and AES Cryptographic Provider');

  const privateKeyInfo = forge.pki.decryptPrivateKeyInfo(forgeChild(safeBag, 1, 0), asciiPassword);
  const pkcs8Attributes = forgeChild(privateKeyInfo, 3);
  assert.equal(pkcs8Attributes.tagClass, forge.asn1.Class.CONTEXT_SPECIFIC);
  assert.equal(forge.asn1.toDer(pkcs8Attributes).toHex(), 'a00d300b0603551d0f3104030204' + '10');
});

test('the key usage attribute is byte for byte what `openssl pkcs12 -keyex` writes', () => {
  const opensslKeyex = makePfx(leaf, { password: asciiPassword, encoding: 'openssl-3des', keyExchange: true });
  const ours = buildWindowsPfx(load(leaf), asciiPassword);
  const attributesOf = (pfx: Buffer): string => {
    const encryptedKey = forgeChild(keySafeBag(forge.asn1.fromDer(pfx.toString('binary'))), 1, 0);
    const privateKeyInfo = forge.pki.decryptPrivateKeyInfo(encryptedKey, asciiPassword);
    return forge.asn1.toDer(forgeChild(privateKeyInfo, 3)).toHex();
  };
  assert.equal(attributesOf(ours), attributesOf(opensslKeyex));
});

test('loading it back gives the same leaf, key, chain order and friendly name', () => {
  const source = load(leaf, { password: unicodePassword, friendlyName: 'CRM S2S' });
  const { pfx, problems } = loadPfx(buildWindowsPfx(source, unicodePassword), unicodePassword);
  assert.deepEqual(problems, []);
  assert.equal(pfx!.leaf.fingerprint, leaf.x509.fingerprint);
  assert.ok(pfx!.privateKey.equals(leaf.privateKey));
  assert.deepEqual(
    pfx!.chain.map((c) => c.fingerprint),
    [intermediate.x509.fingerprint, root.x509.fingerprint],
  );
  assert.equal(pfx!.friendlyName, 'CRM S2S');
});

test('a KSP name from a CNG export is not carried over', () => {
  const source = load(leaf, { cspName: 'Microsoft Software Key Storage Provider' });
  const sourceInfo = opensslPkcs12Info(
    makePfx(leaf, { password: asciiPassword, cspName: 'Microsoft Software Key Storage Provider' }),
    asciiPassword,
  );
  assert.match(
    sourceInfo,
    /Microsoft CSP Name: Microsoft Software Key Storage Provider/,
    'fixture carries the KSP name',
  );
  const pfxOut = buildWindowsPfx(source, asciiPassword);
  const info = opensslPkcs12Info(pfxOut, asciiPassword);
  assert.doesNotMatch(info, /Key Storage Provider/);
  assert.equal(info.match(/Microsoft CSP Name: /g)?.length, 1);
  assert.match(info, /Microsoft CSP Name: Microsoft Enhanced RSA and AES Cryptographic Provider/);
  const keyAttributes = forgeChild(keySafeBag(forge.asn1.fromDer(pfxOut.toString('binary'))), 2).value;
  const cspNames = (keyAttributes as forge.asn1.Asn1[])
    .filter((a) => forge.asn1.derToOid(forgeChild(a, 0).value as string) === '1.3.6.1.4.1.311.17.1')
    .map((a) => forgeChild(a, 1, 0).value);
  assert.deepEqual(cspNames, ['Microsoft Enhanced RSA and AES Cryptographic Provider']);
});

test('friendly name and chain can be overridden', () => {
  const source = load(leaf, { friendlyName: 'from input' });
  const renamed = forgeBags(buildWindowsPfx(source, asciiPassword, { friendlyName: 'CRM S2S 2027' }), asciiPassword);
  assert.deepEqual(renamed.keys[0]!.attributes.friendlyName, ['CRM S2S 2027']);
  assert.deepEqual(renamed.certificates[0]!.attributes.friendlyName, ['CRM S2S 2027']);
  const unnamed = forgeBags(
    buildWindowsPfx(source, asciiPassword, { friendlyName: null, includeChain: false }),
    asciiPassword,
  );
  assert.equal(unnamed.keys[0]!.attributes.friendlyName, undefined);
  assert.equal(unnamed.certificates.length, 1);
});

test('an EC key cannot go into a Windows CSP: InputError', () => {
  const ecLeaf = makeLeaf({ keyType: 'ec', keySlot: 'ec-leaf' });
  const { pfx } = loadPfx(makePfx(ecLeaf, { password: asciiPassword }), asciiPassword);
  assert.throws(
    () => buildWindowsPfx(pfx!, asciiPassword),
    (error: unknown) => error instanceof InputError && error.field === 'pfx' && /RSA key of 2048/.test(error.fix),
  );
});
