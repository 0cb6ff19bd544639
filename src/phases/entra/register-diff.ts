// register-entra's decision, made once for plan and apply: from the keys and names read from the Dynamics CRM
// service principal and what the run was given (a new certificate, or only an earlier run's thumbprint), what to
// send. Pure: no Graph call, no clock read (`now` is passed), so it is unit-tested on its own.
import {
  keysForCertificate,
  mergeServicePrincipalNames,
  planAddKey,
  wantedServicePrincipalNames,
  type CertificateFacts,
  type KeyCredential,
  type KeyCredentialPayload,
  type NewKeyCredential,
} from '../../graph/key-credentials.js';

/** What the run asks for. */
export interface RegisterEntraWanted {
  /** The new certificate of this run (from the PFX), when it was given one. */
  certificate?: CertificateFacts;
  /** An earlier run's certificate (the thumbprint input, normalised), used only when no PFX was given. */
  thumbprint?: string;
  appId: string;
  rootDomain: string;
  ensureDomainSpn: boolean;
}

/** What happens to the key credentials. */
export type KeyChange =
  /** Nothing may be sent (no certificate, or an expired one): the reason in words. */
  | { kind: 'refuse'; reason: string }
  /** The certificate is already a Verify key: nothing to send. */
  | { kind: 'present'; thumbprint: string; key: KeyCredential }
  /** The new key, and the whole collection to PATCH (existing keys resent as they are). */
  | { kind: 'add'; certificate: CertificateFacts; newKey: NewKeyCredential; payload: KeyCredentialPayload[] }
  /** Only a thumbprint was given and no key holds it: nothing can be added without the PFX. */
  | { kind: 'absent'; thumbprint: string };

/** The service principal names: those there, those wanted, and the merged list to send when any is missing. */
export interface NamesChange {
  current: string[];
  wanted: string[];
  names: string[];
  added: string[];
}

export interface RegisterEntraChanges {
  key: KeyChange;
  names: NamesChange;
}

export const NO_CERTIFICATE =
  'register-entra needs the new certificate: pass the PFX (--pfx FILE or --pfx-base64-env VAR, with --password-env VAR)';

/**
 * Why nothing may be sent whatever the service principal holds, or undefined. Known before anything is read,
 * so apply stops before its first Graph call.
 */
export function certificateRefusal(wanted: Pick<RegisterEntraWanted, 'certificate' | 'thumbprint'>, now: Date) {
  const cert = wanted.certificate;
  if (!cert) return wanted.thumbprint ? undefined : NO_CERTIFICATE;
  if (cert.notAfter.getTime() <= now.getTime()) {
    return `the certificate ${cert.thumbprint} expired on ${cert.notAfter.toISOString()}: renew it first; nothing was changed`;
  }
  return undefined;
}

/** The names wanted on the service principal, merged case-insensitively (as Entra compares them) into those there. */
export function diffServicePrincipalNames(
  current: string[],
  wanted: Pick<RegisterEntraWanted, 'appId' | 'rootDomain' | 'ensureDomainSpn'>,
): NamesChange {
  const names = wantedServicePrincipalNames(wanted.appId, wanted.rootDomain, wanted.ensureDomainSpn);
  return { current, wanted: names, ...mergeServicePrincipalNames(current, names) };
}

function diffKeyCredentials(keys: KeyCredential[], wanted: RegisterEntraWanted, now: Date): KeyChange {
  const refusal = certificateRefusal(wanted, now);
  if (refusal) return { kind: 'refuse', reason: refusal };
  if (!wanted.certificate) {
    const thumbprint = wanted.thumbprint!;
    const key = keysForCertificate(keys, thumbprint)[0];
    return key ? { kind: 'present', thumbprint, key } : { kind: 'absent', thumbprint };
  }
  const certificate = wanted.certificate;
  const add = planAddKey(keys, certificate, now);
  if (add.present) return { kind: 'present', thumbprint: certificate.thumbprint, key: add.present };
  return { kind: 'add', certificate, newKey: add.newKey!, payload: add.payload! };
}

/** The changes register-entra makes to the service principal it read. */
export function diffRegisterEntra(
  servicePrincipal: { keys: KeyCredential[]; servicePrincipalNames: string[] },
  wanted: RegisterEntraWanted,
  now: Date,
): RegisterEntraChanges {
  return {
    key: diffKeyCredentials(servicePrincipal.keys, wanted, now),
    names: diffServicePrincipalNames(servicePrincipal.servicePrincipalNames, wanted),
  };
}
