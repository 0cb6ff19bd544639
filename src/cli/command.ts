// What every command does before its own work: parse its flags by our rules (usage.ts), answer --help, and
// take the flags it cannot do without. A command is its help text, its flags and a run function.
import type { CliIo } from '../hosts/cli-host.js';
import { EXIT, parseCommandArgs, UsageError, type CommandOptions } from './usage.js';

export type CommandRun = (argv: string[], io: CliIo) => Promise<number>;

/** The parsed flags of a command with these options. */
export type CommandValues<T extends CommandOptions> = ReturnType<typeof parseCommandArgs<T>>['values'];

export interface CommandDefinition<T extends CommandOptions, R extends keyof T & string> {
  help: string;
  options: T;
  /** Flags without which the command cannot run, each with how the usage writes it ("--config FILE"). */
  required?: { [K in R]: string };
  run(values: CommandValues<T> & { [K in R]: string }, io: CliIo): Promise<number>;
}

/** A command: --help prints the help (exit 0), a missing required flag is a usage error (exit 2). */
export function defineCommand<T extends CommandOptions, R extends keyof T & string = never>(
  definition: CommandDefinition<T, R>,
): CommandRun {
  return async (argv, io) => {
    const values = parseCommandArgs(argv, definition.options).values as CommandValues<T> & { help?: boolean };
    if (values.help) {
      io.stdout(definition.help);
      return EXIT.ok;
    }
    for (const [name, usage] of Object.entries<string>(definition.required ?? {})) {
      if ((values as Record<string, unknown>)[name] === undefined) throw new UsageError(`${usage} is required`);
    }
    return definition.run(values as CommandValues<T> & { [K in R]: string }, io);
  };
}
