// Writes every file derived from the source of truth (run: npm run generate): config.schema.json from
// the config schema, the reference pages in docs/, and the pipeline packages (actions/, tasks/) from the phases. A test fails when a
// committed file differs from what this writes, or when actions/ or tasks/ hold a file it no longer writes.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { configJsonSchemaText } from '../src/config/json-schema.js';
import { configReference, phasesReference } from '../src/docs/reference.js';
import { pipelinePackageFiles, ROOT } from './packages.js';

/** actions/ and tasks/ belong to the generator: every file in them is generated. */
export const GENERATED_FOLDERS = ['actions', 'tasks'];

/** Manifests go through prettier (the repository's lint checks them); bundles and markdown do not. */
async function formatted(path: string, text: string): Promise<string> {
  if (path.split('/').includes('dist') || !/\.(json|ya?ml)$/.test(path)) return text;
  const options = (await resolveConfig(join(ROOT, path))) ?? {};
  return format(text, { ...options, filepath: path });
}

/** Every generated file, keyed by its path relative to the repository root (forward slashes). */
export async function generatedFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>([
    ['config.schema.json', configJsonSchemaText()],
    ['docs/phases.md', phasesReference()],
    ['docs/config.md', configReference()],
  ]);
  for (const [path, text] of await pipelinePackageFiles()) files.set(path, await formatted(path, text));
  return files;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Files in the generated folders that the generator does not write (left over from a renamed or removed phase). */
export function leftoverFiles(files: Map<string, string>, root = ROOT): string[] {
  return GENERATED_FOLDERS.flatMap((folder) => walk(join(root, folder)))
    .map((path) => relative(root, path).split(sep).join('/'))
    .filter((path) => !files.has(path))
    .sort();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await generatedFiles();
  for (const path of leftoverFiles(files)) {
    rmSync(join(ROOT, path));
    console.log(`removed ${path}`);
  }
  for (const [path, text] of files) {
    mkdirSync(dirname(join(ROOT, path)), { recursive: true });
    writeFileSync(join(ROOT, path), text);
    console.log(`wrote ${path} (${Buffer.byteLength(text)} bytes)`);
  }
}
