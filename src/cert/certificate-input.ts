// The new certificate as a run is given it (a PFX file, or the PFX as base64 in a secret, and its password),
// read the same way by every front end: the command line (--pfx, --pfx-base64-env, --password-env) and the
// pipeline steps (pfx-file, pfx-base64, pfx-password). Every secret form is registered with the mask before
// anything else sees it.
import { resolve } from 'node:path';
import { decodePfxBase64 } from './base64.js';
import { readPfxFile } from './pfx-file.js';

/** The PFX as handed to the run: bytes and password, plus where it came from (for messages; never the secret). */
export interface CertificateInput {
  pfx: Buffer;
  password: string;
  /** "file ./new.pfx", "input pfx-base64", ... */
  source: string;
}

export interface GivenCertificate {
  /** The PFX as base64: read on use; the field its problems name; where it came from ("input pfx-base64"). */
  base64?: { text: () => string; field: string; source: string };
  /** The PFX file as given (relative to cwd), and the field its problems name. */
  file?: { path: string; field: string };
  /** The password, when one was given (read only when there is a certificate). */
  password?: () => string;
  /** How the front end names each of the three in messages ("--pfx FILE", "pfx-file", ...). */
  names: { base64: string; file: string; password: string };
  cwd: string;
  registerSecret(value: string | Buffer): void;
  /** The front end's error for a usage mistake (the CLI exits 2 on it). */
  refuse(message: string): Error;
}

/** Reads the certificate the run was given, or undefined when it was given none. */
export function readCertificateInput(given: GivenCertificate): CertificateInput | undefined {
  const { base64, file, names } = given;
  if (base64 && file) throw given.refuse(`give either ${names.base64} or ${names.file}, not both`);
  if (!base64 && !file) {
    if (given.password)
      throw given.refuse(`${names.password} is set but there is no certificate: give ${names.base64} or ${names.file}`);
    return undefined;
  }
  const password = given.password?.() ?? '';
  if (password) given.registerSecret(password);
  if (base64) {
    const text = base64.text();
    given.registerSecret(text);
    const pfx = decodePfxBase64(text, base64.field);
    given.registerSecret(pfx);
    return { pfx, password, source: base64.source };
  }
  const pfx = readPfxFile(resolve(given.cwd, file!.path), file!.field);
  given.registerSecret(pfx);
  return { pfx, password, source: `file ${file!.path}` };
}
