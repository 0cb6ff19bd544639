// Reads the certificate a TLS endpoint presents (the D365 URL, AD FS) to see how long it has left.
// Verification stays on: an expired or untrusted certificate is reported as what it is.
import { connect, rootCertificates } from 'node:tls';
import { X509Certificate } from 'node:crypto';

export interface LiveCertificate {
  url: string;
  ok: boolean;
  subject?: string;
  issuer?: string;
  thumbprint?: string;
  notAfter?: string;
  daysRemaining?: number;
  /** Why no certificate could be read, or why it is not trusted. */
  error?: string;
}

export interface LiveCertificateOptions {
  timeoutMs?: number;
  /** Extra trusted CA (PEM), e.g. the sandbox CA; added to Node's roots, never replacing verification. */
  ca?: string;
  now?: Date;
}

const VERIFY_ERRORS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'the certificate has expired: renew it now',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet: check the server clock or the certificate dates',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed and not trusted here',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'the certificate chain is incomplete or its CA is not trusted here (install the intermediate on the server)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate does not cover this host name',
};

export function readLiveCertificate(url: string, options: LiveCertificateOptions = {}): Promise<LiveCertificate> {
  const target = new URL(url);
  const port = Number(target.port || 443);
  const now = options.now ?? new Date();
  return new Promise((resolve) => {
    const socket = connect({
      host: target.hostname,
      port,
      servername: /^[\d.]+$|:/.test(target.hostname) ? undefined : target.hostname,
      ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
      timeout: options.timeoutMs ?? 15_000,
    });
    const finish = (result: LiveCertificate) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      const peer = socket.getPeerX509Certificate();
      if (!peer) return finish({ url, ok: false, error: 'the server presented no certificate' });
      finish(describe(url, peer, now));
    });
    socket.once('timeout', () =>
      finish({ url, ok: false, error: `no TLS answer within ${(options.timeoutMs ?? 15_000) / 1000} s` }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      finish({ url, ok: false, error: VERIFY_ERRORS[code] ? `${VERIFY_ERRORS[code]} (${code})` : error.message });
    });
  });
}

function describe(url: string, cert: X509Certificate, now: Date): LiveCertificate {
  const notAfter = new Date(cert.validTo);
  return {
    url,
    ok: true,
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    thumbprint: cert.fingerprint.replace(/:/g, '').toUpperCase(),
    notAfter: notAfter.toISOString(),
    daysRemaining: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
  };
}
