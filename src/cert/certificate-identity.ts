// How a certificate is named and identified in reports, in Entra ID and on Windows.
import type { X509Certificate } from 'node:crypto';
import type { LoadedPfx } from './load.js';

/** SHA-1 thumbprint, upper-case hex without separators: what Windows and Entra ID show. */
export function sha1Thumbprint(cert: X509Certificate): string {
  return cert.fingerprint.replaceAll(':', '').toUpperCase();
}

/** SHA-256 fingerprint, same form as the thumbprint. */
export function sha256Thumbprint(cert: X509Certificate): string {
  return cert.fingerprint256.replaceAll(':', '').toUpperCase();
}

/** Base64 of the leaf's DER (.cer) encoding: the `key` value of a Graph keyCredential. */
export function leafDerBase64(pfx: LoadedPfx): string {
  return pfx.leaf.raw.toString('base64');
}

/**
 * A distinguished name in RFC 4514 order (most specific first, as Windows shows it:
 * "CN=crm.contoso.com, O=Contoso, C=US"). Node gives one RFC 2253-escaped RDN per line, root first.
 */
export function formatDistinguishedName(nodeName: string): string {
  return nodeName
    .split('\n')
    .filter((line) => line !== '')
    .reverse()
    .join(', ');
}
