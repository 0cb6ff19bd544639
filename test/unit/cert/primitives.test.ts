// The building blocks under the PKCS#12 reader and writer: BER parsing, DER writing, the PKCS#12 KDF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import forge from 'node-forge';
import { Asn1Error, decodeBmp, decodeOid, der, parseAsn1 } from '../../../src/cert/asn1.js';
import { macPasswordCandidates, passwordForms, pkcs12Kdf } from '../../../src/cert/pkcs12-kdf.js';

test('the PKCS#12 KDF matches node-forge for SHA-1 and SHA-256, every purpose, ASCII and non-ASCII', () => {
  const salts = [Buffer.from('0102030405060708', 'hex'), Buffer.alloc(20, 0xa5)];
  for (const password of ['smeg', 'Pässwörd-€', '']) {
    for (const salt of salts) {
      for (const [digest, length] of [
        ['sha1', 24],
        ['sha1', 8],
        ['sha1', 5],
        ['sha256', 32],
        ['sha256', 70],
      ] as const) {
        for (const purpose of [1, 2, 3]) {
          for (const iterations of [1, 3]) {
            const ours = pkcs12Kdf(digest, passwordForms(password).bmp, salt, purpose, iterations, length);
            const md = digest === 'sha1' ? forge.md.sha1.create() : forge.md.sha256.create();
            const theirs = forge.pkcs12.generateKey(
              password,
              forge.util.createBuffer(salt.toString('binary')),
              purpose,
              iterations,
              length,
              md,
            );
            assert.equal(
              ours.toString('hex'),
              theirs.toHex(),
              `${digest} ${password} ${purpose} ${iterations} ${length}`,
            );
          }
        }
      }
    }
  }
});

test('the KDF refuses absurd iteration counts instead of hanging', () => {
  assert.throws(() => pkcs12Kdf('sha1', Buffer.alloc(2), Buffer.alloc(8), 1, 5_000_000, 24), RangeError);
  assert.throws(() => pkcs12Kdf('sha1', Buffer.alloc(2), Buffer.alloc(8), 1, 0, 24), RangeError);
});

test('password forms: BMP with terminator for PKCS#12, UTF-8 for PBES2, and two tries for an empty one', () => {
  const forms = passwordForms('ä€');
  assert.equal(forms.bmp.toString('hex'), '00e420ac0000');
  assert.equal(forms.utf8.toString('hex'), 'c3a4e282ac');
  assert.deepEqual(
    macPasswordCandidates('').map((f) => f.bmp.toString('hex')),
    ['0000', ''],
  );
  assert.equal(macPasswordCandidates('x').length, 1);
  // Characters outside the BMP go in as surrogate pairs, as OpenSSL and Windows do.
  assert.equal(passwordForms('😀').bmp.toString('hex'), 'd83dde000000');
});

test('BER: indefinite lengths, long-form lengths and multi-byte tags parse', () => {
  const indefinite = parseAsn1(Buffer.from('3080020103' + '2480040261620401630000' + '0000', 'hex'));
  assert.equal(indefinite.children.length, 2);
  assert.equal(indefinite.children[1]!.children.map((c) => c.content.toString()).join(''), 'abc');
  const long = parseAsn1(Buffer.concat([Buffer.from('048200c8', 'hex'), Buffer.alloc(200, 7)]));
  assert.equal(long.content.length, 200);
  const highTag = parseAsn1(Buffer.from('9f8170' + '01' + 'ff', 'hex'));
  assert.equal(highTag.tagNumber, 240);
  assert.equal(highTag.tagClass, 2);
});

test('BER: truncation, leftovers, absurd lengths and deep nesting are Asn1Errors', () => {
  for (const hex of ['3005020103', '300302010300', '0485ffffffffff', '0480', '30', '']) {
    assert.throws(() => parseAsn1(Buffer.from(hex, 'hex')), Asn1Error, hex);
  }
  // 40 nested indefinite-length SEQUENCEs: a crafted file must not exhaust the stack.
  const nested = Buffer.from([
    ...Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? 0x30 : 0x80)),
    ...Array(80).fill(0),
  ]);
  assert.throws(() => parseAsn1(nested), /too deep/);
});

test('DER: OIDs, integers, SET OF ordering and BMPString round-trip', () => {
  for (const oid of ['1.2.840.113549.1.12.10.1.2', '2.999.3', '1.3.6.1.4.1.311.17.1', '2.5.29.15']) {
    assert.equal(decodeOid(parseAsn1(der.oid(oid)).content), oid);
  }
  assert.equal(der.oid('1.2.840.113549').toString('hex'), '06062a864886f70d');
  assert.equal(der.integer(3).toString('hex'), '020103');
  assert.equal(der.integer(2048).toString('hex'), '02020800');
  assert.equal(der.integer(128).toString('hex'), '02020080');
  assert.equal(der.integer(Buffer.from('0000ff', 'hex')).toString('hex'), '020200ff');
  assert.equal(der.setOf(der.integer(5), der.integer(1)).toString('hex'), '3106020101020105');
  assert.equal(decodeBmp(parseAsn1(der.bmpString('Grüße €')).content), 'Grüße €');
  assert.equal(der.bitString(Buffer.from([0x10]), 4).toString('hex'), '03020410');
  assert.equal(der.octetString(Buffer.alloc(300)).subarray(0, 4).toString('hex'), '0482012c');
});
