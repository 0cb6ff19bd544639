// The keyCredentials rules, as pure functions (no I/O), so they are tested on their own:
// - PATCH replaces the whole collection, so every key to keep is resent; existing keys are resent
//   WITHOUT `key` and `displayName` (resending displayName gives "Update to existing credential with
//   KeyId '…' is not allowed."; Microsoft's ConfigureCrmServerSideSync.ps1 in microsoft/PowerApps-Samples
//   resends keys the same way; when a tenant refuses it, phases/entra/patch-keys.ts sends the other form);
// - the new key: AsymmetricX509Cert / Verify, base64 DER, explicit start and end from the
//   certificate, customKeyIdentifier = base64 of the 20 SHA-1 thumbprint bytes (what Graph itself
//   fills in when it is omitted), and a displayName that marks it as added by this toolkit;
// - a key's certificate is recognised by the SHA-1 of `key` when Graph returns it (single-object
//   $select=keyCredentials), else by decoding customKeyIdentifier in any of the forms seen in the
//   wild (raw thumbprint bytes, or the hex text itself) — never by assuming one stored form.
import { daysLeft } from '../days.js';
import { createHash, X509Certificate } from 'node:crypto';

export interface KeyCredential {
  customKeyIdentifier: string | null;
  displayName: string | null;
  endDateTime: string | null;
  /** Base64 DER; null on collection queries (Graph returns it only for a single object). */
  key: string | null;
  keyId: string;
  startDateTime: string | null;
  type: string;
  usage: string;
}

/** What is sent for a key that already exists: everything but `key` and `displayName`. */
export type ResentKeyCredential = Omit<KeyCredential, 'key' | 'displayName'>;

/** What is sent for the new key (Graph assigns the keyId). */
export interface NewKeyCredential {
  type: 'AsymmetricX509Cert';
  usage: 'Verify';
  key: string;
  customKeyIdentifier: string;
  startDateTime: string;
  endDateTime: string;
  displayName: string;
}

export type KeyCredentialPayload = ResentKeyCredential | NewKeyCredential | KeyBytesResend;

/** The facts of a certificate the cloud side needs. */
export interface CertificateFacts {
  der: Buffer;
  /** SHA-1, upper-case hex, no separators. */
  thumbprint: string;
  notBefore: Date;
  notAfter: Date;
  subject: string;
}

export function certificateFacts(x509: X509Certificate): CertificateFacts {
  return {
    der: x509.raw,
    thumbprint: sha1Hex(x509.raw),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    subject: x509.subject.replace(/\n/g, ', '),
  };
}

export const sha1Hex = (data: Buffer) => createHash('sha1').update(data).digest('hex').toUpperCase();

/** Every displayName this toolkit writes starts with this. */
export const TOOLKIT_MARK = 'd365-exo-sync';

/** Graph's date form: ISO 8601 UTC without milliseconds, e.g. 2027-01-31T12:00:00Z. */
export const graphDate = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** "d365-exo-sync <THUMBPRINT> <YYYY-MM-DD>": who added it, which certificate, when. Plain ASCII. */
export function toolkitDisplayName(thumbprint: string, addedOn: Date): string {
  return `${TOOLKIT_MARK} ${thumbprint} ${addedOn.toISOString().slice(0, 10)}`;
}

export function isToolkitKey(key: Pick<KeyCredential, 'displayName'>): boolean {
  return (
    typeof key.displayName === 'string' &&
    (key.displayName === TOOLKIT_MARK || key.displayName.startsWith(TOOLKIT_MARK + ' '))
  );
}

const HEX40 = /^[0-9a-fA-F]{40}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The SHA-1 thumbprint a customKeyIdentifier stands for, in the forms it is found in:
 * base64 of the 20 thumbprint bytes (Graph's default), the 40 hex characters themselves (what a
 * client sending the hex text as Edm.Binary gets back), or base64 of the hex text.
 */
export function thumbprintFromCustomKeyIdentifier(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (HEX40.test(text)) return text.toUpperCase();
  if (!BASE64.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 20) return bytes.toString('hex').toUpperCase();
  const ascii = bytes.toString('latin1');
  if (HEX40.test(ascii)) return ascii.toUpperCase();
  return undefined;
}

export interface KeyThumbprint {
  thumbprint?: string;
  /** "key": SHA-1 of the certificate Graph returned; "customKeyIdentifier": decoded; "unknown": neither. */
  source: 'key' | 'customKeyIdentifier' | 'unknown';
}

export function keyThumbprint(key: Pick<KeyCredential, 'key' | 'customKeyIdentifier'>): KeyThumbprint {
  if (key.key) {
    try {
      return { thumbprint: sha1Hex(Buffer.from(key.key, 'base64')), source: 'key' };
    } catch {
      // not base64: fall back to the identifier
    }
  }
  const fromId = thumbprintFromCustomKeyIdentifier(key.customKeyIdentifier);
  return fromId ? { thumbprint: fromId, source: 'customKeyIdentifier' } : { source: 'unknown' };
}

/** The form an existing key is resent in: the six fields Graph documents, minus key and displayName. */
export function resendForm(key: KeyCredential): ResentKeyCredential {
  return {
    customKeyIdentifier: key.customKeyIdentifier,
    endDateTime: key.endDateTime,
    keyId: key.keyId,
    startDateTime: key.startDateTime,
    type: key.type,
    usage: key.usage,
  };
}

/**
 * The other way to resend an existing key: its certificate bytes with type, usage and dates, without keyId and
 * displayName, as CSS-Exchange's Remove-CertificateFromAzureServicePrincipal.ps1 does ("otherwise the PATCH call
 * will fail") and as the Graph how-to for adding a certificate resends keys. Graph then assigns a new keyId, and
 * the toolkit's displayName marker of an earlier key is not kept (retire-previous keeps such a key: safe side).
 */
export interface KeyBytesResend {
  type: string;
  usage: string;
  key: string;
  startDateTime: string | null;
  endDateTime: string | null;
}

export function resendWithKeyBytes(key: KeyCredential): KeyBytesResend {
  if (!key.key) throw new Error(`key credential ${key.keyId} was read without its certificate (key)`);
  return {
    type: key.type,
    usage: key.usage,
    key: key.key,
    startDateTime: key.startDateTime,
    endDateTime: key.endDateTime,
  };
}

export function newKeyCredential(cert: CertificateFacts, addedOn: Date): NewKeyCredential {
  return {
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    key: cert.der.toString('base64'),
    customKeyIdentifier: Buffer.from(cert.thumbprint, 'hex').toString('base64'),
    startDateTime: graphDate(cert.notBefore),
    endDateTime: graphDate(cert.notAfter),
    displayName: toolkitDisplayName(cert.thumbprint, addedOn),
  };
}

const time = (value: string | null) => (value ? Date.parse(value) : NaN);

export type KeyState = 'valid' | 'expired' | 'not-yet-valid' | 'no-dates';

export function keyState(key: Pick<KeyCredential, 'startDateTime' | 'endDateTime'>, now: Date): KeyState {
  const start = time(key.startDateTime);
  const end = time(key.endDateTime);
  if (Number.isNaN(end)) return 'no-dates';
  if (end <= now.getTime()) return 'expired';
  if (!Number.isNaN(start) && start > now.getTime()) return 'not-yet-valid';
  return 'valid';
}

/** One line of the key table in plans and records. Never carries `key` itself (it is public, but long). */
export interface KeySummary {
  keyId: string;
  thumbprint: string | null;
  thumbprintFrom: KeyThumbprint['source'];
  type: string;
  usage: string;
  start: string | null;
  end: string | null;
  state: KeyState;
  daysLeft: number | null;
  addedBy: 'd365-exo-sync' | 'someone else';
  displayName: string | null;
}

export const DAY_MS = 86_400_000;

export function summarizeKey(key: KeyCredential, now: Date): KeySummary {
  const { thumbprint, source } = keyThumbprint(key);
  const end = time(key.endDateTime);
  return {
    keyId: key.keyId,
    thumbprint: thumbprint ?? null,
    thumbprintFrom: source,
    type: key.type,
    usage: key.usage,
    start: key.startDateTime,
    end: key.endDateTime,
    state: keyState(key, now),
    daysLeft: Number.isNaN(end) ? null : daysLeft(end, now),
    addedBy: isToolkitKey(key) ? 'd365-exo-sync' : 'someone else',
    displayName: key.displayName,
  };
}

/** The keys holding this certificate for verification (Verify usage). */
export function keysForCertificate(keys: KeyCredential[], thumbprint: string): KeyCredential[] {
  const wanted = thumbprint.toUpperCase();
  return keys.filter((k) => k.usage === 'Verify' && keyThumbprint(k).thumbprint === wanted);
}

export interface AddKeyPlan {
  /** The key already holding the certificate, when there is one: nothing to do. */
  present?: KeyCredential;
  /** Otherwise the new key and the full collection to PATCH. */
  newKey?: NewKeyCredential;
  payload?: KeyCredentialPayload[];
}

/** Adds the certificate unless a Verify key already holds it; every existing key is kept as it is. */
export function planAddKey(existing: KeyCredential[], cert: CertificateFacts, addedOn: Date): AddKeyPlan {
  const present = keysForCertificate(existing, cert.thumbprint)[0];
  if (present) return { present };
  const newKey = newKeyCredential(cert, addedOn);
  return { newKey, payload: [...existing.map(resendForm), newKey] };
}

export interface RetireDecision {
  key: KeyCredential;
  reason: string;
}

export interface RetirePlan {
  remove: RetireDecision[];
  keep: RetireDecision[];
  /** Set when nothing may be removed (no valid key would be left); the reason in words. */
  refused?: string;
  /** The collection to PATCH when something is removed. */
  payload?: ResentKeyCredential[];
}

/**
 * Which keys go: keys this toolkit added for a certificate other than the current one, and (when
 * asked) expired keys of others. Refuses when the current certificate's key is not on the service
 * principal or not valid now: the service principal is never left without a valid key.
 */
export function planRetire(
  existing: KeyCredential[],
  currentThumbprint: string,
  now: Date,
  options: { expiredKeysOfOthers: boolean },
): RetirePlan {
  const current = currentThumbprint.toUpperCase();
  const remove: RetireDecision[] = [];
  const keep: RetireDecision[] = [];
  for (const key of existing) {
    const { thumbprint } = keyThumbprint(key);
    const state = keyState(key, now);
    if (thumbprint === current) {
      keep.push({ key, reason: 'the current certificate' });
    } else if (isToolkitKey(key)) {
      remove.push({
        key,
        reason: `added by d365-exo-sync for ${thumbprint ?? 'an unknown certificate'}, superseded by ${current}`,
      });
    } else if (state === 'expired' && options.expiredKeysOfOthers) {
      remove.push({
        key,
        reason: `expired on ${key.endDateTime} (not added by d365-exo-sync; retire.expiredKeys is on)`,
      });
    } else if (state === 'expired') {
      keep.push({ key, reason: 'expired, but not added by d365-exo-sync (set retire.expiredKeys to remove it)' });
    } else {
      keep.push({ key, reason: 'not added by d365-exo-sync' });
    }
  }
  const currentKeys = keysForCertificate(existing, current);
  if (!currentKeys.length) {
    return {
      remove: [],
      keep: existing.map((key) => ({ key, reason: 'kept: the current certificate is not on the service principal' })),
      refused: `the current certificate ${current} is not among the key credentials: run register-entra for it first; nothing is removed`,
    };
  }
  if (!currentKeys.some((k) => keyState(k, now) === 'valid')) {
    return {
      remove: [],
      keep: existing.map((key) => ({ key, reason: 'kept: the current certificate is not valid now' })),
      refused: `the key of the current certificate ${current} is not valid now (${currentKeys.map((k) => `${k.startDateTime} – ${k.endDateTime}`).join(', ')}): removing others could leave no valid key; nothing is removed`,
    };
  }
  if (!remove.length) return { remove, keep };
  return { remove, keep, payload: keep.map((d) => resendForm(d.key)) };
}

/** The service principal names to ensure: the bare app id, and <appId>/*.<rootDomain> when asked. */
export function wantedServicePrincipalNames(appId: string, rootDomain: string, ensureDomainSpn: boolean): string[] {
  return ensureDomainSpn ? [appId, `${appId}/*.${rootDomain}`] : [appId];
}

/** The names after adding what is missing (compared without case); existing names are kept as they are. */
export function mergeServicePrincipalNames(existing: string[], wanted: string[]): { names: string[]; added: string[] } {
  const have = new Set(existing.map((n) => n.toLowerCase()));
  const added = wanted.filter((n) => !have.has(n.toLowerCase()));
  return { names: [...existing, ...added], added };
}
