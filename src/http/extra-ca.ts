// The extra CA file an operator (or the sandbox, for its test CA) names for every HTTPS client: Graph,
// the D365 Web API and Exchange Online sign-in. Added to Node's roots, never replacing them.
import { readFileSync } from 'node:fs';

/** The environment variable that names a PEM file of extra CAs to trust (the sandbox's test CA). */
export const EXTRA_CA_ENV = 'D365_EXO_SYNC_EXTRA_CA';

/** Reads the extra CA file an environment variable names; undefined when the variable is not set. */
export function loadExtraCa(env: NodeJS.ProcessEnv): string | undefined {
  const file = env[EXTRA_CA_ENV];
  if (!file) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `${EXTRA_CA_ENV} names ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`${EXTRA_CA_ENV} names ${file}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}
