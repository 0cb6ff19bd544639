// npm run package:azure — builds the Azure DevOps extension (.vsix) from the committed tasks/ folder with
// tfx-cli, offline: nothing is downloaded or published. Azure DevOps Services publishes it to the
// Marketplace (tfx extension publish); Azure DevOps Server admins upload the file by hand.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function tfxCli(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('tfx-cli/package.json');
  const pkg = require(pkgFile) as { bin: { tfx: string } };
  return join(dirname(pkgFile), pkg.bin.tfx);
}

export interface VsixOptions {
  /** The folder holding vss-extension.json and one folder per task (default: tasks/). */
  tasksDir?: string;
  /** Where the .vsix goes (default: out/). */
  outDir?: string;
}

/** Runs `tfx extension create` and returns the path of the .vsix it wrote. */
export async function createVsix(options: VsixOptions = {}): Promise<string> {
  const sourceDir = resolve(options.tasksDir ?? join(ROOT, 'tasks'));
  const outDir = resolve(options.outDir ?? join(ROOT, 'out'));
  mkdirSync(outDir, { recursive: true });
  // Every task may start the static PowerShell module (the Windows phases, and the D365 Web API with
  // Windows authentication), and an installed task has only its own folder: stage a copy of tasks/
  // with powershell/ in each task folder, rather than committing eight copies of the module.
  const tasksDir = join(outDir, 'vsix-staging');
  rmSync(tasksDir, { recursive: true, force: true });
  cpSync(sourceDir, tasksDir, { recursive: true });
  for (const name of readdirSync(tasksDir)) {
    if (statSync(join(tasksDir, name)).isDirectory()) {
      cpSync(join(ROOT, 'powershell'), join(tasksDir, name, 'powershell'), { recursive: true });
    }
  }
  const args = [
    tfxCli(),
    'extension',
    'create',
    '--root',
    tasksDir,
    '--manifest-globs',
    'vss-extension.json',
    '--output-path',
    outDir + '/',
    '--no-prompt',
    '--json',
  ];
  const child = spawn(process.execPath, args, { cwd: tasksDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
  const json = stdout.slice(stdout.indexOf('{'));
  let path: string | undefined;
  try {
    path = (JSON.parse(json) as { path?: string }).path;
  } catch {
    path = undefined;
  }
  if (code !== 0 || !path) throw new Error(`tfx extension create failed (exit ${code}):\n${stderr || stdout}`);
  return path;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = await createVsix();
  console.log(`wrote ${relative(process.cwd(), path)} (${statSync(path).size} bytes)`);
}
