// Loads a PFX into node:crypto objects: the leaf (chosen by its private key), the rest of the chain,
// and the private key as an in-memory KeyObject. Bad files become problems, never exceptions.
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { guessLeaf, orderChain } from './chain.js';
import { describeNonPfx } from './content-sniff.js';
import { Oid } from './oids.js';
import { type PfxCertificateEntry, type PfxKeyEntry, PfxReadError, readPkcs12 } from './pkcs12-read.js';
import { type CertProblem, problem } from './problems.js';

export interface LoadedPfx {
  /** The certificate whose public key matches the private key. */
  leaf: X509Certificate;
  /** The other certificates: issuers from the leaf upward, then unrelated ones in file order. */
  chain: X509Certificate[];
  /** The leaf's private key, in memory only. */
  privateKey: KeyObject;
  /** Friendly name of the leaf's key or certificate bag, if the file carries one. */
  friendlyName: string | null;
}

export interface PfxLoadResult {
  /** Present when a private key and its certificate were found. */
  pfx?: LoadedPfx;
  /** Every certificate in the file, in file order (also when `pfx` is absent). */
  certificates: X509Certificate[];
  /** PFX_UNREADABLE, PFX_BAD_PASSWORD, PFX_NO_PRIVATE_KEY, PFX_KEY_MISMATCH or KEY_NOT_RSA. */
  problems: CertProblem[];
}

const reExportFix =
  'Export the certificate again as a PFX (PKCS#12) with its private key: on Windows "Export... > Yes, export the private key", ' +
  'or `openssl pkcs12 -export -in cert.pem -inkey key.pem -certfile chain.pem -out cert.pfx`.';

const passwordFix =
  'Check the secret that holds the PFX password: the exact characters used at export (case matters), ' +
  'no added quotes, spaces or trailing line break.';

const passwordNeededFix =
  'Give its password: on the command line put it in an environment variable and pass --password-env VAR ' +
  '(never the password itself); in a pipeline set the pfx-password input from a secret.';

interface ParsedKey {
  entry: PfxKeyEntry;
  key: KeyObject | null;
}

export function loadPfx(data: Buffer, password: string): PfxLoadResult {
  const foreign = describeNonPfx(data);
  if (foreign !== null) return failed('PFX_UNREADABLE', `The file is not a PFX: ${foreign}. ${reExportFix}`);

  let contents;
  try {
    contents = readPkcs12(data, password);
  } catch (error) {
    if (!(error instanceof PfxReadError)) throw error;
    // No password given and the PFX has one: say that, and how to give it, rather than "wrong password".
    if (error.failure === 'bad-password' && password === '')
      return failed(
        'PFX_BAD_PASSWORD',
        `This PFX is protected by a password and none was given (${error.message}). ${passwordNeededFix}`,
      );
    return error.failure === 'bad-password'
      ? failed('PFX_BAD_PASSWORD', `The password does not open this PFX: ${error.message}. ${passwordFix}`)
      : failed('PFX_UNREADABLE', `The PFX cannot be read: ${error.message}. ${reExportFix}`);
  }

  const certificates: X509Certificate[] = [];
  for (const [index, entry] of contents.certificates.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(entry.der);
    } catch {
      return failed(
        'PFX_UNREADABLE',
        `The PFX cannot be read: certificate ${index + 1} in it is damaged. ${reExportFix}`,
      );
    }
    // The same certificate twice (some exports repeat the leaf) is one certificate.
    if (!certificates.some((known) => known.raw.equals(cert.raw))) certificates.push(cert);
  }

  if (contents.keys.length === 0) {
    return {
      certificates,
      problems: [
        problem(
          'PFX_NO_PRIVATE_KEY',
          `The PFX holds ${countCertificates(certificates.length)} but no private key. ${reExportFix}`,
        ),
      ],
    };
  }

  const keys: ParsedKey[] = contents.keys.map((entry) => ({ entry, key: parsePrivateKey(entry) }));
  const usableKeys = keys.flatMap(({ entry, key }) => (key === null ? [] : [{ entry, key }]));
  if (usableKeys.length === 0) {
    const [first] = keys as [ParsedKey];
    if (first.entry.algorithmOid === Oid.rsaEncryption) {
      return failed('PFX_UNREADABLE', `The PFX cannot be read: its RSA private key is damaged. ${reExportFix}`);
    }
    return {
      certificates,
      problems: [
        problem(
          'KEY_NOT_RSA',
          `The private key uses algorithm ${first.entry.algorithmOid}, not RSA. Dynamics 365 server-to-server ` +
            'authentication needs an RSA key: request the certificate with an RSA key of 2048 bits or more.',
        ),
      ],
    };
  }

  for (const { entry, key: privateKey } of usableKeys) {
    const matching = certificates.filter((cert) => matchesKey(cert, privateKey));
    if (matching.length === 0) continue;
    const leaf = pickLeaf(matching, entry, contents.certificates);
    const leafEntry = contents.certificates.find((candidate) => candidate.der.equals(leaf.raw));
    return {
      pfx: {
        leaf,
        chain: orderChain(
          leaf,
          certificates.filter((cert) => cert !== leaf),
        ),
        privateKey,
        friendlyName: entry.friendlyName ?? leafEntry?.friendlyName ?? null,
      },
      certificates,
      problems: [],
    };
  }

  const which =
    certificates.length === 0
      ? 'the PFX holds no certificate at all'
      : `none of its ${countCertificates(certificates.length)} matches it`;
  return {
    certificates,
    problems: [
      problem(
        'PFX_KEY_MISMATCH',
        `The PFX holds a private key but ${which}. Export the certificate together with its own private key ` +
          '(the key its certificate request was made with).',
      ),
    ],
  };
}

/** Best guess of the end-entity certificate for reporting when no key picked it. */
export function reportedLeaf(result: PfxLoadResult): X509Certificate | undefined {
  return result.pfx?.leaf ?? guessLeaf(result.certificates);
}

function failed(code: 'PFX_UNREADABLE' | 'PFX_BAD_PASSWORD', message: string): PfxLoadResult {
  return { certificates: [], problems: [problem(code, message)] };
}

function countCertificates(count: number): string {
  return count === 1 ? '1 certificate' : `${count} certificates`;
}

function parsePrivateKey(entry: PfxKeyEntry): KeyObject | null {
  try {
    return createPrivateKey({ key: entry.pkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    return null;
  }
}

function matchesKey(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/**
 * Several certificates for one key (a renewal that kept the key): the one the key bag names by
 * localKeyId, else the one valid longest.
 */
function pickLeaf(
  matching: X509Certificate[],
  key: PfxKeyEntry,
  entries: readonly PfxCertificateEntry[],
): X509Certificate {
  const keyId = key.localKeyId;
  if (keyId !== null) {
    const named = matching.find((cert) =>
      entries.some((entry) => entry.der.equals(cert.raw) && entry.localKeyId?.equals(keyId)),
    );
    if (named) return named;
  }
  return matching.reduce((best, cert) => (Date.parse(cert.validTo) > Date.parse(best.validTo) ? cert : best));
}
