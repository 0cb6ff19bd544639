// Unpacks a PKCS#12 (PFX) file with node-forge into certificates (DER) and private keys (PKCS#8 DER),
// telling a wrong password apart from a damaged or foreign file.
//
// Passwords: forge hands one string to the PKCS#12 KDF (MAC, 3DES/RC2 bags) as UTF-16, which is right,
// and to PBKDF2 (PBES2/AES bags, OpenSSL 3's default) one byte per character, which is wrong beyond
// ASCII: OpenSSL and Windows feed PBKDF2 the UTF-8 bytes. So when the MAC has verified with the UTF-16
// form but something does not decrypt, a non-ASCII password is tried again part by part (each part of
// the AuthenticatedSafe as a PFX of its own, without the MAC), also as forge.util.encodeUtf8(password):
// a binary string of the UTF-8 bytes, which forge's PBKDF2 uses as is. Part by part, because a file may
// mix PBES2 certificates with a 3DES key (openssl -keypbe PBE-SHA1-3DES).
import forge from 'node-forge';
import {
  type Asn1,
  Asn1ShapeError,
  childrenOf,
  der,
  explicitChild,
  integerOf,
  octetsOf,
  oidOf,
  parseDer,
  toBuffer,
} from './forge-asn1.js';
import { Oid } from './oids.js';

export interface PfxBagAttributes {
  localKeyId: Buffer | null;
  friendlyName: string | null;
}

export interface PfxCertificateEntry extends PfxBagAttributes {
  der: Buffer;
}

export interface PfxKeyEntry extends PfxBagAttributes {
  /** The PKCS#8 PrivateKeyInfo, decrypted: keep it in memory only. */
  pkcs8: Buffer;
  /** Algorithm OID from the PrivateKeyInfo (rsaEncryption, id-ecPublicKey, ...). */
  algorithmOid: string;
}

export interface PfxContents {
  certificates: PfxCertificateEntry[];
  keys: PfxKeyEntry[];
}

export class PfxReadError extends Error {
  readonly failure: 'unreadable' | 'bad-password';
  constructor(failure: 'unreadable' | 'bad-password', message: string) {
    super(message);
    this.name = 'PfxReadError';
    this.failure = failure;
  }
}

/** Refuse absurd iteration counts before spending minutes on them (OpenSSL writes 2048, Windows 2000). */
export const maxIterations = 1_000_000;

const macFailure = 'PKCS#12 MAC could not be verified. Invalid password?';

export function readPkcs12(data: Buffer, password: string): PfxContents {
  try {
    const pfx = parseDer(data);
    checkStructure(pfx);
    let failure: unknown;
    for (const form of passwordForms(password)) {
      try {
        return contentsOf(open(pfx, form));
      } catch (error) {
        failure = error;
        if (!isMacFailure(error)) break;
      }
    }
    throw judge(pfx, password, failure);
  } catch (error) {
    if (error instanceof Asn1ShapeError)
      throw new PfxReadError('unreadable', `its structure is broken (${error.message})`);
    throw error;
  }
}

/**
 * An empty password is ambiguous in PKCS#12: tools write its UTF-16 form either as the two terminator
 * bytes ('') or as nothing at all (undefined for forge); OpenSSL and Windows try both when reading.
 */
function passwordForms(password: string): (string | undefined)[] {
  return password === '' ? ['', undefined] : [password];
}

type SafeContents = forge.pkcs12.Pkcs12Pfx['safeContents'];

function open(pfx: Asn1, password: string | undefined): SafeContents {
  try {
    return forge.pkcs12.pkcs12FromAsn1(pfx, true, password).safeContents;
  } catch (error) {
    const utf8 = password === undefined ? password : forge.util.encodeUtf8(password);
    // Only a non-ASCII password has another form, and only a verified (or absent) MAC makes it worth trying.
    if (utf8 === password || isMacFailure(error) || isUnsupported(error)) throw error;
    const [version] = childrenOf(pfx, 'PFX');
    return contentInfos(pfx).flatMap((contentInfo) => {
      for (const form of [password, utf8]) {
        try {
          return forge.pkcs12.pkcs12FromAsn1(singlePart(version!, contentInfo), true, form).safeContents;
        } catch {
          // the other form
        }
      }
      throw error;
    });
  }
}

/** One ContentInfo of the AuthenticatedSafe as a PFX of its own, without MAC. */
function singlePart(version: Asn1, contentInfo: Asn1): Asn1 {
  const content = der.octetString(toBuffer(der.sequence(contentInfo)));
  return der.sequence(version, der.sequence(der.oid(Oid.data), der.context(0, content)));
}

function isMacFailure(error: unknown): boolean {
  return error instanceof Error && error.message === macFailure;
}

/** forge's errors for algorithms, bag and content types it does not implement. */
function isUnsupported(error: unknown): boolean {
  return error instanceof Error && /unsupported/i.test(error.message);
}

function contentsOf(safeContents: SafeContents): PfxContents {
  const contents: PfxContents = { certificates: [], keys: [] };
  for (const bag of safeContents.flatMap((safe) => safe.safeBags)) {
    const attributes = {
      localKeyId: firstAttribute(bag, 'localKeyId', (id) => Buffer.from(id, 'binary')),
      friendlyName: firstAttribute(bag, 'friendlyName', (name) => name),
    };
    if (bag.type === Oid.certBag) {
      // forge parses RSA certificates (keeping the TBSCertificate as read) and leaves others as ASN.1.
      const der = toBuffer(bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1);
      contents.certificates.push({ der, ...attributes });
    } else if (bag.key) {
      const pkcs8 = toBuffer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)));
      contents.keys.push({ pkcs8, algorithmOid: Oid.rsaEncryption, ...attributes });
    } else {
      // A key forge cannot parse (EC, or a damaged RSA key): its PrivateKeyInfo as decrypted.
      contents.keys.push({ pkcs8: toBuffer(bag.asn1), algorithmOid: keyAlgorithm(bag.asn1), ...attributes });
    }
  }
  return contents;
}

function firstAttribute<T>(bag: forge.pkcs12.Bag, name: string, convert: (value: string) => T): T | null {
  const values = (bag.attributes as Record<string, unknown[] | undefined>)[name];
  return typeof values?.[0] === 'string' ? convert(values[0]) : null;
}

function keyAlgorithm(privateKeyInfo: Asn1): string {
  try {
    return oidOf(childrenOf(childrenOf(privateKeyInfo, 'PrivateKeyInfo')[1], 'algorithm')[0], 'algorithm');
  } catch {
    return 'unknown';
  }
}

// ---- checks before forge decrypts anything

/** Version, integrity and privacy modes, and every iteration count readable before decryption. */
function checkStructure(pfx: Asn1): void {
  const [versionNode, authSafe, macData] = childrenOf(pfx, 'PFX');
  const version = integerOf(versionNode, 'PFX version');
  if (version !== 3) throw new PfxReadError('unreadable', `it has PKCS#12 version ${version} (only version 3 exists)`);
  const contentType = oidOf(childrenOf(authSafe, 'PFX authSafe')[0], 'PFX authSafe content type');
  if (contentType === Oid.signedData) {
    throw new PfxReadError('unreadable', 'it uses public-key integrity mode (signed), which needs no password');
  }
  if (contentType !== Oid.data) throw new PfxReadError('unreadable', `its content type ${contentType} is not data`);
  if (macData !== undefined) {
    const [digestInfo, , iterations] = childrenOf(macData, 'PFX macData');
    const [algorithm] = childrenOf(childrenOf(digestInfo, 'PFX MAC')[0], 'PFX MAC algorithm');
    if (oidOf(algorithm, 'PFX MAC algorithm') === Oid.pbmac1) {
      throw new PfxReadError(
        'unreadable',
        'it is protected with a PBMAC1 integrity check (OpenSSL 3.4+ -pbmac1_pbkdf2), which this tool cannot verify',
      );
    }
    if (iterations !== undefined) checkIterations(integerOf(iterations, 'PFX MAC iterations'), 'MAC iterations');
  }
  for (const contentInfo of contentInfos(pfx)) {
    const [typeNode, content] = childrenOf(contentInfo, 'ContentInfo');
    const type = oidOf(typeNode, 'ContentInfo type');
    if (type === Oid.envelopedData) {
      throw new PfxReadError('unreadable', 'it uses public-key privacy mode (enveloped data), not a password');
    }
    if (type === Oid.encryptedData) {
      const [, encryptedContentInfo] = childrenOf(explicitChild(content, 0, 'EncryptedData'), 'EncryptedData');
      checkAlgorithm(childrenOf(encryptedContentInfo, 'EncryptedContentInfo')[1]);
    } else if (type === Oid.data) {
      const safeContents = parseDer(octetsOf(explicitChild(content, 0, 'ContentInfo data'), 'ContentInfo data'));
      for (const safeBag of childrenOf(safeContents, 'SafeContents')) {
        const [bagId, bagValue] = childrenOf(safeBag, 'SafeBag');
        if (oidOf(bagId, 'SafeBag type') !== Oid.pkcs8ShroudedKeyBag) continue;
        checkAlgorithm(childrenOf(explicitChild(bagValue, 0, 'SafeBag value'), 'EncryptedPrivateKeyInfo')[0]);
      }
    }
  }
}

function contentInfos(pfx: Asn1): Asn1[] {
  const [, authSafe] = childrenOf(pfx, 'PFX');
  const octets = octetsOf(explicitChild(childrenOf(authSafe, 'PFX authSafe')[1], 0, 'authSafe'), 'authSafe');
  return childrenOf(parseDer(octets), 'AuthenticatedSafe');
}

/** The iteration count of a PKCS#12 PBE (SEQUENCE {salt, iterations}) or PBES2/PBKDF2 algorithm. */
function checkAlgorithm(algorithm: Asn1 | undefined): void {
  const [oidNode, params] = childrenOf(algorithm, 'encryption algorithm');
  const oid = oidOf(oidNode, 'encryption algorithm');
  const pbkdf2 = oid === Oid.pbes2;
  if (!pbkdf2 && !oid.startsWith(Oid.pkcs12PbePrefix)) return; // forge names what it does not support
  const saltAndCount = pbkdf2 ? childrenOf(childrenOf(params, 'PBES2')[0], 'PBES2 key derivation')[1] : params;
  checkIterations(integerOf(childrenOf(saltAndCount, 'PBE parameters')[1], 'iterations'), 'iterations');
}

function checkIterations(count: number, what: string): void {
  if (count < 1 || count > maxIterations) {
    throw new PfxReadError('unreadable', `it uses ${count} ${what} (this tool accepts 1..${maxIterations})`);
  }
}

// ---- wrong password or damaged file?

/**
 * A failed MAC means a wrong password or an altered file: if some encrypted part still decrypts with
 * this password, the password is right and the file is damaged. Without a MAC, only decryption tells.
 */
function judge(pfx: Asn1, password: string, error: unknown): PfxReadError {
  const message = error instanceof Error ? error.message : String(error);
  const unsupported = isUnsupported(error) ? `it uses something this tool cannot read (${describe(error)})` : null;
  const hasMac = childrenOf(pfx, 'PFX').length > 2;
  if (hasMac && !isMacFailure(error)) {
    return new PfxReadError(
      'unreadable',
      unsupported ?? `it does not decrypt although the password is right (${message})`,
    );
  }
  const confirmed = contentInfos(pfx).some((contentInfo) => passwordOpens(contentInfo, pfx, password));
  if (isMacFailure(error)) {
    return confirmed
      ? new PfxReadError(
          'unreadable',
          'its integrity check (MAC) fails although the password decrypts its contents: the file was damaged or altered after export',
        )
      : new PfxReadError('bad-password', 'the integrity check (MAC) fails with this password');
  }
  if (!confirmed && unsupported === null) {
    return new PfxReadError('bad-password', 'it has no integrity MAC and its contents do not decrypt');
  }
  return new PfxReadError(
    'unreadable',
    unsupported ?? `part of it does not decrypt although the password is right (${message})`,
  );
}

/** Whether `password` decrypts this one part (as a PFX of its own) and it was encrypted at all. */
function passwordOpens(contentInfo: Asn1, pfx: Asn1, password: string): boolean {
  const [version] = childrenOf(pfx, 'PFX');
  return passwordForms(password).some((form) => {
    try {
      return open(singlePart(version!, contentInfo), form).some(
        (safe) => safe.encrypted || safe.safeBags.some((bag) => bag.type === Oid.pkcs8ShroudedKeyBag),
      );
    } catch {
      return false;
    }
  });
}

function describe(error: unknown): string {
  const { message, oid } = error as { message: string; oid?: unknown };
  if (typeof oid !== 'string' || !/^\d+(\.\d+)+$/.test(oid)) return message;
  return `${message.replace(/\.$/, '')}: ${forge.pki.oids[oid] ?? oid}`;
}
