// Recognises the things people hand over instead of a PFX, so the message can name them.
import forge from 'node-forge';
import { childrenOf, oidOf, parseDer } from './forge-asn1.js';
import { Oid } from './oids.js';

const pemArmour = /-----BEGIN ([A-Z0-9 ]+)-----/;
const base64Text = /^[A-Za-z0-9+/=\r\n\t ]+$/;

/** Says what `bytes` are when they are clearly not a PKCS#12 file; null when they might be one. */
export function describeNonPfx(bytes: Buffer): string | null {
  if (bytes.length === 0) return 'it is empty';
  if (bytes[0] === 0x30) return describeOtherDer(bytes);
  const { text, encoding } = decodeText(bytes.subarray(0, 8192));
  const pem = pemArmour.exec(text);
  if (pem) return `it is PEM text (${pem[1]}), not a binary PFX`;
  if (base64Text.test(text) && /^MI[I-M]/.test(text.trimStart())) {
    return (
      `it holds base64 text${encoding}; decode it to the binary PFX first ` +
      "(base64 -d, or [IO.File]::WriteAllBytes('cert.pfx', [Convert]::FromBase64String((Get-Content -Raw cert.txt))))"
    );
  }
  if (encoding !== '' || isMostlyText(bytes)) return `it is a text file${encoding}, not a binary PFX`;
  return 'it does not start like a PKCS#12 file';
}

/**
 * Text as written by editors and shells: a BOM names the encoding. Windows PowerShell 5.1's `>` and
 * Out-File write UTF-16LE with a BOM, a classic way to mangle a base64 PFX on its way to a file.
 */
function decodeText(bytes: Buffer): { text: string; encoding: string } {
  if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return { text: bytes.subarray(2).toString('utf16le'), encoding: ' (UTF-16LE)' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    return { text: swapped.swap16().toString('utf16le'), encoding: ' (UTF-16BE)' };
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: bytes.subarray(3).toString('utf8'), encoding: ' (UTF-8 with BOM)' };
  }
  return { text: bytes.toString('latin1'), encoding: '' };
}

function isMostlyText(bytes: Buffer): boolean {
  const sample = bytes.subarray(0, 512);
  let printable = 0;
  // Bytes from 0x80 up count as text: UTF-8 encodes every non-ASCII character with them.
  for (const b of sample) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0x80) printable++;
  return printable / sample.length > 0.95;
}

/** DER files that are not a PFX: a single certificate (.cer) or a PKCS#7 bundle (.p7b). */
function describeOtherDer(bytes: Buffer): string | null {
  const { SEQUENCE, OID } = forge.asn1.Type;
  try {
    const children = childrenOf(parseDer(bytes), 'file');
    const [first, second] = children;
    if (children.length === 3 && first?.type === SEQUENCE && second?.type === SEQUENCE) {
      return 'it is a single certificate (.cer/.crt) without its private key';
    }
    if (first?.type === OID && oidOf(first, 'content type') === Oid.signedData) {
      return 'it is a PKCS#7 certificate bundle (.p7b) without a private key';
    }
  } catch {
    // Not even valid DER: the PKCS#12 reader will say what is broken.
  }
  return null;
}
