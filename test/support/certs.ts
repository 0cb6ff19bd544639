// Test-time certificate factory: throwaway CAs and leaf certificates with the properties tests need,
// and PFX files in the encodings real tools write (OpenSSL 3 default and legacy, node-forge).
//
//   const ca = makeCa();
//   const leaf = makeLeaf({ issuer: ca, dnsNames: ['crm.contoso.com'] });
//   const pfx = makePfx(leaf, { password: 'secret', chain: [ca] });                 // Buffer
//   const file = writePfxFile(dir, 'crm.pfx', leaf, { password: 'secret', encoding: 'openssl-legacy' });
//
// For an HTTPS emulator on loopback: makeLeaf({ issuer: ca, commonName: 'localhost', dnsNames: ['localhost'],
// ipAddresses: ['127.0.0.1', '::1'] }), serve with { cert: leaf.pem, key: leaf.privateKeyPem } and trust ca.pem.
//
// Keys come from node:crypto (node-forge's JavaScript RSA key generation is far too slow) and are cached
// per process by slot: certificates that name the same `keySlot` share a key, so ask for a distinct
// slot whenever two certificates must have different keys (CA vs leaf, a mismatching key, ...).
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { der, parseAsn1 } from '../../src/cert/asn1.js';
import { openssl, opensslPasswordVariable } from './cert-openssl.js';

// ---------------------------------------------------------------- keys

export type TestKeyType = 'rsa' | 'ec';

export interface TestKeySpec {
  type?: TestKeyType;
  /** RSA modulus length; default 2048. */
  rsaBits?: number;
  /** EC curve; default P-256. */
  curve?: 'P-256' | 'P-384';
}

export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const keyCache = new Map<string, TestKeyPair>();

/** A key pair for `slot`, generated once per test process for each slot and spec. */
export function testKey(slot: string, spec: TestKeySpec = {}): TestKeyPair {
  const type = spec.type ?? 'rsa';
  const cacheKey = type === 'rsa' ? `${slot}/rsa-${spec.rsaBits ?? 2048}` : `${slot}/ec-${spec.curve ?? 'P-256'}`;
  let pair = keyCache.get(cacheKey);
  if (pair === undefined) {
    pair =
      type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: spec.rsaBits ?? 2048 })
        : generateKeyPairSync('ec', { namedCurve: spec.curve ?? 'P-256' });
    keyCache.set(cacheKey, pair);
  }
  return pair;
}

// ---------------------------------------------------------------- certificates

export type ExtendedKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection';

const ekuOids: Readonly<Record<ExtendedKeyUsageName, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
};

export interface CertificateOptions {
  /** Subject CN; default 'crm.contoso.com' for leaves, 'Contoso Test Root CA' for CAs. Empty: no CN. */
  commonName?: string;
  /** Subject O; default 'Contoso Test'. */
  organization?: string;
  /** SAN dNSNames; default [commonName] for leaves, none for CAs. [] leaves the SAN extension out. */
  dnsNames?: string[];
  /** SAN iPAddresses (IPv4 or IPv6, e.g. '127.0.0.1', '::1'). */
  ipAddresses?: string[];
  /** Default: one day ago. */
  notBefore?: Date;
  /** Default: 90 days from now (leaf), 10 years (CA). */
  notAfter?: Date;
  /** Subject key type; default 'rsa'. */
  keyType?: TestKeyType;
  /** RSA modulus length; default 2048. */
  rsaBits?: number;
  /** Digest of the issuer's signature; default 'sha256'. */
  signatureHash?: 'sha1' | 'sha256' | 'sha384';
  /** EKU entries; default ['serverAuth', 'clientAuth'] for leaves, none for CAs. [] leaves the EKU extension out. */
  extendedKeyUsage?: ExtendedKeyUsageName[];
  /** The signing CA; omitted: the certificate is self-signed. */
  issuer?: TestCertificate;
  /** Key cache slot (see testKey); default 'leaf' for leaves, 'ca' for CAs. */
  keySlot?: string;
}

export interface TestCertificate {
  x509: X509Certificate;
  der: Buffer;
  pem: string;
  privateKey: KeyObject;
  /** PKCS#8 PEM, for openssl and node-forge. */
  privateKeyPem: string;
  /** SHA-1, upper-case hex without separators. */
  thumbprint: string;
  commonName: string;
  isCa: boolean;
}

const dayMs = 24 * 60 * 60 * 1000;

export function makeLeaf(options: CertificateOptions = {}): TestCertificate {
  return makeCertificate(options, false);
}

/** A CA certificate; with `issuer` an intermediate CA, else a self-signed root. */
export function makeCa(options: CertificateOptions = {}): TestCertificate {
  return makeCertificate(options, true);
}

export interface TestChain {
  root: TestCertificate;
  intermediate: TestCertificate;
  leaf: TestCertificate;
}

/** Root CA -> intermediate CA -> leaf, each with its own key. */
export function makeChain(leafOptions: Omit<CertificateOptions, 'issuer'> = {}): TestChain {
  const root = makeCa({ commonName: 'Contoso Test Root CA', keySlot: 'root-ca' });
  const intermediate = makeCa({ commonName: 'Contoso Test Issuing CA', issuer: root, keySlot: 'intermediate-ca' });
  const leaf = makeLeaf({ ...leafOptions, issuer: intermediate });
  return { root, intermediate, leaf };
}

function makeCertificate(options: CertificateOptions, isCa: boolean): TestCertificate {
  const commonName = options.commonName ?? (isCa ? 'Contoso Test Root CA' : 'crm.contoso.com');
  const keyType = options.keyType ?? 'rsa';
  const keys = testKey(options.keySlot ?? (isCa ? 'ca' : 'leaf'), { type: keyType, rsaBits: options.rsaBits });
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - dayMs);
  const notAfter = options.notAfter ?? new Date(now + (isCa ? 3650 : 90) * dayMs);
  const subjectName = encodeName(commonName, options.organization ?? 'Contoso Test');
  const spki = keys.publicKey.export({ type: 'spki', format: 'der' });
  const issuer = options.issuer;
  const issuerKey = issuer?.privateKey ?? keys.privateKey;
  const issuerName = issuer ? issuerNameOf(issuer) : subjectName;
  const hash = options.signatureHash ?? 'sha256';
  const signatureAlgorithm = signatureAlgorithmFor(issuerKey, hash);

  const extensions: Buffer[] = [
    extension('2.5.29.19', true, der.sequence(...(isCa ? [der.boolean(true)] : []))),
    extension('2.5.29.15', true, keyUsageBits(isCa, keyType)),
    extension('2.5.29.14', false, der.octetString(keyIdentifier(spki))),
  ];
  if (issuer) {
    const issuerSpki = issuer.x509.publicKey.export({ type: 'spki', format: 'der' });
    extensions.push(extension('2.5.29.35', false, der.sequence(der.implicitPrimitive(0, keyIdentifier(issuerSpki)))));
  }
  const eku = options.extendedKeyUsage ?? (isCa ? [] : ['serverAuth', 'clientAuth']);
  if (eku.length > 0)
    extensions.push(extension('2.5.29.37', false, der.sequence(...eku.map((name) => der.oid(ekuOids[name])))));
  const dnsNames = options.dnsNames ?? (isCa || commonName === '' ? [] : [commonName]);
  const ipAddresses = options.ipAddresses ?? [];
  if (dnsNames.length + ipAddresses.length > 0) {
    extensions.push(
      extension(
        '2.5.29.17',
        false,
        der.sequence(
          ...dnsNames.map((name) => der.implicitPrimitive(2, Buffer.from(name, 'latin1'))),
          ...ipAddresses.map((ip) => der.implicitPrimitive(7, ipBytes(ip))),
        ),
      ),
    );
  }

  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(serialNumber()),
    signatureAlgorithm,
    issuerName,
    der.sequence(encodeTime(notBefore), encodeTime(notAfter)),
    subjectName,
    spki,
    der.explicit(3, der.sequence(...extensions)),
  );
  const signature = sign(hash, tbs, issuerKey);
  const certificateDer = der.sequence(tbs, signatureAlgorithm, der.bitString(signature));
  const x509 = new X509Certificate(certificateDer);
  return {
    x509,
    der: certificateDer,
    pem: x509.toString(),
    privateKey: keys.privateKey,
    privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    thumbprint: x509.fingerprint.replaceAll(':', ''),
    commonName,
    isCa,
  };
}

function encodeName(commonName: string, organization: string): Buffer {
  const rdn = (oid: string, value: Buffer): Buffer => der.setOf(der.sequence(der.oid(oid), value));
  const parts = [rdn('2.5.4.6', der.printableString('US')), rdn('2.5.4.10', der.utf8String(organization))];
  if (commonName !== '') parts.push(rdn('2.5.4.3', der.utf8String(commonName)));
  return der.sequence(...parts);
}

/** The issuer's subject Name exactly as encoded in its certificate (tbs field 6). */
function issuerNameOf(issuer: TestCertificate): Buffer {
  const [tbs] = parseAsn1(issuer.der).children;
  const subject = tbs?.children[5];
  if (subject === undefined) throw new Error('issuer certificate without a subject');
  return subject.encoded;
}

function signatureAlgorithmFor(issuerKey: KeyObject, hash: 'sha1' | 'sha256' | 'sha384'): Buffer {
  if (issuerKey.asymmetricKeyType === 'ec') {
    const oids = { sha1: '1.2.840.10045.4.1', sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3' };
    return der.sequence(der.oid(oids[hash]));
  }
  const oids = { sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11', sha384: '1.2.840.113549.1.1.12' };
  return der.sequence(der.oid(oids[hash]), der.null());
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

function keyUsageBits(isCa: boolean, keyType: TestKeyType): Buffer {
  if (isCa) return der.bitString(Buffer.from([0x06]), 1); // keyCertSign, cRLSign
  return keyType === 'rsa'
    ? der.bitString(Buffer.from([0xa0]), 5) // digitalSignature, keyEncipherment
    : der.bitString(Buffer.from([0x80]), 7); // digitalSignature
}

function keyIdentifier(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  return serial;
}

function encodeTime(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? der.utcTime(`${digits.slice(2)}Z`) : der.generalizedTime(`${digits}Z`);
}

function ipBytes(ip: string): Buffer {
  const version = isIP(ip);
  if (version === 4) return Buffer.from(ip.split('.').map(Number));
  if (version !== 6 || ip.includes('.')) throw new Error(`not an IPv4 or plain IPv6 address: ${ip}`);
  const [head = '', tail] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
  return Buffer.from(groups.map((group) => group.padStart(4, '0')).join(''), 'hex');
}

// ---------------------------------------------------------------- PFX files

export type PfxEncoding =
  /** OpenSSL 3 `pkcs12 -export` defaults: PBES2 AES-256-CBC with PBKDF2-HMAC-SHA256, SHA-256 MAC. */
  | 'openssl-default'
  /** OpenSSL `-legacy`: RC2-40 certificates, 3DES key, SHA-1 MAC (needs the legacy provider: hasOpensslLegacyProvider). */
  | 'openssl-legacy'
  /** OpenSSL `-certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1`: like Windows' TripleDES-SHA1 export. */
  | 'openssl-3des'
  /** node-forge toPkcs12Asn1 with 3DES: certificates unencrypted, key 3DES, SHA-1 MAC. */
  | 'forge-3des'
  /** node-forge toPkcs12Asn1 with AES-256: key in PBES2 AES-256 (PBKDF2-HMAC-SHA1), certificates unencrypted. */
  | 'forge-aes256';

export interface PfxOptions {
  password: string;
  /** Default 'openssl-default'. */
  encoding?: PfxEncoding;
  /** More certificates, written after the leaf. */
  chain?: TestCertificate[];
  /** Exact certificate bags in this order instead of leaf + chain (forge encodings only: openssl reorders). */
  order?: TestCertificate[];
  /** The key to put in; default the leaf's own. null: no key at all. Another key: forge encodings only. */
  key?: KeyObject | null;
  friendlyName?: string;
  /** Microsoft CSP/KSP name bag attribute (openssl -CSP), as a Windows export carries. openssl encodings only. */
  cspName?: string;
  /** Mark the key for key exchange (openssl -keyex: PKCS#8 key usage attribute 0x10). openssl encodings only. */
  keyExchange?: boolean;
  /** Leave the integrity MAC out (openssl -nomac). openssl encodings only. */
  noMac?: boolean;
}

/** A PFX of `leaf` as bytes; files made on the way are removed again. */
export function makePfx(leaf: TestCertificate, options: PfxOptions): Buffer {
  const encoding = options.encoding ?? 'openssl-default';
  return encoding.startsWith('openssl') ? opensslPfx(leaf, options, encoding) : forgePfx(leaf, options, encoding);
}

/** Writes a PFX of `leaf` to `dir/name` and returns the path. */
export function writePfxFile(dir: string, name: string, leaf: TestCertificate, options: PfxOptions): string {
  const path = join(dir, name);
  writeFileSync(path, makePfx(leaf, options), { mode: 0o600 });
  return path;
}

export interface ScratchDir {
  path: string;
  remove(): void;
}

/** A fresh temporary directory for test files; call remove() when done (e.g. in `after`). */
export function makeScratchDir(prefix = 'd365-cert-test-'): ScratchDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

function opensslPfx(leaf: TestCertificate, options: PfxOptions, encoding: PfxEncoding): Buffer {
  if (options.order) throw new Error('openssl decides the bag order itself: use a forge encoding for `order`');
  const key = options.key === undefined ? leaf.privateKey : options.key;
  const scratch = makeScratchDir();
  try {
    const certPath = join(scratch.path, 'cert.pem');
    writeFileSync(certPath, leaf.pem);
    const args = ['pkcs12', '-export', '-in', certPath, '-passout', `env:${opensslPasswordVariable}`];
    if (key === null) {
      args.push('-nokeys');
    } else {
      const keyPath = join(scratch.path, 'key.pem');
      writeFileSync(keyPath, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      args.push('-inkey', keyPath);
    }
    if (options.chain?.length) {
      const chainPath = join(scratch.path, 'chain.pem');
      writeFileSync(chainPath, options.chain.map((cert) => cert.pem).join(''));
      args.push('-certfile', chainPath);
    }
    if (encoding === 'openssl-legacy') args.push('-legacy');
    if (encoding === 'openssl-3des')
      args.push('-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1');
    if (options.friendlyName !== undefined) args.push('-name', options.friendlyName);
    if (options.cspName !== undefined) args.push('-CSP', options.cspName);
    if (options.keyExchange) args.push('-keyex');
    if (options.noMac) args.push('-nomac');
    return openssl(args, { password: options.password });
  } finally {
    scratch.remove();
  }
}

function forgePfx(leaf: TestCertificate, options: PfxOptions, encoding: PfxEncoding): Buffer {
  if (options.cspName !== undefined || options.noMac || options.keyExchange) {
    throw new Error('cspName, keyExchange and noMac need an openssl encoding');
  }
  const key = options.key === undefined ? leaf.privateKey : options.key;
  if (key !== null && key.asymmetricKeyType !== 'rsa') throw new Error('node-forge writes RSA keys only');
  const forgeKey =
    key === null ? null : forge.pki.privateKeyFromPem(key.export({ type: 'pkcs8', format: 'pem' }).toString());
  const certificates = (options.order ?? [leaf, ...(options.chain ?? [])]).map((cert) =>
    forge.pki.certificateFromPem(cert.pem),
  );
  // forge pairs the key's localKeyId with the first certificate; with none it wants null, not [].
  const certificateArgument = (certificates.length > 0 ? certificates : null) as forge.pki.Certificate[];
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    forgeKey as forge.pki.rsa.PrivateKey | null,
    certificateArgument,
    options.password,
    {
      algorithm: encoding === 'forge-aes256' ? 'aes256' : '3des',
      ...(options.friendlyName === undefined ? {} : { friendlyName: options.friendlyName }),
    },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
