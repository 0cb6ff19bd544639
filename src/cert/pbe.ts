// Password-based encryption of PKCS#12 contents: PBES2 (PBKDF2 + AES/3DES, OpenSSL 3's default) and the
// PKCS#12 PBE schemes (3DES, RC2 — what Windows and `openssl -legacy` write).
// node:crypto does the work; RC2 comes from node-forge because OpenSSL 3 only has it in the legacy
// provider, which Node does not load.
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import {
  type Asn1Node,
  Asn1Error,
  der,
  expectOctets,
  expectOid,
  expectSequence,
  expectSmallInteger,
  isUniversal,
  Tag,
} from './asn1.js';
import { Oid } from './oids.js';
import { type DigestName, type PfxPassword, KdfPurpose, maxIterations, pkcs12Kdf } from './pkcs12-kdf.js';

/** The algorithm is one we cannot run: the file is unreadable here whatever the password. Messages start with a verb ("is encrypted with ..."). */
export class UnsupportedAlgorithmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedAlgorithmError';
  }
}

/** Decryption produced no valid plaintext: a wrong password, or damaged ciphertext. */
export class DecryptionFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionFailedError';
  }
}

const pbes2Prfs: Readonly<Record<string, DigestName>> = {
  [Oid.hmacWithSha1]: 'sha1',
  [Oid.hmacWithSha224]: 'sha224',
  [Oid.hmacWithSha256]: 'sha256',
  [Oid.hmacWithSha384]: 'sha384',
  [Oid.hmacWithSha512]: 'sha512',
};

const pbes2Ciphers: Readonly<Record<string, { name: string; keyLength: number; label: string }>> = {
  [Oid.aes128Cbc]: { name: 'aes-128-cbc', keyLength: 16, label: 'AES-128-CBC' },
  [Oid.aes192Cbc]: { name: 'aes-192-cbc', keyLength: 24, label: 'AES-192-CBC' },
  [Oid.aes256Cbc]: { name: 'aes-256-cbc', keyLength: 32, label: 'AES-256-CBC' },
  [Oid.desEde3Cbc]: { name: 'des-ede3-cbc', keyLength: 24, label: '3DES-CBC' },
};

type Pkcs12Cipher = { kind: 'node'; name: string } | { kind: 'forge-rc2'; bits: number };

const pkcs12PbeSchemes: Readonly<Record<string, { cipher: Pkcs12Cipher; keyLength: number; label: string }>> = {
  [Oid.pbeSha1TripleDes]: {
    cipher: { kind: 'node', name: 'des-ede3-cbc' },
    keyLength: 24,
    label: 'pbeWithSHA1And3-KeyTripleDES-CBC',
  },
  [Oid.pbeSha1TwoKeyTripleDes]: {
    cipher: { kind: 'node', name: 'des-ede-cbc' },
    keyLength: 16,
    label: 'pbeWithSHA1And2-KeyTripleDES-CBC',
  },
  [Oid.pbeSha1Rc2_128]: {
    cipher: { kind: 'forge-rc2', bits: 128 },
    keyLength: 16,
    label: 'pbeWithSHA1And128BitRC2-CBC',
  },
  [Oid.pbeSha1Rc2_40]: { cipher: { kind: 'forge-rc2', bits: 40 }, keyLength: 5, label: 'pbeWithSHA1And40BitRC2-CBC' },
};

const unsupportedSchemes: Readonly<Record<string, string>> = {
  [Oid.pbeSha1Rc4_128]: 'pbeWithSHA1And128BitRC4',
  [Oid.pbeSha1Rc4_40]: 'pbeWithSHA1And40BitRC4',
};

function checkIterations(count: number): number {
  if (count < 1 || count > maxIterations) {
    throw new UnsupportedAlgorithmError(`uses ${count} iterations (this tool accepts 1..${maxIterations})`);
  }
  return count;
}

/** Decrypts `encrypted` as described by the AlgorithmIdentifier `algorithm`. */
export function pbeDecrypt(algorithm: Asn1Node, encrypted: Buffer, password: PfxPassword): Buffer {
  const [oidNode, params] = expectSequence(algorithm, 'encryption algorithm');
  const oid = expectOid(oidNode, 'encryption algorithm');
  if (oid === Oid.pbes2) return pbes2Decrypt(params, encrypted, password);
  const scheme = pkcs12PbeSchemes[oid];
  if (scheme !== undefined) {
    const [saltNode, iterationsNode] = expectSequence(params, 'PKCS#12 PBE parameters');
    const salt = expectOctets(saltNode, 'PKCS#12 PBE salt');
    const iterations = checkIterations(expectSmallInteger(iterationsNode, 'PKCS#12 PBE iterations'));
    const key = pkcs12Kdf('sha1', password.bmp, salt, KdfPurpose.encryptionKey, iterations, scheme.keyLength);
    const iv = pkcs12Kdf('sha1', password.bmp, salt, KdfPurpose.iv, iterations, 8);
    return scheme.cipher.kind === 'node'
      ? nodeDecrypt(scheme.cipher.name, key, iv, encrypted)
      : rc2Decrypt(scheme.cipher.bits, key, iv, encrypted);
  }
  const name = unsupportedSchemes[oid] ?? `algorithm ${oid}`;
  throw new UnsupportedAlgorithmError(`is encrypted with ${name}, which this tool cannot decrypt`);
}

/** A short name of the encryption scheme, for messages ("PBES2 AES-256-CBC"). */
export function describePbe(algorithm: Asn1Node): string {
  try {
    const [oidNode, params] = expectSequence(algorithm, 'encryption algorithm');
    const oid = expectOid(oidNode, 'encryption algorithm');
    if (oid === Oid.pbes2) {
      const [, scheme] = expectSequence(params, 'PBES2 parameters');
      const [cipherOid] = expectSequence(scheme, 'PBES2 encryption scheme');
      const cipher = pbes2Ciphers[expectOid(cipherOid, 'PBES2 cipher')];
      return `PBES2 ${cipher?.label ?? 'with an unknown cipher'}`;
    }
    return pkcs12PbeSchemes[oid]?.label ?? unsupportedSchemes[oid] ?? oid;
  } catch {
    return 'an unreadable encryption algorithm';
  }
}

function pbes2Decrypt(params: Asn1Node | undefined, encrypted: Buffer, password: PfxPassword): Buffer {
  const [kdf, scheme] = expectSequence(params, 'PBES2 parameters');
  const [kdfOidNode, kdfParams] = expectSequence(kdf, 'PBES2 key derivation');
  const kdfOid = expectOid(kdfOidNode, 'PBES2 key derivation');
  if (kdfOid !== Oid.pbkdf2)
    throw new UnsupportedAlgorithmError(`uses PBES2 with key derivation ${kdfOid} (only PBKDF2 is supported)`);
  const [saltNode, iterationsNode, ...optional] = expectSequence(kdfParams, 'PBKDF2 parameters');
  if (!isUniversal(saltNode, Tag.octetString)) {
    throw new UnsupportedAlgorithmError(
      'uses PBKDF2 with a salt from another source (only an explicit salt is supported)',
    );
  }
  const salt = expectOctets(saltNode, 'PBKDF2 salt');
  const iterations = checkIterations(expectSmallInteger(iterationsNode, 'PBKDF2 iterations'));
  let keyLength: number | undefined;
  let prf: DigestName = 'sha1';
  for (const node of optional) {
    if (isUniversal(node, Tag.integer)) {
      keyLength = expectSmallInteger(node, 'PBKDF2 key length');
    } else {
      const [prfOidNode] = expectSequence(node, 'PBKDF2 PRF');
      const prfOid = expectOid(prfOidNode, 'PBKDF2 PRF');
      const digest = pbes2Prfs[prfOid];
      if (digest === undefined)
        throw new UnsupportedAlgorithmError(`uses PBKDF2 with PRF ${prfOid}, which this tool cannot compute`);
      prf = digest;
    }
  }
  const [cipherOidNode, ivNode] = expectSequence(scheme, 'PBES2 encryption scheme');
  const cipherOid = expectOid(cipherOidNode, 'PBES2 cipher');
  const cipher = pbes2Ciphers[cipherOid];
  if (cipher === undefined)
    throw new UnsupportedAlgorithmError(`uses PBES2 with cipher ${cipherOid}, which this tool cannot decrypt`);
  if (keyLength !== undefined && keyLength !== cipher.keyLength) {
    throw new Asn1Error(`PBKDF2 key length ${keyLength} does not fit ${cipher.label}`);
  }
  const iv = expectOctets(ivNode, 'PBES2 IV');
  const key = pbkdf2Sync(password.utf8, salt, iterations, cipher.keyLength, prf);
  return nodeDecrypt(cipher.name, key, iv, encrypted);
}

function nodeDecrypt(cipherName: string, key: Buffer, iv: Buffer, encrypted: Buffer): Buffer {
  let decipher;
  try {
    decipher = createDecipheriv(cipherName, key, iv);
  } catch (error) {
    // A wrong IV length is a malformed file, not a wrong password.
    throw new Asn1Error(`cannot start ${cipherName}: ${(error as Error).message}`);
  }
  try {
    return Buffer.concat([decipher.update(encrypted), decipher.final()]);
  } catch {
    throw new DecryptionFailedError(`${cipherName} decryption failed (bad padding)`);
  }
}

function rc2Decrypt(bits: number, key: Buffer, iv: Buffer, encrypted: Buffer): Buffer {
  const cipher = forge.rc2.createDecryptionCipher(key.toString('binary'), bits);
  cipher.start(iv.toString('binary'));
  cipher.update(forge.util.createBuffer(encrypted.toString('binary')));
  if (!cipher.finish()) throw new DecryptionFailedError(`RC2-${bits} decryption failed (bad padding)`);
  return Buffer.from(cipher.output.getBytes(), 'binary');
}

export interface Pkcs12TripleDesResult {
  /** The AlgorithmIdentifier (pbeWithSHAAnd3-KeyTripleDES-CBC with salt and iterations). */
  algorithm: Buffer;
  encrypted: Buffer;
}

/** PKCS#12 PBE with SHA-1 and 3-key 3DES: the scheme every Windows importer reads. */
export function pkcs12TripleDesEncrypt(
  plain: Buffer,
  password: PfxPassword,
  iterations: number,
): Pkcs12TripleDesResult {
  const salt = randomBytes(8);
  const key = pkcs12Kdf('sha1', password.bmp, salt, KdfPurpose.encryptionKey, iterations, 24);
  const iv = pkcs12Kdf('sha1', password.bmp, salt, KdfPurpose.iv, iterations, 8);
  const cipher = createCipheriv('des-ede3-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const algorithm = der.sequence(
    der.oid(Oid.pbeSha1TripleDes),
    der.sequence(der.octetString(salt), der.integer(iterations)),
  );
  return { algorithm, encrypted };
}
