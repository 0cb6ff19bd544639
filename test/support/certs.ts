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
// RSA certificates are built with node-forge's certificate API; certificates with an EC key or an EC
// issuer come from the openssl CLI (forge knows RSA only).
//
// Keys come from node:crypto (node-forge's JavaScript RSA key generation is far too slow) and are cached
// per process by slot: certificates that name the same `keySlot` share a key, so ask for a distinct
// slot whenever two certificates must have different keys (CA vs leaf, a mismatching key, ...).
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import {
  openssl,
  opensslCertificate,
  type OpensslCertificateRequest,
  opensslPasswordVariable,
} from './cert-openssl.js';

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
  const now = Date.now();
  const commonName = options.commonName ?? (isCa ? 'Contoso Test Root CA' : 'crm.contoso.com');
  const keyType = options.keyType ?? 'rsa';
  const keys = testKey(options.keySlot ?? (isCa ? 'ca' : 'leaf'), { type: keyType, rsaBits: options.rsaBits });
  const dnsNames = options.dnsNames ?? (isCa || commonName === '' ? [] : [commonName]);
  const spec: CertificateSpec = {
    isCa,
    keyType,
    keys,
    subject: [
      ['C', 'US'],
      ['O', options.organization ?? 'Contoso Test'],
      ...(commonName === '' ? [] : [['CN', commonName] as [string, string]]),
    ],
    issuer: options.issuer,
    // X.509 dates have whole seconds.
    notBefore: wholeSeconds(options.notBefore ?? new Date(now - dayMs)),
    notAfter: wholeSeconds(options.notAfter ?? new Date(now + (isCa ? 3650 : 90) * dayMs)),
    hash: options.signatureHash ?? 'sha256',
    extendedKeyUsage: options.extendedKeyUsage ?? (isCa ? [] : ['serverAuth', 'clientAuth']),
    dnsNames,
    ipAddresses: options.ipAddresses ?? [],
  };
  const issuerKey = options.issuer?.privateKey ?? keys.privateKey;
  // node-forge makes RSA certificates only; anything with an EC key in it comes from the openssl CLI.
  const x509 =
    keyType === 'rsa' && issuerKey.asymmetricKeyType === 'rsa'
      ? new X509Certificate(forgeCertificate(spec, issuerKey))
      : new X509Certificate(opensslCertificate(opensslRequest(spec)));
  return {
    x509,
    der: x509.raw,
    pem: x509.toString(),
    privateKey: keys.privateKey,
    privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    thumbprint: x509.fingerprint.replaceAll(':', ''),
    commonName,
    isCa,
  };
}

interface CertificateSpec {
  isCa: boolean;
  keyType: TestKeyType;
  keys: TestKeyPair;
  subject: [string, string][];
  issuer: TestCertificate | undefined;
  notBefore: Date;
  notAfter: Date;
  hash: 'sha1' | 'sha256' | 'sha384';
  extendedKeyUsage: ExtendedKeyUsageName[];
  dnsNames: string[];
  ipAddresses: string[];
}

const getTBSCertificate = (forge.pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 })
  .getTBSCertificate;

/** An RSA certificate built with node-forge and signed by node:crypto (forge's JavaScript RSA takes ~200 ms a signature). */
function forgeCertificate(spec: CertificateSpec, issuerKey: KeyObject): Buffer {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(spec.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const subject = spec.subject.map(([shortName, value]) => ({
    shortName,
    value,
    valueTagClass: (shortName === 'C'
      ? forge.asn1.Type.PRINTABLESTRING
      : forge.asn1.Type.UTF8) as number as forge.asn1.Class,
  }));
  cert.setSubject(subject);
  // The issuer's Name as its certificate has it (computeHash false: the issuer may be ECDSA-signed).
  cert.setIssuer(spec.issuer ? forge.pki.certificateFromPem(spec.issuer.pem, false).subject.attributes : subject);
  const sans = [
    ...spec.dnsNames.map((value) => ({ type: 2, value })),
    ...spec.ipAddresses.map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: spec.isCa },
    {
      name: 'keyUsage',
      critical: true,
      ...(spec.isCa ? { keyCertSign: true, cRLSign: true } : { digitalSignature: true, keyEncipherment: true }),
    },
    { name: 'subjectKeyIdentifier' },
    ...(spec.issuer ? [{ name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifier(spec.issuer) }] : []),
    ...(spec.extendedKeyUsage.length > 0
      ? [{ name: 'extKeyUsage', ...Object.fromEntries(spec.extendedKeyUsage.map((name) => [name, true])) }]
      : []),
    ...(sans.length > 0 ? [{ name: 'subjectAltName', altNames: sans }] : []),
  ]);
  // What cert.sign(key, md) does, with node:crypto doing the RSA signature.
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids[`${spec.hash}WithRSAEncryption`]!;
  cert.tbsCertificate = getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign(spec.hash, tbs, issuerKey).toString('binary');
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/**
 * SHA-1 of the issuer's RSAPublicKey: the subjectKeyIdentifier forge and `openssl ... subjectKeyIdentifier=hash`
 * write, so the authorityKeyIdentifier matches it.
 */
function keyIdentifier(issuer: TestCertificate): string {
  const rsaPublicKey = issuer.x509.publicKey.export({ type: 'pkcs1', format: 'der' });
  return createHash('sha1').update(rsaPublicKey).digest().toString('binary');
}

function opensslRequest(spec: CertificateSpec): OpensslCertificateRequest {
  const keyUsage = spec.isCa
    ? 'keyCertSign,cRLSign'
    : spec.keyType === 'rsa'
      ? 'digitalSignature,keyEncipherment'
      : 'digitalSignature';
  const sans = [...spec.dnsNames.map((name) => `DNS:${name}`), ...spec.ipAddresses.map((ip) => `IP:${ip}`)];
  return {
    subjectKeyPem: spec.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    subject: spec.subject,
    issuer: spec.issuer && { certificatePem: spec.issuer.pem, privateKeyPem: spec.issuer.privateKeyPem },
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    digest: spec.hash,
    extensions: [
      `basicConstraints = critical,CA:${spec.isCa ? 'TRUE' : 'FALSE'}`,
      `keyUsage = critical,${keyUsage}`,
      'subjectKeyIdentifier = hash',
      ...(spec.issuer ? ['authorityKeyIdentifier = keyid:always'] : []),
      ...(spec.extendedKeyUsage.length > 0 ? [`extendedKeyUsage = ${spec.extendedKeyUsage.join(',')}`] : []),
      ...(sans.length > 0 ? [`subjectAltName = ${sans.join(',')}`] : []),
    ],
  };
}

/** 16 random bytes, positive and without a leading zero byte. */
function serialNumber(): string {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  return serial.toString('hex');
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
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
