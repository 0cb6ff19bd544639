// Bad input from the user (a secret, a path, a parameter): names the field and says how to fix it.

export class InputError extends Error {
  /** The input that is wrong: a config key, a CLI option, a pipeline input or secret name. */
  readonly field: string;
  /** What is wrong, without the fix. */
  readonly problem: string;
  /** How to fix it, in one or two sentences. */
  readonly fix: string;

  constructor(field: string, problem: string, fix: string) {
    super(`${field}: ${problem} Fix: ${fix}`);
    this.name = 'InputError';
    this.field = field;
    this.problem = problem;
    this.fix = fix;
  }
}
