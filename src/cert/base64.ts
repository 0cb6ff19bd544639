// Decodes a PFX stored as a base64 pipeline secret, catching the usual ways it gets mangled on the way
// into a secret store. Errors name the field and never echo the secret.
import { InputError } from './errors.js';

const oneLineFix =
  'Store the PFX as one line of standard base64: `base64 -w0 cert.pfx` (Linux), `base64 -i cert.pfx` (macOS) or ' +
  "`[Convert]::ToBase64String([IO.File]::ReadAllBytes('cert.pfx'))` (PowerShell).";

const typographicQuotes = /[\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u201F]/;
const dataUrl = /^data:[^,]*,/i;
const pemArmour = /-----BEGIN ([A-Z0-9 ]+)-----/;
const base64Alphabet = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a base64 secret into PFX bytes, or throws an InputError naming `field` and the fix. */
export function decodePfxBase64(text: string, field: string): Buffer {
  // A trailing line break (echo, a file saved by an editor) or a BOM is noise, not damage.
  const value = text.replace(/^\uFEFF/, '').trim();
  if (value === '') throw new InputError(field, 'is empty.', oneLineFix);

  const quote = typographicQuotes.exec(value);
  if (quote) {
    throw new InputError(
      field,
      `contains a typographic quote (U+${codePoint(quote[0])}, ${quote[0]}), typically pasted from a web page or a word processor.`,
      `Paste the raw base64 without any quotes. ${oneLineFix}`,
    );
  }
  if (/^["'].*["']$/s.test(value)) {
    throw new InputError(field, 'is wrapped in quotes.', 'Store the base64 text without the surrounding quotes.');
  }
  if (dataUrl.test(value)) {
    throw new InputError(
      field,
      'starts with a data-URL prefix (data:...;base64,).',
      'Remove everything up to and including the comma and store only the base64 that follows.',
    );
  }
  const pem = pemArmour.exec(value);
  if (pem) {
    throw new InputError(
      field,
      `holds PEM text (-----BEGIN ${pem[1]}-----), not a base64-encoded PFX.`,
      'Combine certificate and key into a PFX first (`openssl pkcs12 -export -in cert.pem -inkey key.pem ' +
        `-certfile chain.pem -out cert.pfx\`), then encode the PFX. ${oneLineFix}`,
    );
  }
  const whitespace = /\s/.exec(value);
  if (whitespace) {
    throw new InputError(
      field,
      `contains a line break or space inside the base64 (at character ${whitespace.index + 1}): it was wrapped into lines.`,
      oneLineFix,
    );
  }
  if (/[-_]/.test(value) && !/[+/]/.test(value)) {
    throw new InputError(field, 'uses the URL-safe base64 alphabet (- and _).', oneLineFix);
  }
  const invalid = /[^A-Za-z0-9+/=]/.exec(value);
  if (invalid) {
    throw new InputError(
      field,
      `contains a character that is not base64 (U+${codePoint(invalid[0])} at character ${invalid.index + 1}).`,
      oneLineFix,
    );
  }
  if (!base64Alphabet.test(value) || value.length % 4 === 1 || (value.includes('=') && value.length % 4 !== 0)) {
    throw new InputError(field, 'is not valid base64: its length or "=" padding is wrong (cut off?).', oneLineFix);
  }

  const bytes = Buffer.from(value, 'base64');
  const decodedHead = bytes.subarray(0, 64).toString('latin1');
  const innerPem = pemArmour.exec(decodedHead);
  if (innerPem) {
    throw new InputError(
      field,
      `decodes to PEM text (-----BEGIN ${innerPem[1]}-----), not to a PFX.`,
      'Encode the binary .pfx file, not a .pem/.crt/.key file. Make a PFX with `openssl pkcs12 -export` first if needed.',
    );
  }
  if (/^MI[I-M][A-Za-z0-9+/]{20}/.test(decodedHead)) {
    throw new InputError(field, 'is base64-encoded twice.', `Encode the binary .pfx file once. ${oneLineFix}`);
  }
  return bytes;
}

function codePoint(char: string): string {
  return (char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}
