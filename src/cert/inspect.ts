// `cert inspect`: loads a PFX and checks its leaf certificate for use as the D365 server-to-server
// certificate. The report's shape and the problem codes are a public contract (see DESIGN.md).
import { daysLeft, daysText } from '../days.js';
import { isIP } from 'node:net';
import type { X509Certificate } from 'node:crypto';
import { type CertificateFields, readCertificateFields } from './certificate-fields.js';
import { formatDistinguishedName, sha1Thumbprint, sha256Thumbprint } from './certificate-identity.js';
import { isSelfSigned, orderChain, walkChain } from './chain.js';
import { InputError } from './errors.js';
import { describeKey, type KeyDescription } from './key-info.js';
import { type LoadedPfx, loadPfx, reportedLeaf } from './load.js';
import { extendedKeyUsageNames, Oid } from './oids.js';
import { type CertProblem, isUsable, problem } from './problems.js';

export interface InspectOptions {
  /** Host names the certificate must cover (one HOST_NOT_COVERED per missing host). */
  hosts?: readonly string[];
  /** Minimum whole days left before notAfter; fewer gives CERT_EXPIRES_SOON. Default 14. */
  minDays?: number;
  /** The moment to check against; default: now. */
  now?: Date;
}

export interface ChainEntry {
  subject: string;
  issuer: string;
  thumbprint: string;
}

export interface CertificateReport {
  /** No problem of severity error. */
  usable: boolean;
  /** SHA-1, upper-case hex, no separators. */
  thumbprint: string | null;
  /** SHA-256, same form. */
  sha256: string | null;
  /** RFC 4514 order: "CN=crm.contoso.com, O=Contoso, C=US". */
  subject: string | null;
  issuer: string | null;
  /** SAN dNSName entries (the CN counts for host matching only when there are none). */
  dnsNames: string[];
  /** ISO 8601. */
  notBefore: string | null;
  notAfter: string | null;
  /** Whole days (floor) from `now` until notAfter; negative once expired. */
  daysRemaining: number | null;
  key: KeyDescription | null;
  signatureAlgorithm: string | null;
  /** The other certificates of the file, issuers from the leaf upward first. */
  chain: ChainEntry[];
  problems: CertProblem[];
}

export interface InspectResult {
  report: CertificateReport;
  /** Present when the file opened and a key with its certificate was found (even if not usable). */
  pfx?: LoadedPfx;
}

export const defaultMinDays = 14;
const dayMs = 24 * 60 * 60 * 1000;

export function inspectPfx(data: Buffer, password: string, options: InspectOptions = {}): InspectResult {
  const minDays = options.minDays ?? defaultMinDays;
  if (!Number.isFinite(minDays) || minDays < 0) {
    throw new InputError('minDays', `must be a number of days, 0 or more (got ${String(minDays)}).`, 'Pass e.g. 14.');
  }
  const now = options.now ?? new Date();
  const loaded = loadPfx(data, password);
  const problems = [...loaded.problems];
  const leaf = reportedLeaf(loaded);
  if (leaf === undefined) return { report: emptyReport(problems) };

  const fields = readCertificateFields(leaf);
  const others =
    loaded.pfx?.chain ??
    orderChain(
      leaf,
      loaded.certificates.filter((cert) => cert !== leaf),
    );
  const key = describeKey(loaded.pfx?.privateKey ?? leaf.publicKey);
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  const daysRemaining = daysLeft(notAfter, now);

  // KEY_NOT_RSA for an unparseable key already came from loadPfx.
  if (!problems.some((p) => p.code === 'KEY_NOT_RSA')) problems.push(...keyProblems(key));
  problems.push(...signatureProblems(fields));
  problems.push(...validityProblems(notBefore, notAfter, now, daysRemaining, minDays));
  for (const host of options.hosts ?? []) {
    const hostProblem = hostCoverageProblem(leaf, fields, host);
    if (hostProblem) problems.push(hostProblem);
  }
  problems.push(...trustProblems(leaf, others, fields));

  const report: CertificateReport = {
    usable: isUsable(problems),
    thumbprint: sha1Thumbprint(leaf),
    sha256: sha256Thumbprint(leaf),
    subject: formatDistinguishedName(leaf.subject),
    issuer: formatDistinguishedName(leaf.issuer),
    dnsNames: fields.dnsNames,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysRemaining,
    key,
    signatureAlgorithm: fields.signatureAlgorithm,
    chain: others.map((cert) => ({
      subject: formatDistinguishedName(cert.subject),
      issuer: formatDistinguishedName(cert.issuer),
      thumbprint: sha1Thumbprint(cert),
    })),
    problems,
  };
  return loaded.pfx ? { report, pfx: loaded.pfx } : { report };
}

function emptyReport(problems: CertProblem[]): CertificateReport {
  return {
    usable: isUsable(problems),
    thumbprint: null,
    sha256: null,
    subject: null,
    issuer: null,
    dnsNames: [],
    notBefore: null,
    notAfter: null,
    daysRemaining: null,
    key: null,
    signatureAlgorithm: null,
    chain: [],
    problems,
  };
}

function keyProblems(key: KeyDescription): CertProblem[] {
  if (key.algorithm !== 'RSA') {
    const size = key.bits === null ? '' : ` ${key.bits}-bit`;
    return [
      problem(
        'KEY_NOT_RSA',
        `The key is${size} ${key.algorithm}, not RSA. Dynamics 365 server-to-server authentication and the Windows ` +
          'CSP import (KeySpec 1) need an RSA key: request the certificate with an RSA key of 2048 bits or more.',
      ),
    ];
  }
  if (key.bits !== null && key.bits < 2048) {
    return [
      problem(
        'KEY_TOO_SMALL',
        `The RSA key has ${key.bits} bits; at least 2048 are needed. Request a new certificate with an RSA key of ` +
          '2048 bits or more.',
      ),
    ];
  }
  return [];
}

function signatureProblems(fields: CertificateFields): CertProblem[] {
  const digest = fields.signatureDigest;
  if (digest !== 'sha1' && digest !== 'md5' && digest !== 'md2') return [];
  const weaker = digest === 'sha1' ? '' : ', weaker still than SHA-1';
  return [
    problem(
      'SIGNATURE_SHA1',
      `The certificate is signed with ${fields.signatureAlgorithm} (${digest.toUpperCase()}${weaker}). ` +
        'Ask the CA to reissue it signed with SHA-256.',
    ),
  ];
}

function validityProblems(
  notBefore: Date,
  notAfter: Date,
  now: Date,
  daysRemaining: number,
  minDays: number,
): CertProblem[] {
  if (now.getTime() > notAfter.getTime()) {
    return [
      problem(
        'CERT_EXPIRED',
        `The certificate expired on ${notAfter.toISOString()} (${daysText(-daysRemaining)} ago). ` +
          'Renew it and use the renewed PFX.',
      ),
    ];
  }
  if (now.getTime() < notBefore.getTime()) {
    const daysUntil = Math.ceil((notBefore.getTime() - now.getTime()) / dayMs);
    return [
      problem(
        'CERT_NOT_YET_VALID',
        `The certificate is valid only from ${notBefore.toISOString()} (in ${daysText(daysUntil)}). ` +
          'Run again once it is valid, or check the clock of the machine that issued it.',
      ),
    ];
  }
  if (daysRemaining < minDays) {
    return [
      problem(
        'CERT_EXPIRES_SOON',
        `The certificate expires on ${notAfter.toISOString()}, in ${daysText(daysRemaining)}: fewer than the ` +
          `${minDays} required (--min-days, certificate.minDaysRemaining). Renew it now and use the renewed PFX.`,
      ),
    ];
  }
  return [];
}

/** RFC 6125 through checkHost: SAN dNSNames, the CN only without them, a wildcard covers one label. */
function hostCoverageProblem(leaf: X509Certificate, fields: CertificateFields, host: string): CertProblem | null {
  const name = host.trim().toLowerCase().replace(/\.$/, '');
  const covered =
    name !== '' &&
    (isIP(name) !== 0
      ? leaf.checkIP(name) !== undefined
      : leaf.checkHost(name, { subject: 'default', wildcards: true, partialWildcards: false }) !== undefined);
  if (covered) return null;
  const names =
    fields.dnsNames.length > 0
      ? fields.dnsNames.join(', ')
      : `only the subject ${formatDistinguishedName(leaf.subject)}`;
  return problem(
    'HOST_NOT_COVERED',
    `The certificate does not cover host "${host}" (it names: ${names}). A wildcard covers exactly one label: ` +
      '*.contoso.com covers crm.contoso.com, not contoso.com nor a.crm.contoso.com. Request a certificate whose ' +
      `subject alternative names include ${name === '' ? 'the host' : name}.`,
  );
}

function trustProblems(leaf: X509Certificate, others: X509Certificate[], fields: CertificateFields): CertProblem[] {
  const problems: CertProblem[] = [];
  if (isSelfSigned(leaf)) {
    problems.push(
      problem(
        'SELF_SIGNED',
        'The certificate is self-signed: for evaluation only. For production use a certificate issued by a CA that ' +
          'the D365 servers, AD FS and your users trust.',
      ),
    );
  } else {
    const walk = walkChain(leaf, others);
    if (!walk.complete) {
      const missing = formatDistinguishedName(walk.missingIssuer ?? '');
      problems.push(
        problem(
          'CHAIN_INCOMPLETE',
          `The PFX does not carry the issuer chain up to a root: the certificate of "${missing}" is missing. Add the ` +
            'intermediate and root certificates to the PFX (openssl pkcs12 -export ... -certfile chain.pem), or make ' +
            'sure every server already has them in its Intermediate and Trusted Root stores.',
        ),
      );
    }
  }
  // No EKU extension means any usage is allowed (RFC 5280 4.2.1.12): no warning then.
  const eku = fields.extendedKeyUsage;
  if (eku !== null && !eku.includes(Oid.serverAuth)) {
    problems.push(
      problem(
        'NO_SERVER_AUTH_EKU',
        `The certificate's extended key usage (${describeUsages(eku)}) does not include Server Authentication ` +
          `(serverAuth, ${Oid.serverAuth}): HTTPS bindings (IIS, AD FS) will not accept it. Request it with the Server ` +
          'Authentication usage if it also serves HTTPS.',
      ),
    );
  }
  return problems;
}

function describeUsages(oids: readonly string[]): string {
  return oids.length === 0 ? 'empty' : oids.map((oid) => extendedKeyUsageNames[oid] ?? oid).join(', ');
}
