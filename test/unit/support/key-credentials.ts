// A key credential as Graph stores and returns it for a test certificate: customKeyIdentifier is the SHA-1
// thumbprint (base64), start and end are the certificate's validity to the second, as Graph gives them.
import { createHash, randomUUID } from 'node:crypto';
import type { KeyCredential } from '../../../src/graph/key-credentials.js';
import type { TestCertificate } from '../../support/certs.js';

const graphDate = (text: string) => new Date(text).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function storedKey(cert: TestCertificate, fields: Partial<KeyCredential> = {}): KeyCredential {
  return {
    customKeyIdentifier: createHash('sha1').update(cert.der).digest('base64'),
    displayName: null,
    endDateTime: graphDate(cert.x509.validTo),
    key: cert.der.toString('base64'),
    keyId: randomUUID(),
    startDateTime: graphDate(cert.x509.validFrom),
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    ...fields,
  };
}
