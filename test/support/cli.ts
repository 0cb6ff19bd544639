// Runs the CLI in-process with captured output and its own environment, as a user would call it.
import { run } from '../../src/cli/index.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): Promise<CliRun> {
  return runCliWith(run, argv, env, cwd);
}

/** The same, with another build of the CLI's run() (test/support/fake-server-cli.ts). */
export async function runCliWith(
  cli: typeof run,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  cwd = process.cwd(),
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await cli(argv, {
    env: { PATH: process.env.PATH, ...env },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    cwd,
  });
  return { code, stdout, stderr };
}
