// The new certificate as the Windows phases need it: its thumbprint and subject (what the module compares), and
// for apply the PFX rebuilt for Windows (src/cert's buildWindowsPfx: legacy CSP named, key usage key-exchange, no KSP
// name carried over) under a one-time password.
//
// The one-time password: the Windows PFX is encrypted with 32 random bytes made for this one PowerShell process,
// not with the pipeline's PFX password. So the pipeline's password never leaves this Node process (not even into the
// child's environment), and what the child does get is worthless once its private temp file is removed: even a
// CertificateReconfiguration.ps1 that hands it to a native program (the module warns when it does) exposes a password
// that opens nothing that still exists. It is registered with the Host's mask like every other secret.
import { randomBytes } from 'node:crypto';
import { buildWindowsPfx, formatDistinguishedName, loadPfx, sha1Thumbprint } from '../../cert/index.js';
import type { Host } from '../../hosts/host.js';
import type { CertificateInput, PhaseContext } from '../phase.js';

export interface CertificateFacts {
  /** SHA-1, upper-case hex. */
  thumbprint: string;
  /** The subject DN as Windows shows it ("CN=crm.contoso.com, O=Contoso"). */
  subject: string;
  notAfter: Date;
}

export interface WindowsPfx {
  /** PKCS#12 for the Windows import, encrypted with `password`. */
  pfx: Buffer;
  /** One-time password of that file (already masked by the Host). */
  password: string;
}

const THUMBPRINT = /^[0-9A-F]{40}$/;

/** A thumbprint as the module and Entra show it (upper-case hex, separators removed), or undefined when it is not one. */
export function normalizeThumbprint(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const cleaned = value.replace(/[\s:]/g, '').toUpperCase();
  return THUMBPRINT.test(cleaned) ? cleaned : undefined;
}

function loaded(certificate: CertificateInput) {
  const result = loadPfx(certificate.pfx, certificate.password);
  const errors = result.problems.filter((p) => p.severity === 'error');
  if (!result.pfx || errors.length) {
    const why = errors.length ? errors.map((p) => `${p.code}: ${p.message}`).join('; ') : 'no certificate with its key';
    throw new Error(`the certificate (${certificate.source}) cannot be used: ${why}`);
  }
  return result.pfx;
}

/** Thumbprint, subject and expiry of the run's PFX; undefined when the run has none. Throws when it does not load. */
export function certificateFacts(ctx: PhaseContext): CertificateFacts | undefined {
  if (!ctx.certificate) return undefined;
  const pfx = loaded(ctx.certificate);
  return {
    thumbprint: sha1Thumbprint(pfx.leaf),
    subject: formatDistinguishedName(pfx.leaf.subject),
    notAfter: new Date(pfx.leaf.validTo),
  };
}

/** The run's PFX rebuilt for Windows under a fresh one-time password (registered with the Host's mask first). */
export function windowsPfx(certificate: CertificateInput, host: Host): WindowsPfx {
  const pfx = loaded(certificate);
  const password = randomBytes(32).toString('base64url');
  host.registerSecret(password);
  const bytes = buildWindowsPfx(pfx, password);
  host.registerSecret(bytes);
  return { pfx: bytes, password };
}

/** Refuses an expired certificate: installing or configuring it would break the S2S connection. */
export function assertNotExpired(facts: CertificateFacts, ctx: PhaseContext, phaseId: string): void {
  if (facts.notAfter.getTime() <= ctx.now.getTime()) {
    throw new Error(
      `${phaseId}: the certificate ${facts.thumbprint} (${ctx.certificate?.source ?? 'given'}) expired on ` +
        `${facts.notAfter.toISOString()}: renew it first; nothing was changed`,
    );
  }
}

/**
 * The new certificate's thumbprint for a phase that takes the PFX or, without it, the input thumbprint: the PFX's
 * (refused when expired, or when the input thumbprint names another certificate), else the input thumbprint;
 * undefined when the run has neither. A thumbprint input that is not one is refused.
 */
export function certificateThumbprint(ctx: PhaseContext, phaseId: string): string | undefined {
  const facts = certificateFacts(ctx);
  const raw = ctx.inputs.thumbprint?.trim();
  const given = normalizeThumbprint(raw);
  if (raw && !given) throw new Error(`${phaseId}: thumbprint ${raw} is not a SHA-1 thumbprint (40 hex characters)`);
  if (!facts) return given;
  assertNotExpired(facts, ctx, phaseId);
  if (given && given !== facts.thumbprint) {
    throw new Error(
      `${phaseId}: the input thumbprint ${given} is not the certificate given (${facts.thumbprint}, ${ctx.certificate!.source}): ` +
        'pass the PFX of that certificate, or the thumbprint of this one',
    );
  }
  return facts.thumbprint;
}
