// Reads a PFX file given on the command line or in config; a missing or odd path is bad input.
import { readFileSync, statSync } from 'node:fs';
import { InputError } from './errors.js';

/** PFX files are a few KB; anything this large is the wrong file. */
export const maxPfxFileBytes = 1024 * 1024;

export function readPfxFile(path: string, field: string): Buffer {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new InputError(field, `"${path}" is not a file.`, 'Give the path of the .pfx/.p12 file.');
    size = stat.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new InputError(
        field,
        `file "${path}" does not exist.`,
        'Check the path (relative paths start at the working directory).',
      );
    }
    throw new InputError(field, `cannot read "${path}" (${code ?? 'error'}).`, 'Check the path and its permissions.');
  }
  if (size > maxPfxFileBytes) {
    throw new InputError(
      field,
      `"${path}" is ${size} bytes, far too large for a PFX.`,
      'Give the path of the .pfx/.p12 file.',
    );
  }
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(field, `cannot read "${path}" (${code ?? 'error'}).`, 'Check the path and its permissions.');
  }
}
