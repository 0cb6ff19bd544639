// TLS for the loopback emulators: a throwaway CA made at start and a server certificate for
// localhost/127.0.0.1 signed by it. Clients trust the CA (NODE_EXTRA_CA_CERTS or the `ca` option);
// certificate checks are never switched off.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface SandboxTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function rsaKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function newCertificate(publicPem: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = '01' + randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  return cert;
}

/** The extensions of a loopback HTTPS server certificate: TLS server use, the names and addresses it serves. */
export function serverCertificateExtensions(hosts: string[], ips: string[]): object[] {
  return [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...hosts.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
    },
  ];
}

/** Makes a CA and a localhost server certificate signed by it. Takes a few hundred milliseconds. */
export function makeSandboxTls(hosts: string[] = ['localhost'], ips: string[] = ['127.0.0.1', '::1']): SandboxTls {
  const ca = rsaKeyPair();
  const caKey = forge.pki.privateKeyFromPem(ca.privatePem);
  const caCert = newCertificate(ca.publicPem, 2);
  const caName = [{ name: 'commonName', value: 'd365-exo-sync sandbox CA' }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  caCert.sign(caKey, forge.md.sha256.create());

  const server = rsaKeyPair();
  const cert = newCertificate(server.publicPem, 2);
  cert.setSubject([{ name: 'commonName', value: hosts[0] ?? 'localhost' }]);
  cert.setIssuer(caName);
  cert.setExtensions(serverCertificateExtensions(hosts, ips));
  cert.sign(caKey, forge.md.sha256.create());
  return {
    caPem: forge.pki.certificateToPem(caCert),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: server.privatePem,
  };
}
