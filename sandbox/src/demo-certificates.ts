// Certificates for `d365-exo-sync demo`: one throwaway CA made at start, the loopback TLS certificate of the
// emulators signed by it, and the renewal certificates the demo rolls out (PFX with the CA in its chain, encrypted
// with 3DES as Windows and the Microsoft tools expect, under a random password the caller registers with its mask).
// Keys are RSA 2048 from node:crypto (made in parallel on the thread pool); node-forge builds and signs the
// certificates and the PKCS#12. Nothing here is ever trusted outside the demo: the CA lives for a day and its key
// only in memory.
import { createHash, generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import type { SandboxTls } from './tls.js';
import { serverCertificateExtensions } from './tls.js';

const generateRsa = promisify(generateKeyPair);
const DAY = 86_400_000;

interface Pem {
  privatePem: string;
  publicPem: string;
}

async function rsaKeyPair(): Promise<Pem> {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A renewal certificate as the demo hands it to the phases: the PFX and its password, plus its public facts. */
export interface DemoCertificate {
  /** PKCS#12 (key, leaf, CA), 3DES-encrypted, under `password`. */
  pfx: Buffer;
  /** Random; the caller registers it with its Host's mask before anything else sees it. */
  password: string;
  /** SHA-1 of the DER, upper-case hex (what Entra, Windows and the run records show). */
  thumbprint: string;
  certPem: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateRequest {
  commonName: string;
  /** DNS names (subjectAltName); default: the common name. */
  dnsNames?: string[];
  notBefore: Date;
  notAfter: Date;
  /** Organization (O=) of the subject; default Contoso. */
  organization?: string;
}

export interface DemoCa {
  caPem: string;
  /** The CA's subject common name, for messages. */
  name: string;
  /** A TLS server certificate for the loopback emulators (localhost, 127.0.0.1, ::1), valid for a day. */
  issueTls(hosts?: string[], ips?: string[]): Promise<SandboxTls>;
  /** A renewal certificate (server authentication, key encipherment) as a PFX. */
  issueCertificate(request: CertificateRequest): Promise<DemoCertificate>;
}

function serial(): string {
  // Positive (leading 01), unique per certificate: two certificates of one CA never share a thumbprint.
  return '01' + randomBytes(12).toString('hex');
}

function sign(cert: forge.pki.Certificate, key: forge.pki.PrivateKey): void {
  cert.sign(key as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
}

/** Makes the demo's CA (a key pair and a self-signed CA certificate valid for a day). */
export async function makeDemoCa(name = 'd365-exo-sync demo CA (throwaway)'): Promise<DemoCa> {
  const ca = await rsaKeyPair();
  const caKey = forge.pki.privateKeyFromPem(ca.privatePem);
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = forge.pki.publicKeyFromPem(ca.publicPem);
  caCert.serialNumber = serial();
  caCert.validity.notBefore = new Date(Date.now() - 60_000);
  caCert.validity.notAfter = new Date(Date.now() + DAY);
  const caSubject = [
    { name: 'commonName', value: name },
    { name: 'organizationName', value: 'd365-exo-sync sandbox' },
  ];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  sign(caCert, caKey);
  const caPem = forge.pki.certificateToPem(caCert);

  function leaf(publicPem: string, subject: forge.pki.CertificateField[], notBefore: Date, notAfter: Date) {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
    cert.serialNumber = serial();
    cert.validity.notBefore = notBefore;
    cert.validity.notAfter = notAfter;
    cert.setSubject(subject);
    cert.setIssuer(caCert.subject.attributes);
    return cert;
  }

  return {
    caPem,
    name,
    async issueTls(hosts = ['localhost'], ips = ['127.0.0.1', '::1']) {
      const pair = await rsaKeyPair();
      const cert = leaf(
        pair.publicPem,
        [{ name: 'commonName', value: hosts[0] ?? 'localhost' }],
        new Date(Date.now() - 60_000),
        new Date(Date.now() + DAY),
      );
      cert.setExtensions(serverCertificateExtensions(hosts, ips));
      sign(cert, caKey);
      return { caPem, certPem: forge.pki.certificateToPem(cert), keyPem: pair.privatePem };
    },
    async issueCertificate(request) {
      const pair = await rsaKeyPair();
      const dnsNames = request.dnsNames ?? [request.commonName];
      const cert = leaf(
        pair.publicPem,
        [
          { name: 'commonName', value: request.commonName },
          { name: 'organizationName', value: request.organization ?? 'Contoso' },
        ],
        request.notBefore,
        request.notAfter,
      );
      cert.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        { name: 'subjectAltName', altNames: dnsNames.map((value) => ({ type: 2, value })) },
      ]);
      sign(cert, caKey);
      const password = randomBytes(18).toString('base64url');
      const asn1 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(pair.privatePem), [cert, caCert], password, {
        algorithm: '3des',
        friendlyName: request.commonName,
      });
      const pfx = Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
      const certPem = forge.pki.certificateToPem(cert);
      const x509 = new X509Certificate(certPem);
      return {
        pfx,
        password,
        thumbprint: createHash('sha1').update(x509.raw).digest('hex').toUpperCase(),
        certPem,
        subject: x509.subject.replace(/\n/g, ', '),
        notBefore: new Date(x509.validFrom),
        notAfter: new Date(x509.validTo),
      };
    },
  };
}
