// Builds the pipeline packages (bundles, manifests, the .vsix) once per test run, into a folder under
// out/ keyed by a hash of everything they are built from; the packaging test files share it (they run
// in parallel processes: the first to finish building renames its folder into place, others reuse it).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { generatedFiles } from '../../../scripts/generate.js';
import { createVsix } from '../../../scripts/package-azure.js';
import { ROOT } from '../../../scripts/packages.js';
import { extractZip } from './zip.js';

export interface BuiltPackages {
  /** A tree like the repository's: actions/<phase>/..., tasks/<phase>/..., config.schema.json. */
  root: string;
  /** The generated files, path (forward slashes, relative to the repository) -> content. */
  files: Map<string, string>;
  vsix: string;
  /** The .vsix unpacked, as an Azure DevOps Server admin (or the agent) sees it. */
  unpacked: string;
  /** How long building took in this process (0: reused). */
  buildMs: number;
}

const INPUT_FILES = [
  'package.json',
  'package-lock.json',
  '.prettierrc.json',
  'scripts/packages.ts',
  'scripts/generate.ts',
  'scripts/package-azure.ts',
];

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
}

function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of [...walk(join(ROOT, 'src')), ...INPUT_FILES.map((f) => join(ROOT, f))]) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function load(dir: string, buildMs: number): BuiltPackages {
  const manifest = JSON.parse(readFileSync(join(dir, 'built.json'), 'utf8')) as { files: string[]; vsix: string };
  const files = new Map(manifest.files.map((path) => [path, readFileSync(join(dir, 'tree', path), 'utf8')]));
  return { root: join(dir, 'tree'), files, vsix: join(dir, manifest.vsix), unpacked: join(dir, 'vsix'), buildMs };
}

let cached: Promise<BuiltPackages> | undefined;

async function buildInto(dir: string): Promise<void> {
  const files = await generatedFiles();
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, 'tree', path)), { recursive: true });
    writeFileSync(join(dir, 'tree', path), text);
  }
  const vsix = await createVsix({ tasksDir: join(dir, 'tree', 'tasks'), outDir: join(dir, 'out') });
  extractZip(readFileSync(vsix), join(dir, 'vsix'));
  const manifest = { files: [...files.keys()], vsix: relative(dir, vsix).split(sep).join('/') };
  writeFileSync(join(dir, 'built.json'), JSON.stringify(manifest, null, 2));
}

/** The packages built from the current sources; built at most once per test run. */
export function builtPackages(): Promise<BuiltPackages> {
  cached ??= (async () => {
    const base = join(ROOT, 'out', 'packaging-test');
    const dir = join(base, inputsHash());
    if (existsSync(join(dir, 'built.json'))) return load(dir, 0);
    const started = Date.now();
    const temp = `${dir}.tmp-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    await buildInto(temp);
    try {
      renameSync(temp, dir);
    } catch {
      // Another test process finished first: use its build.
      rmSync(temp, { recursive: true, force: true });
    }
    // Builds of older sources are of no use any more.
    for (const name of readdirSync(base)) {
      if (join(base, name) !== dir && !name.includes('.tmp-'))
        rmSync(join(base, name), { recursive: true, force: true });
    }
    return load(dir, Date.now() - started);
  })();
  return cached;
}
