// Public API of the certificate module: load a PFX (file or base64 secret), inspect it for D365
// server-to-server use, and produce what the other phases need (Graph key value, Windows PFX).
//
//   const bytes = decodePfxBase64(secret, 'certificate.pfxBase64');   // or readPfxFile(path, '--pfx')
//   const { report, pfx } = inspectPfx(bytes, password, { hosts: ['crm.contoso.com'], minDays: 14 });
//   if (report.usable && pfx) { leafDerBase64(pfx); buildWindowsPfx(pfx, password); }

export { decodePfxBase64 } from './base64.js';
export { readPfxFile } from './pfx-file.js';
export { type CertificateInput, type GivenCertificate, readCertificateInput } from './certificate-input.js';
export { InputError } from './errors.js';
export { type CertProblem, type ProblemCode, type ProblemSeverity, problemSeverity } from './problems.js';
export { type LoadedPfx, type PfxLoadResult, loadPfx } from './load.js';
export {
  type CertificateReport,
  type ChainEntry,
  type InspectOptions,
  type InspectResult,
  defaultMinDays,
  inspectPfx,
} from './inspect.js';
export type { KeyDescription } from './key-info.js';
export { formatDistinguishedName, leafDerBase64, sha1Thumbprint, sha256Thumbprint } from './certificate-identity.js';
export { type WindowsPfxOptions, buildWindowsPfx, keyExchangeUsage, windowsCspName } from './windows-pfx.js';
