// Certificate fields node:crypto's X509Certificate does not expose: the signature algorithm, and the
// exact SAN dNSName and extended key usage lists (with "extension absent" kept apart from "empty").
// Read from the DER with node-forge's ASN.1 parser (forge's certificate parser knows RSA only).
import type { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { type Asn1, childrenOf, octetsOf, oidOf, parseDer, toBuffer } from './forge-asn1.js';
import { digestNames, Oid, signatureAlgorithms } from './oids.js';

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

const { Class } = forge.asn1;

export function readCertificateFields(cert: X509Certificate): CertificateFields {
  try {
    return parseCertificateFields(cert);
  } catch {
    // OpenSSL accepted the certificate, so this is a gap in our reading: fall back to what Node exposes.
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
  const [tbs, signatureAlgorithmNode] = childrenOf(parseDer(cert.raw), 'Certificate');
  const [oidNode, params] = childrenOf(signatureAlgorithmNode, 'signatureAlgorithm');
  const oid = oidOf(oidNode, 'signatureAlgorithm');
  let [signatureAlgorithm, signatureDigest] = signatureAlgorithms[oid] ?? [oid, null];
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
    // GeneralName dNSName is [2] IMPLICIT IA5String.
    dnsNames: san
      ? childrenOf(san, 'subjectAltName')
          .filter((name) => name.tagClass === Class.CONTEXT_SPECIFIC && name.type === 2 && !name.constructed)
          .map((name) => name.value as string)
      : [],
    extendedKeyUsage: eku ? childrenOf(eku, 'extKeyUsage').map((node) => oidOf(node, 'extKeyUsage')) : null,
  };
}

/** The DER-encoded issuer and subject Names, for exact comparison. */
export function readNames(cert: X509Certificate): { issuer: Buffer; subject: Buffer } {
  const [tbs] = childrenOf(parseDer(cert.raw), 'Certificate');
  const fields = childrenOf(tbs, 'TBSCertificate');
  // version is [0] EXPLICIT and absent in v1 certificates.
  const offset = fields[0]?.tagClass === Class.CONTEXT_SPECIFIC ? 1 : 0;
  const issuer = fields[offset + 2];
  const subject = fields[offset + 4];
  if (issuer === undefined || subject === undefined) throw new Error('TBSCertificate without issuer or subject');
  return { issuer: toBuffer(issuer), subject: toBuffer(subject) };
}

/** RSASSA-PSS-params: hashAlgorithm [0] defaults to SHA-1. */
function pssDigest(params: Asn1 | undefined): string | null {
  const hashNode = Array.isArray(params?.value)
    ? params.value.find((child) => child.tagClass === Class.CONTEXT_SPECIFIC && child.type === 0)
    : undefined;
  if (hashNode === undefined) return 'sha1';
  const [algorithm] = childrenOf(hashNode, 'PSS hashAlgorithm');
  return digestNames[oidOf(childrenOf(algorithm, 'PSS hashAlgorithm')[0], 'PSS hashAlgorithm')] ?? null;
}

/** Extension OID -> parsed extnValue. */
function readExtensions(tbs: Asn1 | undefined): Map<string, Asn1> {
  const found = new Map<string, Asn1>();
  const wrapper = childrenOf(tbs, 'TBSCertificate').find(
    (child) => child.tagClass === Class.CONTEXT_SPECIFIC && child.type === 3,
  );
  if (wrapper === undefined) return found;
  for (const extension of childrenOf(childrenOf(wrapper, 'extensions')[0], 'extensions')) {
    const fields = childrenOf(extension, 'extension');
    found.set(oidOf(fields[0], 'extension id'), parseDer(octetsOf(fields[fields.length - 1], 'extension value')));
  }
  return found;
}
