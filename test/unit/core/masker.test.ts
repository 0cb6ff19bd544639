import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Masker, MASK } from '../../../src/secrets/masker.js';
import { derivedForms } from '../../../src/secrets/derived-forms.js';

const SECRET = 'Pässwörd-€ with "quotes" & spaces';

test('a secret is masked in plain, base64, base64url, URL- and JSON-encoded forms', () => {
  const masker = new Masker();
  masker.add(SECRET);
  const forms = [
    SECRET,
    Buffer.from(SECRET).toString('base64'),
    Buffer.from(SECRET).toString('base64url'),
    encodeURIComponent(SECRET),
    JSON.stringify(SECRET).slice(1, -1),
  ];
  for (const form of forms) {
    const masked = masker.mask(`before ${form} after`);
    assert.equal(masked, `before ${MASK} after`, `form ${form}`);
  }
});

test('each line of a wrapped base64 rendering of a binary secret is masked', () => {
  const pfx = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
  const masker = new Masker();
  masker.add(pfx);
  const pem = pfx.toString('base64').match(/.{1,64}/g)!;
  for (const line of pem) assert.ok(!masker.mask(`x ${line} y`).includes(line));
  const mime = pfx.toString('base64').match(/.{1,76}/g)!;
  for (const line of mime) assert.ok(!masker.mask(line).includes(line));
});

test('multi-line secrets are masked line by line', () => {
  const masker = new Masker();
  masker.add('-----BEGIN KEY-----\nAAAABBBBCCCC\nDDDDEEEE\n-----END KEY-----');
  assert.equal(masker.mask('got DDDDEEEE here'), `got ${MASK} here`);
});

test('fragments shorter than four characters are not registered (they would mask ordinary words)', () => {
  assert.deepEqual(derivedForms('ab'), []);
  const masker = new Masker();
  masker.add('ab');
  assert.equal(masker.mask('about'), 'about');
});

test('the longest form is replaced first so no tail of a secret survives', () => {
  const masker = new Masker();
  masker.add('abcd');
  masker.add('abcdefgh');
  assert.equal(masker.mask('xx abcdefgh yy'), `xx ${MASK} yy`);
});
