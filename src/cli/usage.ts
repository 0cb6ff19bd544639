import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliIo } from '../hosts/cli-host.js';
import { terminalWidth } from '../text/text-table.js';

/** A mistake in how the command was called: exit code 2, with the fix in the message. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

const SECRET_FLAGS = /^--(password|secret|client-secret|pfx-password|token)(=|$)/;

/** parseArgs with our rules: unknown flags are usage errors, and a secret on the command line is refused. */
export function parseCommandArgs<T extends CommandOptions>(argv: string[], options: T) {
  const secretFlag = argv.find((arg) => SECRET_FLAGS.test(arg));
  if (secretFlag) {
    throw new UsageError(
      `${secretFlag.split('=')[0]} is not accepted: secrets never go on the command line (it is logged and visible to other processes). Put the value in an environment variable and pass --password-env NAME.`,
    );
  }
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** --wide: tables as wide as their widest cell, for a wide terminal or a file. */
export const WIDE_OPTION = { wide: { type: 'boolean' } } as const;

/** --json (the whole result as JSON) and --wide: the output flags of every command that prints a report. */
export const OUTPUT_OPTIONS = { json: { type: 'boolean' }, ...WIDE_OPTION } as const;

/** How wide this command's tables may be: --wide (unlimited), COLUMNS, the terminal, else 100. */
export function tableWidth(io: CliIo, wide: boolean | undefined): number {
  return terminalWidth({ wide: wide === true, env: io.env, ...(io.columns ? { columns: io.columns } : {}) });
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads a secret from the environment variable a flag names; the variable must exist and not be empty. */
export function secretFromEnv(env: NodeJS.ProcessEnv, flag: string, name: string): string {
  if (!ENV_NAME.test(name)) {
    throw new UsageError(
      `${flag} takes the NAME of an environment variable (like PFX_PASSWORD), not the secret itself.`,
    );
  }
  const value = env[name];
  if (value === undefined) throw new UsageError(`${flag} ${name}: the environment variable ${name} is not set.`);
  if (value === '') throw new UsageError(`${flag} ${name}: the environment variable ${name} is empty.`);
  return value;
}

/** A whole number of days from a --min-days style flag; its default when the flag is absent. */
export function wholeDays(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number of days, not "${value}"`);
  return Number(value);
}
