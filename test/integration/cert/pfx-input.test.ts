// Getting PFX bytes in: decodePfxBase64 (the ways a PFX secret gets mangled on its way into a secret
// store) and readPfxFile (a wrong path is bad input, a usage error, not a certificate problem).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePfxBase64, InputError, inspectPfx, loadPfx, readPfxFile } from '../../../src/cert/index.js';
import { makeLeaf, makePfx, makeScratchDir, writePfxFile } from '../../support/certs.js';

const field = 'certificate.pfxBase64';
const password = 'b64-secret';
const pfx = makePfx(makeLeaf(), { password });
const encoded = pfx.toString('base64');

function rejects(text: string, problem: RegExp, fix: RegExp = /base64 -w0.*ToBase64String/): InputError {
  let caught: unknown;
  try {
    decodePfxBase64(text, field);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`);
  assert.equal(caught.field, field);
  assert.match(caught.problem, problem);
  assert.match(caught.fix, fix);
  assert.ok(caught.message.startsWith(`${field}: `));
  // The secret itself never appears in the error.
  assert.ok(!caught.message.includes(encoded.slice(100, 140)));
  return caught;
}

test('a one-line base64 PFX decodes to the same bytes, which load', () => {
  const bytes = decodePfxBase64(encoded, field);
  assert.ok(bytes.equals(pfx));
  assert.deepEqual(loadPfx(bytes, password).problems, []);
});

test('a trailing line break, CRLF or a BOM around the value is tolerated', () => {
  assert.ok(decodePfxBase64(`${encoded}\n`, field).equals(pfx));
  assert.ok(decodePfxBase64(`${encoded}\r\n`, field).equals(pfx));
  assert.ok(decodePfxBase64(`\uFEFF${encoded}`, field).equals(pfx));
});

test('base64 without "=" padding is accepted', () => {
  const unpadded = encoded.replace(/=+$/, '');
  assert.ok(decodePfxBase64(unpadded, field).equals(pfx));
});

test('an empty or blank value is rejected', () => {
  rejects('', /is empty/);
  rejects(' \n\t', /is empty/);
});

test('base64 wrapped into 76-character lines is rejected, naming -w0 and ToBase64String', () => {
  const wrapped = encoded.replace(/(.{76})/g, '$1\n');
  const error = rejects(wrapped, /line break or space inside.*character 77/);
  assert.match(error.fix, /base64 -w0 cert\.pfx/);
  assert.match(error.fix, /\[Convert\]::ToBase64String/);
});

test('Windows line breaks (certutil -encode style) and inner spaces are rejected', () => {
  rejects(encoded.replace(/(.{64})/g, '$1\r\n'), /line break or space inside/);
  rejects(`${encoded.slice(0, 10)} ${encoded.slice(10)}`, /line break or space inside.*character 11/);
});

test('a data-URL prefix is rejected with the part to remove', () => {
  rejects(`data:application/x-pkcs12;base64,${encoded}`, /data-URL prefix/, /up to and including the comma/);
});

test('PEM armour pasted instead of a PFX is rejected', () => {
  rejects(
    `-----BEGIN CERTIFICATE-----\n${encoded.slice(0, 64)}\n-----END CERTIFICATE-----`,
    /PEM text \(-----BEGIN CERTIFICATE-----\)/,
    /openssl pkcs12 -export/,
  );
  rejects(
    `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${encoded.slice(0, 64)}`,
    /ENCRYPTED PRIVATE KEY/,
    /openssl pkcs12 -export/,
  );
});

test('typographic quotes pasted from a web page are caught and named', () => {
  rejects(`\u201C${encoded}\u201D`, /typographic quote \(U\+201C/, /without any quotes/);
  rejects(`\u2018${encoded}\u2019`, /typographic quote \(U\+2018/, /without any quotes/);
});

test('straight quotes around the value are rejected', () => {
  rejects(`"${encoded}"`, /wrapped in quotes/, /without the surrounding quotes/);
  rejects(`'${encoded}'`, /wrapped in quotes/, /without the surrounding quotes/);
});

test('a character outside the base64 alphabet is named by code point and position', () => {
  rejects(`${encoded.slice(0, 20)}%${encoded.slice(21)}`, /not base64 \(U\+0025 at character 21\)/);
  rejects(`${encoded.slice(0, 5)}é${encoded.slice(6)}`, /not base64 \(U\+00E9 at character 6\)/);
});

test('the URL-safe alphabet is rejected', () => {
  const urlSafe = pfx.toString('base64url');
  assert.match(urlSafe, /[-_]/, 'fixture must contain - or _');
  rejects(urlSafe, /URL-safe base64/);
});

test('a cut-off value or misplaced padding is rejected', () => {
  const core = encoded.replace(/=+$/, '');
  rejects(core.slice(0, Math.floor(core.length / 4) * 4 - 3), /length or "=" padding/);
  rejects('QUJD=RA==', /length or "=" padding/);
  rejects('QUJDRA=', /length or "=" padding/);
});

test('a value encoded twice is rejected', () => {
  rejects(Buffer.from(encoded).toString('base64'), /encoded twice/, /once/);
});

test('the base64 of a PEM file is rejected', () => {
  const pemAsBase64 = Buffer.from(makeLeaf().pem).toString('base64');
  rejects(pemAsBase64, /decodes to PEM text \(-----BEGIN CERTIFICATE-----\)/, /binary \.pfx/);
});

// ---- files

const scratch = makeScratchDir();
after(() => scratch.remove());

test('reads a PFX file written by the factory', () => {
  const path = writePfxFile(scratch.path, 'crm.pfx', makeLeaf(), { password: 'file-pw', encoding: 'openssl-3des' });
  const { report } = inspectPfx(readPfxFile(path, '--pfx'), 'file-pw');
  assert.equal(report.subject, 'CN=crm.contoso.com, O=Contoso Test, C=US');
});

test('a missing file, a directory or a huge file is an InputError naming the field', () => {
  const cases: [string, RegExp][] = [
    [join(scratch.path, 'missing.pfx'), /does not exist/],
    [scratch.path, /is not a file/],
  ];
  const huge = join(scratch.path, 'huge.pfx');
  writeFileSync(huge, Buffer.alloc(2 * 1024 * 1024));
  cases.push([huge, /far too large/]);
  for (const [path, problem] of cases) {
    assert.throws(
      () => readPfxFile(path, '--pfx'),
      (error: unknown) => error instanceof InputError && error.field === '--pfx' && problem.test(error.problem),
      path,
    );
  }
});
