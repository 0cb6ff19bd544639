// The problem codes of `cert inspect` (a public contract: other tools match on `code`) and their severities.

export type ProblemCode =
  | 'PFX_UNREADABLE'
  | 'PFX_BAD_PASSWORD'
  | 'PFX_NO_PRIVATE_KEY'
  | 'PFX_KEY_MISMATCH'
  | 'KEY_NOT_RSA'
  | 'KEY_TOO_SMALL'
  | 'SIGNATURE_SHA1'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_EXPIRES_SOON'
  | 'HOST_NOT_COVERED'
  | 'SELF_SIGNED'
  | 'CHAIN_INCOMPLETE'
  | 'NO_SERVER_AUTH_EKU';

export type ProblemSeverity = 'error' | 'warning';

export interface CertProblem {
  code: ProblemCode;
  severity: ProblemSeverity;
  /** What is wrong and how to fix it. Never contains the password. */
  message: string;
}

/** Severity is fixed per code, so callers cannot disagree with the contract. */
export const problemSeverity: Readonly<Record<ProblemCode, ProblemSeverity>> = {
  PFX_UNREADABLE: 'error',
  PFX_BAD_PASSWORD: 'error',
  PFX_NO_PRIVATE_KEY: 'error',
  PFX_KEY_MISMATCH: 'error',
  KEY_NOT_RSA: 'error',
  KEY_TOO_SMALL: 'error',
  SIGNATURE_SHA1: 'error',
  CERT_EXPIRED: 'error',
  CERT_NOT_YET_VALID: 'error',
  CERT_EXPIRES_SOON: 'error',
  HOST_NOT_COVERED: 'error',
  SELF_SIGNED: 'warning',
  CHAIN_INCOMPLETE: 'warning',
  NO_SERVER_AUTH_EKU: 'warning',
};

export function problem(code: ProblemCode, message: string): CertProblem {
  return { code, severity: problemSeverity[code], message };
}

/** True when no problem stops the certificate from being used. */
export function isUsable(problems: readonly CertProblem[]): boolean {
  return problems.every((p) => p.severity !== 'error');
}
