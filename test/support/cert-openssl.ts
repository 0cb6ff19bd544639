// Runs the openssl command line for tests: PFX files as real tools write them, and independent
// readings of what our code wrote. Passwords travel through the environment (`env:`), never argv.
import { spawnSync } from 'node:child_process';

export interface OpensslResult {
  status: number;
  stdout: Buffer;
  stderr: string;
}

/** Environment variable that carries a password to openssl (`-passin env:...` / `-passout env:...`). */
export const opensslPasswordVariable = 'TEST_PFX_PASSWORD';

export function runOpenssl(
  args: readonly string[],
  options: { password?: string; input?: Buffer } = {},
): OpensslResult {
  const env = { ...process.env };
  if (options.password !== undefined) env[opensslPasswordVariable] = options.password;
  const result = spawnSync('openssl', args, { env, input: options.input, maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw new Error(`cannot run openssl: ${result.error.message}`);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

/** Like runOpenssl, but throws with openssl's own error text when it fails. */
export function openssl(args: readonly string[], options: { password?: string; input?: Buffer } = {}): Buffer {
  const result = runOpenssl(args, options);
  if (result.status !== 0)
    throw new Error(`openssl ${args[0] ?? ''} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout;
}

let opensslPresent: boolean | undefined;
export function hasOpenssl(): boolean {
  if (opensslPresent === undefined) {
    const result = spawnSync('openssl', ['version']);
    opensslPresent = !result.error && result.status === 0;
  }
  return opensslPresent;
}

let legacyProviderPresent: boolean | undefined;
/** OpenSSL 3 writes RC2 (`pkcs12 -legacy`) only when its legacy provider module is installed. */
export function hasOpensslLegacyProvider(): boolean {
  if (legacyProviderPresent === undefined) {
    legacyProviderPresent = hasOpenssl() && runOpenssl(['list', '-providers', '-provider', 'legacy']).status === 0;
  }
  return legacyProviderPresent;
}

/** `openssl pkcs12 -info -nodes` of a PFX, read from stdin: the dump with bag and key attributes. */
export function opensslPkcs12Info(pfx: Buffer, password: string, extraArgs: readonly string[] = []): string {
  const result = runOpenssl(['pkcs12', '-info', '-nodes', '-passin', `env:${opensslPasswordVariable}`, ...extraArgs], {
    password,
    input: pfx,
  });
  if (result.status !== 0) throw new Error(`openssl pkcs12 -info failed: ${result.stderr.trim()}`);
  // -info writes the structure lines to stderr and the PEM blocks with their attributes to stdout.
  return `${result.stderr}\n${result.stdout.toString('utf8')}`;
}

/** `openssl x509 -fingerprint` as upper-case hex without colons. */
export function opensslFingerprint(certificatePem: string, digest: 'sha1' | 'sha256' = 'sha1'): string {
  const out = openssl(['x509', '-noout', '-fingerprint', `-${digest}`], {
    input: Buffer.from(certificatePem),
  }).toString();
  const match = /Fingerprint=([0-9A-F:]+)/i.exec(out);
  if (!match?.[1]) throw new Error(`unexpected openssl output: ${out}`);
  return match[1].replaceAll(':', '').toUpperCase();
}
