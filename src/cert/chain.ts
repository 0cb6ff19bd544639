// Issuer relations between the certificates of one PFX: chain order, completeness, self-signed.
import type { X509Certificate } from 'node:crypto';
import { readNames } from './certificate-fields.js';

/** Issued by `issuer`: names (and key identifiers) match and the signature verifies with its key. */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Subject equals issuer and the certificate verifies with its own key. Not checkIssued(cert): OpenSSL's
 * issuer check also wants keyCertSign in the key usage, which a self-signed leaf rarely has.
 */
export function isSelfSigned(cert: X509Certificate): boolean {
  try {
    const { issuer, subject } = readNames(cert);
    return issuer.equals(subject) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

export interface ChainWalk {
  /** Issuers from the leaf upward, as far as the given certificates reach. */
  issuers: X509Certificate[];
  /** The walk ended at a self-signed certificate (a self-signed leaf counts as complete). */
  complete: boolean;
  /** Issuer name of the last certificate reached when the chain is incomplete (Node's multi-line form). */
  missingIssuer: string | null;
}

export function walkChain(leaf: X509Certificate, others: readonly X509Certificate[]): ChainWalk {
  const issuers: X509Certificate[] = [];
  const remaining = [...others];
  let current = leaf;
  while (!isSelfSigned(current)) {
    const index = remaining.findIndex((candidate) => isIssuedBy(current, candidate));
    if (index < 0) return { issuers, complete: false, missingIssuer: current.issuer };
    const [issuer] = remaining.splice(index, 1) as [X509Certificate];
    issuers.push(issuer);
    current = issuer;
  }
  return { issuers, complete: true, missingIssuer: null };
}

/** The other certificates in issuer order from the leaf upward, then any unrelated ones in file order. */
export function orderChain(leaf: X509Certificate, others: readonly X509Certificate[]): X509Certificate[] {
  const { issuers } = walkChain(leaf, others);
  return [...issuers, ...others.filter((cert) => !issuers.includes(cert))];
}

/**
 * The end-entity certificate when no private key says which one it is: one that issued none of the
 * others, preferring a non-CA certificate.
 */
export function guessLeaf(certs: readonly X509Certificate[]): X509Certificate | undefined {
  const issuesNone = certs.filter((cert) => !certs.some((other) => other !== cert && isIssuedBy(other, cert)));
  return issuesNone.find((cert) => !cert.ca) ?? issuesNone[0] ?? certs[0];
}
