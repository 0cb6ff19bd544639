// Runs the openssl command line for tests: PFX files as real tools write them, certificates node-forge
// cannot make (EC keys or EC issuers), and independent readings of what our code wrote. Passwords travel
// through the environment (`env:`), never argv.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslResult {
  status: number;
  stdout: Buffer;
  stderr: string;
}

/** Environment variable that carries a password to openssl (`-passin env:...` / `-passout env:...`). */
export const opensslPasswordVariable = 'TEST_PFX_PASSWORD';

export function runOpenssl(
  args: readonly string[],
  options: { password?: string; input?: Buffer } = {},
): OpensslResult {
  const env = { ...process.env };
  if (options.password !== undefined) env[opensslPasswordVariable] = options.password;
  const result = spawnSync('openssl', args, { env, input: options.input, maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw new Error(`cannot run openssl: ${result.error.message}`);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

/** Like runOpenssl, but throws with openssl's own error text when it fails. */
export function openssl(args: readonly string[], options: { password?: string; input?: Buffer } = {}): Buffer {
  const result = runOpenssl(args, options);
  if (result.status !== 0)
    throw new Error(`openssl ${args[0] ?? ''} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}

let opensslPresent: boolean | undefined;
export function hasOpenssl(): boolean {
  if (opensslPresent === undefined) {
    const result = spawnSync('openssl', ['version']);
    opensslPresent = !result.error && result.status === 0;
  }
  return opensslPresent;
}

let legacyProviderPresent: boolean | undefined;
/** OpenSSL 3 writes RC2 (`pkcs12 -legacy`) only when its legacy provider module is installed. */
export function hasOpensslLegacyProvider(): boolean {
  if (legacyProviderPresent === undefined) {
    legacyProviderPresent = hasOpenssl() && runOpenssl(['list', '-providers', '-provider', 'legacy']).status === 0;
  }
  return legacyProviderPresent;
}

/** `openssl pkcs12 -info -nodes` of a PFX, read from stdin: the dump with bag and key attributes. */
export function opensslPkcs12Info(pfx: Buffer, password: string, extraArgs: readonly string[] = []): string {
  const result = runOpenssl(['pkcs12', '-info', '-nodes', '-passin', `env:${opensslPasswordVariable}`, ...extraArgs], {
    password,
    input: pfx,
  });
  if (result.status !== 0) throw new Error(`openssl pkcs12 -info failed: ${result.stderr.trim()}`);
  // -info writes the structure lines to stderr and the PEM blocks with their attributes to stdout.
  return `${result.stderr}\n${result.stdout.toString('utf8')}`;
}

/** `openssl x509 -fingerprint` as upper-case hex without colons. */
export function opensslFingerprint(certificatePem: string, digest: 'sha1' | 'sha256' = 'sha1'): string {
  const out = openssl(['x509', '-noout', '-fingerprint', `-${digest}`], {
    input: Buffer.from(certificatePem),
  }).toString();
  const match = /Fingerprint=([0-9A-F:]+)/i.exec(out);
  if (!match?.[1]) throw new Error(`unexpected openssl output: ${out}`);
  return match[1].replaceAll(':', '').toUpperCase();
}

export interface OpensslCertificateRequest {
  /** PKCS#8 PEM of the subject's key (signs the request; signs the certificate too when self-signed). */
  subjectKeyPem: string;
  /** Subject as [short name, value] pairs in order, e.g. [['C', 'US'], ['O', 'Contoso'], ['CN', 'crm']]. */
  subject: [string, string][];
  /** The issuing CA; omitted: self-signed. */
  issuer?: { certificatePem: string; privateKeyPem: string };
  notBefore: Date;
  notAfter: Date;
  digest: 'sha1' | 'sha256' | 'sha384';
  /** Extension lines of an openssl config section, e.g. 'keyUsage = critical,digitalSignature'. */
  extensions: string[];
}

/** A certificate made by `openssl req` + `openssl ca` (exact validity dates, random serial); returns PEM. */
export function opensslCertificate(request: OpensslCertificateRequest): string {
  const dir = mkdtempSync(join(tmpdir(), 'd365-cert-ca-'));
  try {
    const file = (name: string, content: string): string => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const config = file(
      'ca.cnf',
      [
        '[req]',
        'distinguished_name = dn',
        'string_mask = utf8only',
        '[dn]',
        '[ca]',
        'default_ca = test_ca',
        '[test_ca]',
        `database = ${file('index.txt', '')}`,
        `new_certs_dir = ${dir}`,
        'policy = any_name',
        'rand_serial = yes',
        'unique_subject = no',
        'copy_extensions = none',
        '[any_name]',
        ...request.subject.map(([name]) => `${name} = optional`),
        '[ext]',
        ...request.extensions,
        '',
      ].join('\n'),
    );
    const subjectKey = file('subject-key.pem', request.subjectKeyPem);
    const subject = request.subject.map(([name, value]) => `/${name}=${value.replace(/[/\\+=]/g, '\\$&')}`).join('');
    const csr = join(dir, 'request.csr');
    openssl(['req', '-new', '-config', config, '-utf8', '-key', subjectKey, '-subj', subject, '-out', csr]);
    const signer = request.issuer
      ? [
          '-cert',
          file('issuer.pem', request.issuer.certificatePem),
          '-keyfile',
          file('issuer-key.pem', request.issuer.privateKeyPem),
        ]
      : ['-selfsign', '-keyfile', subjectKey];
    const out = join(dir, 'certificate.pem');
    openssl([
      'ca',
      '-batch',
      '-config',
      config,
      '-in',
      csr,
      '-out',
      out,
      ...signer,
      '-notext',
      '-utf8',
      '-preserveDN',
      '-md',
      request.digest,
      '-extensions',
      'ext',
      '-startdate',
      opensslTime(request.notBefore),
      '-enddate',
      opensslTime(request.notAfter),
    ]);
    return readFileSync(out, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** YYYYMMDDHHMMSSZ (openssl turns it into UTCTime up to 2049, as RFC 5280 wants). */
function opensslTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}
