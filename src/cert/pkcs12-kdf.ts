// The PKCS#12 key derivation (RFC 7292 appendix B.2) on node:crypto hashes, and the password forms.
//
// PKCS#12 feeds passwords to its own KDF (MAC key, legacy PBE keys) as a BMPString: UTF-16BE plus two
// zero bytes. PBES2 (AES, OpenSSL 3's default) feeds the same password to PBKDF2 as UTF-8 bytes. node-forge
// uses one string for both, so a non-ASCII password never opens an OpenSSL 3 file there; we keep both forms.
import { createHash } from 'node:crypto';
import { bmpBytes } from './asn1.js';

export type DigestName = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

const digestSizes: Readonly<Record<DigestName, { output: number; block: number }>> = {
  md5: { output: 16, block: 64 },
  sha1: { output: 20, block: 64 },
  sha224: { output: 28, block: 64 },
  sha256: { output: 32, block: 64 },
  sha384: { output: 48, block: 128 },
  sha512: { output: 64, block: 128 },
};

export function digestOutputSize(digest: DigestName): number {
  return digestSizes[digest].output;
}

/** Refuse absurd iteration counts before spending minutes on them (OpenSSL writes 2048, Windows 2000). */
export const maxIterations = 1_000_000;

/** The PKCS#12 KDF purposes. */
export const KdfPurpose = { encryptionKey: 1, iv: 2, macKey: 3 } as const;

export interface PfxPassword {
  /** BMPString form for the PKCS#12 KDF (empty buffer = the "NULL password" some tools write). */
  bmp: Buffer;
  /** UTF-8 form for PBKDF2 (PBES2). */
  utf8: Buffer;
}

export function passwordForms(password: string): PfxPassword {
  return { bmp: Buffer.concat([bmpBytes(password), Buffer.alloc(2)]), utf8: Buffer.from(password, 'utf8') };
}

/**
 * The BMP forms to try on the MAC. An empty password is ambiguous in PKCS#12: OpenSSL and Windows
 * write either the two terminator bytes or nothing at all, and both try both when reading.
 */
export function macPasswordCandidates(password: string): PfxPassword[] {
  const forms = passwordForms(password);
  return password === '' ? [forms, { bmp: Buffer.alloc(0), utf8: forms.utf8 }] : [forms];
}

function repeatToLength(source: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  if (source.length === 0) return out;
  for (let i = 0; i < length; i += source.length) source.copy(out, i, 0, Math.min(source.length, length - i));
  return out;
}

export function pkcs12Kdf(
  digest: DigestName,
  passwordBmp: Buffer,
  salt: Buffer,
  purpose: number,
  iterations: number,
  length: number,
): Buffer {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > maxIterations) {
    throw new RangeError(`PKCS#12 iteration count ${iterations} is outside 1..${maxIterations}`);
  }
  const { output: u, block: v } = digestSizes[digest];
  const diversifier = Buffer.alloc(v, purpose);
  const saltPart = repeatToLength(salt, v * Math.ceil(salt.length / v));
  const passwordPart = repeatToLength(passwordBmp, v * Math.ceil(passwordBmp.length / v));
  const input = Buffer.concat([saltPart, passwordPart]);
  const blocks: Buffer[] = [];
  const rounds = Math.ceil(length / u);
  for (let round = 0; round < rounds; round++) {
    let a = createHash(digest).update(diversifier).update(input).digest();
    for (let i = 1; i < iterations; i++) a = createHash(digest).update(a).digest();
    blocks.push(a);
    if (round === rounds - 1) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of the input.
    const b = repeatToLength(a, v);
    for (let offset = 0; offset < input.length; offset += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (input[offset + k] as number) + (b[k] as number) + carry;
        input[offset + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}
