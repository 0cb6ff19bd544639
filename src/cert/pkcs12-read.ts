// Unpacks a PKCS#12 (PFX) file into certificates and private keys, telling a wrong password apart
// from a damaged or foreign file.
//
// Why not node-forge's pkcs12FromAsn1: it passes one password string both to the PKCS#12 KDF (as
// UTF-16) and to PBKDF2 (as the low byte of each character), so a non-ASCII password cannot open an
// OpenSSL 3 (PBES2/AES) file; it also stops at the first failure, which hides whether the password was
// right. The structure walk below follows RFC 7292; crypto is node:crypto (RC2 via node-forge).
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type Asn1Node,
  Asn1Error,
  decodeBmp,
  expectOctets,
  expectOid,
  expectSequence,
  expectSet,
  expectSmallInteger,
  explicitChild,
  implicitOctets,
  isContext,
  isUniversal,
  parseAsn1,
  Tag,
} from './asn1.js';
import { digestNames, Oid } from './oids.js';
import { DecryptionFailedError, describePbe, pbeDecrypt, UnsupportedAlgorithmError } from './pbe.js';
import {
  type DigestName,
  type PfxPassword,
  digestOutputSize,
  KdfPurpose,
  macPasswordCandidates,
  maxIterations,
  pkcs12Kdf,
} from './pkcs12-kdf.js';

export interface BagAttributes {
  localKeyId: Buffer | null;
  friendlyName: string | null;
  /** Microsoft CSP/KSP name (1.3.6.1.4.1.311.17.1), e.g. from a Windows export. */
  cspName: string | null;
}

export interface PfxCertificateEntry {
  der: Buffer;
  attributes: BagAttributes;
}

export interface PfxKeyEntry {
  /** The PKCS#8 PrivateKeyInfo, decrypted: keep it in memory only. */
  pkcs8: Buffer;
  /** Algorithm OID from the PrivateKeyInfo (rsaEncryption, id-ecPublicKey, ...). */
  algorithmOid: string;
  attributes: BagAttributes;
}

export interface PfxContents {
  certificates: PfxCertificateEntry[];
  keys: PfxKeyEntry[];
}

export type PfxReadFailure = 'unreadable' | 'bad-password';

export class PfxReadError extends Error {
  readonly failure: PfxReadFailure;
  constructor(failure: PfxReadFailure, message: string) {
    super(message);
    this.name = 'PfxReadError';
    this.failure = failure;
  }
}

type MacState = 'verified' | 'failed' | 'absent';

/** What happened to each encrypted part: decides between wrong password and damage. */
interface DecryptionLog {
  succeeded: number;
  failed: string[];
}

const maxNesting = 4;

export function readPkcs12(data: Buffer, password: string): PfxContents {
  try {
    return readPfx(data, password);
  } catch (error) {
    if (error instanceof PfxReadError) throw error;
    if (error instanceof Asn1Error) throw new PfxReadError('unreadable', `its structure is broken (${error.message})`);
    if (error instanceof UnsupportedAlgorithmError) throw new PfxReadError('unreadable', `it ${error.message}`);
    throw error;
  }
}

function readPfx(data: Buffer, password: string): PfxContents {
  const [versionNode, authSafe, macData, ...extra] = expectSequence(parseAsn1(data), 'PFX');
  if (extra.length > 0) throw new Asn1Error('PFX: unexpected trailing fields');
  const version = expectSmallInteger(versionNode, 'PFX version');
  if (version !== 3) throw new PfxReadError('unreadable', `it has PKCS#12 version ${version} (only version 3 exists)`);

  const [contentTypeNode, contentNode] = expectSequence(authSafe, 'PFX authSafe');
  const contentType = expectOid(contentTypeNode, 'PFX authSafe content type');
  if (contentType === Oid.signedData) {
    throw new PfxReadError('unreadable', 'it uses public-key integrity mode (signed), which needs no password');
  }
  if (contentType !== Oid.data) throw new PfxReadError('unreadable', `its content type ${contentType} is not data`);
  const authSafeBytes = expectOctets(explicitChild(contentNode, 0, 'PFX authSafe content'), 'PFX authSafe content');

  const candidates = macPasswordCandidates(password);
  let passwordToUse = candidates[0] as PfxPassword;
  let mac: MacState = 'absent';
  if (macData !== undefined) {
    const matching = candidates.find((candidate) => macMatches(macData, authSafeBytes, candidate));
    mac = matching ? 'verified' : 'failed';
    if (matching) passwordToUse = matching;
  }

  const log: DecryptionLog = { succeeded: 0, failed: [] };
  const contents: PfxContents = { certificates: [], keys: [] };
  for (const contentInfo of expectSequence(parseAsn1(authSafeBytes), 'AuthenticatedSafe')) {
    const safeContents = openContentInfo(contentInfo, passwordToUse, log);
    if (safeContents !== null) readSafeContents(safeContents, passwordToUse, log, contents, 0);
  }
  judge(mac, log);
  return contents;
}

/**
 * A failed MAC means a wrong password or an altered file. If some encrypted part still decrypts
 * into valid ASN.1 with this password, the password is right and the file is damaged.
 */
function judge(mac: MacState, log: DecryptionLog): void {
  const confirmed = log.succeeded > 0;
  if (mac === 'failed') {
    if (confirmed) {
      throw new PfxReadError(
        'unreadable',
        'its integrity check (MAC) fails although the password decrypts its contents: the file was damaged or altered after export',
      );
    }
    throw new PfxReadError('bad-password', 'the integrity check (MAC) fails with this password');
  }
  if (log.failed.length === 0) return;
  if (mac === 'absent' && !confirmed) {
    throw new PfxReadError('bad-password', `it has no integrity MAC and ${log.failed.join(', ')} does not decrypt`);
  }
  throw new PfxReadError('unreadable', `${log.failed.join(', ')} does not decrypt although the password is right`);
}

function macMatches(macData: Asn1Node, authSafeBytes: Buffer, password: PfxPassword): boolean {
  const [digestInfo, saltNode, iterationsNode] = expectSequence(macData, 'PFX macData');
  const [algorithm, digestNode] = expectSequence(digestInfo, 'PFX MAC digest');
  const [oidNode] = expectSequence(algorithm, 'PFX MAC algorithm');
  const oid = expectOid(oidNode, 'PFX MAC algorithm');
  if (oid === Oid.pbmac1) {
    throw new UnsupportedAlgorithmError(
      'is protected with a PBMAC1 integrity check (OpenSSL 3.4+ -pbmac1_pbkdf2), which this tool cannot verify',
    );
  }
  const digest = digestNames[oid] as DigestName | undefined;
  if (digest === undefined)
    throw new UnsupportedAlgorithmError(`is protected with MAC digest ${oid}, which this tool cannot verify`);
  const expected = expectOctets(digestNode, 'PFX MAC value');
  const salt = expectOctets(saltNode, 'PFX MAC salt');
  const iterations = iterationsNode === undefined ? 1 : expectSmallInteger(iterationsNode, 'PFX MAC iterations');
  if (iterations < 1 || iterations > maxIterations) {
    throw new UnsupportedAlgorithmError(`uses ${iterations} MAC iterations (this tool accepts 1..${maxIterations})`);
  }
  const key = pkcs12Kdf(digest, password.bmp, salt, KdfPurpose.macKey, iterations, digestOutputSize(digest));
  const actual = createHmac(digest, key).update(authSafeBytes).digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Returns the SafeContents of one ContentInfo, or null when its encrypted part does not decrypt. */
function openContentInfo(contentInfo: Asn1Node, password: PfxPassword, log: DecryptionLog): Asn1Node | null {
  const [typeNode, contentNode] = expectSequence(contentInfo, 'ContentInfo');
  const type = expectOid(typeNode, 'ContentInfo type');
  if (type === Oid.data) {
    return parseAsn1(expectOctets(explicitChild(contentNode, 0, 'ContentInfo data'), 'ContentInfo data'));
  }
  if (type === Oid.encryptedData) {
    const [versionNode, encryptedContentInfo] = expectSequence(
      explicitChild(contentNode, 0, 'EncryptedData'),
      'EncryptedData',
    );
    expectSmallInteger(versionNode, 'EncryptedData version');
    const [, algorithm, encryptedNode] = expectSequence(encryptedContentInfo, 'EncryptedContentInfo');
    if (algorithm === undefined || !isContext(encryptedNode, 0)) {
      throw new Asn1Error('EncryptedContentInfo: missing algorithm or content');
    }
    const label = `the certificate part (${describePbe(algorithm)})`;
    return tryDecrypt(algorithm, implicitOctets(encryptedNode, 'encrypted content'), password, label, log);
  }
  if (type === Oid.envelopedData) {
    throw new PfxReadError('unreadable', 'it uses public-key privacy mode (enveloped data), not a password');
  }
  throw new Asn1Error(`ContentInfo of unknown type ${type}`);
}

function tryDecrypt(
  algorithm: Asn1Node,
  encrypted: Buffer,
  password: PfxPassword,
  label: string,
  log: DecryptionLog,
): Asn1Node | null {
  try {
    const node = parseAsn1(pbeDecrypt(algorithm, encrypted, password));
    log.succeeded++;
    return node;
  } catch (error) {
    if (error instanceof DecryptionFailedError || error instanceof Asn1Error) {
      log.failed.push(label);
      return null;
    }
    throw error;
  }
}

function readSafeContents(
  safeContents: Asn1Node,
  password: PfxPassword,
  log: DecryptionLog,
  contents: PfxContents,
  depth: number,
): void {
  if (depth > maxNesting) throw new Asn1Error('SafeContents nested too deep');
  for (const safeBag of expectSequence(safeContents, 'SafeContents')) {
    const [bagIdNode, bagValueNode, attributesNode] = expectSequence(safeBag, 'SafeBag');
    const bagId = expectOid(bagIdNode, 'SafeBag type');
    const bagValue = explicitChild(bagValueNode, 0, 'SafeBag value');
    const attributes = readAttributes(attributesNode);
    switch (bagId) {
      case Oid.keyBag:
        contents.keys.push(keyEntry(bagValue, attributes));
        break;
      case Oid.pkcs8ShroudedKeyBag: {
        const [algorithm, encryptedNode] = expectSequence(bagValue, 'EncryptedPrivateKeyInfo');
        if (algorithm === undefined) throw new Asn1Error('EncryptedPrivateKeyInfo: missing algorithm');
        const label = `the private key (${describePbe(algorithm)})`;
        const encrypted = expectOctets(encryptedNode, 'EncryptedPrivateKeyInfo data');
        const privateKeyInfo = tryDecrypt(algorithm, encrypted, password, label, log);
        if (privateKeyInfo !== null) contents.keys.push(keyEntry(privateKeyInfo, attributes));
        break;
      }
      case Oid.certBag: {
        const [certTypeNode, certValueNode] = expectSequence(bagValue, 'CertBag');
        // SDSI certificates exist in the standard only; skip anything that is not X.509.
        if (expectOid(certTypeNode, 'CertBag type') !== Oid.x509Certificate) break;
        const certDer = expectOctets(explicitChild(certValueNode, 0, 'CertBag value'), 'CertBag value');
        contents.certificates.push({ der: certDer, attributes });
        break;
      }
      case Oid.safeContentsBag:
        readSafeContents(bagValue, password, log, contents, depth + 1);
        break;
      default:
        // CRL and secret bags carry nothing we use.
        break;
    }
  }
}

function keyEntry(privateKeyInfo: Asn1Node, attributes: BagAttributes): PfxKeyEntry {
  const [versionNode, algorithm] = expectSequence(privateKeyInfo, 'PrivateKeyInfo');
  expectSmallInteger(versionNode, 'PrivateKeyInfo version');
  const [algorithmOid] = expectSequence(algorithm, 'PrivateKeyInfo algorithm');
  return {
    pkcs8: privateKeyInfo.encoded,
    algorithmOid: expectOid(algorithmOid, 'PrivateKeyInfo algorithm'),
    attributes,
  };
}

function readAttributes(node: Asn1Node | undefined): BagAttributes {
  const attributes: BagAttributes = { localKeyId: null, friendlyName: null, cspName: null };
  if (node === undefined) return attributes;
  for (const attribute of expectSet(node, 'bag attributes')) {
    const [oidNode, valuesNode] = expectSequence(attribute, 'bag attribute');
    const oid = expectOid(oidNode, 'bag attribute type');
    const value = expectSet(valuesNode, 'bag attribute values')[0];
    if (value === undefined) continue;
    if (oid === Oid.localKeyId) {
      attributes.localKeyId = expectOctets(value, 'localKeyId');
    } else if (oid === Oid.friendlyName && isUniversal(value, Tag.bmpString)) {
      attributes.friendlyName = decodeBmp(value.content);
    } else if (oid === Oid.microsoftCspName && isUniversal(value, Tag.bmpString)) {
      attributes.cspName = decodeBmp(value.content);
    }
  }
  return attributes;
}
