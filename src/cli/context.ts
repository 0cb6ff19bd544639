// What `plan` and `run` share: the config loaded (or its problems reported), the certificate read
// from a file or a base64 secret, and the PhaseContext built around a CliHost.
import { resolve } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { configHash } from '../report/run-record.js';
import type { CertificateInput, Phase, PhaseContext } from '../phases/phase.js';
import { CliHost, type CliIo } from '../hosts/cli-host.js';
import { readCertificateInput } from '../cert/index.js';
import { formatConfigProblems } from '../config/problem-text.js';
import { secretFromEnv, tableWidth, UsageError } from './usage.js';
import { buildPhaseContext } from '../pipeline/context.js';
import type { Config } from '../config/schema.js';

export const CERTIFICATE_OPTIONS = {
  pfx: { type: 'string' },
  'pfx-base64-env': { type: 'string' },
  'password-env': { type: 'string' },
} as const;

export interface CertificateFlags {
  pfx?: string;
  'pfx-base64-env'?: string;
  'password-env'?: string;
}

/** Reads the certificate flags; the password and the PFX are masked before anything else sees them. */
export function certificateFromFlags(flags: CertificateFlags, io: CliIo, host: CliHost): CertificateInput | undefined {
  const base64Env = flags['pfx-base64-env'];
  const passwordEnv = flags['password-env'];
  return readCertificateInput({
    ...(base64Env
      ? {
          base64: {
            text: () => secretFromEnv(io.env, '--pfx-base64-env', base64Env),
            field: `environment variable ${base64Env}`,
            source: `environment variable ${base64Env}`,
          },
        }
      : {}),
    ...(flags.pfx ? { file: { path: flags.pfx, field: '--pfx' } } : {}),
    ...(passwordEnv ? { password: () => secretFromEnv(io.env, '--password-env', passwordEnv) } : {}),
    names: { base64: '--pfx-base64-env VAR', file: '--pfx FILE', password: '--password-env' },
    cwd: io.cwd,
    registerSecret: (value) => host.registerSecret(value),
    refuse: (message) => new UsageError(message),
  });
}

export interface LoadedRun {
  config: Config;
  configHash: string;
}

/** Loads the config; on problems prints them and returns undefined (the caller exits 1). */
export function loadConfigOrReport(file: string, io: CliIo, json: boolean): LoadedRun | undefined {
  const loaded = loadConfigFile(resolve(io.cwd, file));
  if (loaded.config) return { config: loaded.config, configHash: configHash(loaded.text) };
  if (json) io.stdout(JSON.stringify({ valid: false, problems: loaded.problems }, null, 2) + '\n');
  else {
    io.stderr(`${file}: the config has ${loaded.problems.length} problem(s); nothing was done.\n\n`);
    io.stderr(formatConfigProblems(file, loaded.problems, tableWidth(io, false)));
  }
  return undefined;
}

export function buildContext(
  config: Config,
  host: CliHost,
  io: CliIo,
  inputs: Record<string, string>,
  certificate?: CertificateInput,
): PhaseContext {
  return buildPhaseContext({ config, host, env: io.env, inputs, ...(certificate ? { certificate } : {}) });
}

/**
 * Names --set takes besides a phase's declared inputs: the current certificate's thumbprint, which preflight and
 * register-entra read to pick the key in use when no PFX is given.
 */
const ALWAYS_TAKEN = ['thumbprint'];

/** The --set names these phases take; an unknown name is a usage error that lists them (never silently ignored). */
export function settableNames(phases: Phase[]): string[] {
  return [...new Set([...phases.flatMap((p) => p.inputs.map((i) => i.name)), ...ALWAYS_TAKEN])].sort();
}

/** --set name=value pairs: the outputs of earlier phases (tenant-id, thumbprint, organization-id, ...). */
export function parseSets(
  sets: string[] | undefined,
  allowed?: { names: string[]; what: string },
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const item of sets ?? []) {
    const match = /^([a-z][a-z0-9-]*)=(.*)$/s.exec(item);
    if (!match)
      throw new UsageError(
        `--set ${item}: use --set name=value, e.g. --set tenant-id=11111111-2222-3333-4444-555555555555`,
      );
    const name = match[1]!;
    if (allowed && !allowed.names.includes(name))
      throw new UsageError(
        `--set ${name}: ${name} is not an input of ${allowed.what}: use one of ${allowed.names.join(', ')}`,
      );
    values[name] = match[2]!;
  }
  return values;
}
