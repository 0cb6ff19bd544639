// The toolkit's front ends on the sandbox's fake Windows server and Exchange Online tenant, with no hook in the
// product: each runs from a copy of its package layout whose PowerShell module path is the sandbox's entry script
// (makeFakeServerLayout), found the way a server finds the real one, upwards from the bundle's folder.
//   - the CLI: bundled from src/ with the options of dist/cli.js, once per test process (removed at exit), run
//     in-process (runCliOnFakeServers) or as its own process (fakeServerBin);
//   - an action or a task folder of the built packages: copied into such a layout (actionOnFakeServers,
//     taskOnFakeServers).
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { makeFakeServerLayout } from '@d365-exo-sync/sandbox';
import { CLI_BUILD } from '../../scripts/build.mjs';
import { runCliWith, type CliRun } from './cli.js';
import type { run } from '../../src/cli/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
// Taken when this file loads: tests point TMPDIR at folders they check for leftovers later.
const TEMP = tmpdir();
let layout: string | undefined;

/** A folder of this process, removed when it exits. */
function ownFolder(prefix: string): string {
  const dir = mkdtempSync(join(TEMP, prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The CLI's layout on the fake servers: bin/d365-exo-sync.js and dist/cli.js built from the current src/. */
function cliLayout(): string {
  if (!layout) {
    const dir = makeFakeServerLayout(ownFolder('d365-exo-sync-fake-server-cli-'));
    buildSync({ ...CLI_BUILD, absWorkingDir: ROOT, outdir: join(dir, 'dist'), logLevel: 'error' });
    cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
    // The bundle is ESM in .js files, as under the repository's package.json.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
    layout = dir;
  }
  return layout;
}

/** bin/d365-exo-sync.js of the CLI's layout on the fake servers: what a test starts as its own process. */
export function fakeServerBin(): string {
  return join(cliLayout(), 'bin', 'd365-exo-sync.js');
}

let bundled: Promise<typeof run> | undefined;

/** runCli, with the Windows phases on the sandbox's fake Windows server and Exchange Online tenant. */
export async function runCliOnFakeServers(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  cwd = process.cwd(),
): Promise<CliRun> {
  bundled ??= import(pathToFileURL(join(cliLayout(), 'dist', 'cli.js')).href).then((m: { run: typeof run }) => m.run);
  return runCliWith(await bundled, argv, env, cwd);
}

/** A copy of a built action folder (actions/<phase>) under a layout on the fake servers; returns the copy. */
export function actionOnFakeServers(actionDir: string): string {
  const dir = makeFakeServerLayout(ownFolder('d365-exo-sync-fake-server-action-'));
  const copy = join(dir, 'actions', basename(actionDir));
  mkdirSync(join(dir, 'actions'));
  cpSync(actionDir, copy, { recursive: true });
  return copy;
}

/**
 * A copy of an unpacked task folder on the fake servers. A task carries the module in its own powershell/ folder:
 * the copy keeps it as powershell-toolkit/ and its powershell/ becomes the sandbox's entry script, which loads it.
 */
export function taskOnFakeServers(taskDir: string): string {
  const copy = join(ownFolder('d365-exo-sync-fake-server-task-'), basename(taskDir));
  cpSync(taskDir, copy, { recursive: true });
  renameSync(join(copy, 'powershell'), join(copy, 'powershell-toolkit'));
  return makeFakeServerLayout(copy, join(copy, 'powershell-toolkit'));
}
