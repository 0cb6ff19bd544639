// Certificate fields node:crypto's X509Certificate does not expose: the signature algorithm, and the
// exact SAN dNSName and extended key usage lists (with "extension absent" kept apart from "empty").
import type { X509Certificate } from 'node:crypto';
import {
  type Asn1Node,
  expectOctets,
  expectOid,
  expectSequence,
  isContext,
  isUniversal,
  parseAsn1,
  Tag,
} from './asn1.js';
import { digestNames, Oid, signatureAlgorithmNames } from './oids.js';

export interface CertificateFields {
  /** OpenSSL's name for the signature algorithm, or its OID when unknown. */
  signatureAlgorithm: string;
  /** Digest the signature uses ('sha1', 'sha256', ...); null when intrinsic (Ed25519) or unknown. */
  signatureDigest: string | null;
  /** SAN dNSName entries in certificate order. */
  dnsNames: string[];
  /** Extended key usage OIDs; null when the certificate has no EKU extension. */
  extendedKeyUsage: string[] | null;
}

const signatureDigests: Readonly<Record<string, string>> = {
  [Oid.md2WithRsa]: 'md2',
  [Oid.md5WithRsa]: 'md5',
  [Oid.sha1WithRsa]: 'sha1',
  [Oid.sha224WithRsa]: 'sha224',
  [Oid.sha256WithRsa]: 'sha256',
  [Oid.sha384WithRsa]: 'sha384',
  [Oid.sha512WithRsa]: 'sha512',
  [Oid.ecdsaWithSha1]: 'sha1',
  [Oid.ecdsaWithSha224]: 'sha224',
  [Oid.ecdsaWithSha256]: 'sha256',
  [Oid.ecdsaWithSha384]: 'sha384',
  [Oid.ecdsaWithSha512]: 'sha512',
  [Oid.dsaWithSha1]: 'sha1',
  [Oid.dsaWithSha256]: 'sha256',
};

export function readCertificateFields(cert: X509Certificate): CertificateFields {
  try {
    return parseCertificateFields(cert);
  } catch {
    // OpenSSL accepted the certificate, so this is a gap in our parser: fall back to what Node exposes.
    return {
      signatureAlgorithm: 'unknown',
      signatureDigest: null,
      dnsNames: (cert.subjectAltName ?? '')
        .split(', ')
        .filter((entry) => entry.startsWith('DNS:'))
        .map((entry) => entry.slice(4)),
      extendedKeyUsage: cert.keyUsage ?? null,
    };
  }
}

function parseCertificateFields(cert: X509Certificate): CertificateFields {
  const [tbs, signatureAlgorithmNode] = expectSequence(parseAsn1(cert.raw), 'Certificate');
  const [oidNode, params] = expectSequence(signatureAlgorithmNode, 'signatureAlgorithm');
  const oid = expectOid(oidNode, 'signatureAlgorithm');
  let signatureAlgorithm = signatureAlgorithmNames[oid] ?? oid;
  let signatureDigest = signatureDigests[oid] ?? null;
  if (oid === Oid.rsassaPss) {
    signatureDigest = pssDigest(params);
    signatureAlgorithm = `rsassaPss (${signatureDigest ?? 'unknown digest'})`;
  }
  const extensions = readExtensions(tbs);
  const san = extensions.get(Oid.subjectAltName);
  const eku = extensions.get(Oid.extKeyUsage);
  return {
    signatureAlgorithm,
    signatureDigest,
    dnsNames: san ? readDnsNames(san) : [],
    extendedKeyUsage: eku ? expectSequence(eku, 'extKeyUsage').map((node) => expectOid(node, 'extKeyUsage')) : null,
  };
}

/** The DER-encoded issuer and subject Names, for exact comparison. */
export function readNames(cert: X509Certificate): { issuer: Buffer; subject: Buffer } {
  const [tbs] = expectSequence(parseAsn1(cert.raw), 'Certificate');
  const fields = expectSequence(tbs, 'TBSCertificate');
  // version is [0] EXPLICIT and absent in v1 certificates.
  const offset = isContext(fields[0], 0) ? 1 : 0;
  const issuer = fields[offset + 2];
  const subject = fields[offset + 4];
  if (issuer === undefined || subject === undefined) throw new Error('TBSCertificate without issuer or subject');
  return { issuer: issuer.encoded, subject: subject.encoded };
}

/** RSASSA-PSS-params: hashAlgorithm [0] defaults to SHA-1. */
function pssDigest(params: Asn1Node | undefined): string | null {
  if (!isUniversal(params, Tag.sequence)) return 'sha1';
  const hashNode = params.children.find((child) => isContext(child, 0));
  if (hashNode === undefined) return 'sha1';
  const [algorithm] = hashNode.children;
  const [hashOid] = expectSequence(algorithm, 'PSS hashAlgorithm');
  return digestNames[expectOid(hashOid, 'PSS hashAlgorithm')] ?? null;
}

/** Extension OID -> parsed extnValue. */
function readExtensions(tbs: Asn1Node | undefined): Map<string, Asn1Node> {
  const found = new Map<string, Asn1Node>();
  const wrapper = expectSequence(tbs, 'TBSCertificate').find((child) => isContext(child, 3));
  if (wrapper === undefined) return found;
  const [list] = wrapper.children;
  for (const extension of expectSequence(list, 'extensions')) {
    const fields = expectSequence(extension, 'extension');
    const oid = expectOid(fields[0], 'extension id');
    const valueNode = fields[fields.length - 1];
    found.set(oid, parseAsn1(expectOctets(valueNode, 'extension value')));
  }
  return found;
}

function readDnsNames(san: Asn1Node): string[] {
  // GeneralName dNSName is [2] IMPLICIT IA5String.
  return expectSequence(san, 'subjectAltName')
    .filter((name) => isContext(name, 2) && !name.constructed)
    .map((name) => name.content.toString('latin1'));
}
