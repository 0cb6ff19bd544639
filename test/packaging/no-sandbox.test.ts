// The product's bundles hold no emulator, fake server or demo code, and load the sandbox package only when the demo
// command runs. Checked three ways:
//   - the CLI (with the options of dist/cli.js) and the two entries every action and task bundle is built from
//     (src/entries/github.ts, src/entries/azure.ts) are built here with esbuild's metafile: no input is a file of the
//     sandbox package, no output imports it, and tsx (for the demo) is left to run time in the CLI only;
//   - the committed bundles (actions/*/dist, tasks/*/dist) hold none of the strings only the sandbox has;
//   - a planted import of the demo, by path and by the package's name, is caught by both checks;
//   - the CLI installed without the sandbox: demo exits 2 and says to run it from a clone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { CLI_BUILD } from '../../scripts/build.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SANDBOX_PACKAGE = '@d365-exo-sync/sandbox';

/** Strings only the sandbox has (emulator answers, the demo's CA and headline): a bundle holding one holds it. */
const SANDBOX_MARKERS = [
  'The paging cookie of the $skiptoken is not valid.', // D365 Web API emulator
  'Client assertion issuer and subject must be the client id.', // Entra ID emulator
  'd365-exo-sync demo CA (throwaway)', // the demo's certificates
  'rehearsed against a sandbox on this machine', // the demo
];

/** Builds like the product (no output written) and returns the metafile and the output text. */
async function bundle(options: BuildOptions): Promise<{ metafile: Metafile; text: string }> {
  const result = await build({
    ...options,
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
    minify: true,
    logLevel: 'silent',
  });
  return { metafile: result.metafile, text: result.outputFiles.map((f) => f.text).join('\n') };
}

const entryBuild = (host: 'github' | 'azure'): BuildOptions => ({
  entryPoints: [`src/entries/${host}.ts`],
  outfile: join(tmpdir(), `no-sandbox-${host}.js`),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: host === 'github' ? 'esm' : 'cjs',
  define: { __D365_EXO_SYNC_PHASE__: JSON.stringify('install-certificate') },
});

/** What in a build is sandbox code or a load of the sandbox: inputs from sandbox/, imports of its package. */
function sandboxIn(metafile: Metafile): string[] {
  const found = Object.keys(metafile.inputs).filter((input) =>
    /(^|\/)(sandbox\/|node_modules\/@d365-exo-sync\/)/.test(input),
  );
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (imported.path === SANDBOX_PACKAGE || imported.path.startsWith(`${SANDBOX_PACKAGE}/`))
        found.push(`${imported.kind} ${imported.path}`);
    }
  }
  return found;
}

/** Packages the output still imports at run time (Node's built-ins aside). */
function runTimePackages(metafile: Metafile): string[] {
  const found = Object.values(metafile.outputs).flatMap((output) =>
    output.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => `${i.kind} ${i.path}`),
  );
  return [...new Set(found)];
}

const markersIn = (text: string) => SANDBOX_MARKERS.filter((marker) => text.includes(marker));

describe('the product bundles hold no sandbox code', { concurrency: true }, () => {
  it("the CLI: no sandbox input or import; tsx only as the demo command's dynamic import", async () => {
    const { metafile, text } = await bundle({ ...CLI_BUILD, outdir: join(tmpdir(), 'no-sandbox-cli') });
    assert.ok(Object.keys(metafile.inputs).some((input) => input === 'src/cli/commands/demo.ts'));
    assert.deepEqual(sandboxIn(metafile), []);
    // tsx, which loads the sandbox's TypeScript, only when the demo runs (the rest: optional requires of dependencies).
    const tsx = runTimePackages(metafile).filter((p) => / tsx(\/|$)/.test(p));
    assert.deepEqual(tsx, ['dynamic-import tsx/esm/api']);
    assert.deepEqual(markersIn(text), []);
  });

  for (const host of ['github', 'azure'] as const) {
    it(`the ${host} entry every ${host === 'github' ? 'action' : 'task'} bundle is built from`, async () => {
      const { metafile, text } = await bundle(entryBuild(host));
      assert.deepEqual(sandboxIn(metafile), []);
      assert.deepEqual(
        runTimePackages(metafile).filter((p) => / tsx(\/|$)/.test(p)),
        [],
      );
      assert.deepEqual(markersIn(text), []);
    });
  }

  it('the committed action and task bundles', () => {
    const bundles = [
      ...readdirSync(join(ROOT, 'actions')).map((phase) => join(ROOT, 'actions', phase, 'dist', 'index.mjs')),
      ...readdirSync(join(ROOT, 'tasks')).map((phase) => join(ROOT, 'tasks', phase, 'dist', 'index.js')),
    ].filter((file) => existsSync(file));
    assert.ok(bundles.length >= 2, 'no committed bundles found');
    for (const file of bundles) assert.deepEqual(markersIn(readFileSync(file, 'utf8')), [], file);
  });

  it('catches a planted import of the demo, by path and by the package name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-sandbox-planted-'));
    try {
      const byPath = join(dir, 'by-path.ts');
      writeFileSync(
        byPath,
        `export { run } from ${JSON.stringify(join(ROOT, 'src', 'cli', 'index.ts'))};\n` +
          `export { runDemo } from ${JSON.stringify(join(ROOT, 'sandbox', 'src', 'demo', 'index.ts'))};\n`,
      );
      const planted = await bundle({ ...CLI_BUILD, entryPoints: [byPath], outdir: join(dir, 'out') });
      assert.ok(
        sandboxIn(planted.metafile).some((input) => input.endsWith('sandbox/src/demo/index.ts')),
        'a sandbox file among the inputs is found',
      );
      assert.deepEqual(markersIn(planted.text), SANDBOX_MARKERS, 'every marker is in a bundle holding the sandbox');

      const byName = join(dir, 'by-name.ts');
      writeFileSync(byName, `export { runRehearsal } from '${SANDBOX_PACKAGE}';\n`);
      // With the CLI's options the package stays external: the bundle would import it on every start.
      const external = await bundle({ ...CLI_BUILD, entryPoints: [byName], outdir: join(dir, 'out') });
      assert.deepEqual(sandboxIn(external.metafile), [`import-statement ${SANDBOX_PACKAGE}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('installed without the sandbox (no clone), demo exits 2 and says how to run it; its --help still works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-sandbox-installed-'));
    try {
      await build({ ...CLI_BUILD, absWorkingDir: ROOT, outdir: join(dir, 'dist'), logLevel: 'silent' });
      cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      const cli = (...argv: string[]) =>
        spawnSync(process.execPath, [join(dir, 'bin', 'd365-exo-sync.js'), ...argv], { cwd: dir, encoding: 'utf8' });
      const demo = cli('demo');
      assert.equal(demo.status, 2, demo.stderr);
      assert.equal(demo.stdout, '');
      assert.match(demo.stderr, /the demo runs from a clone of the repository/);
      assert.match(demo.stderr, /"npm ci" and "npm start"/);
      // With tsx there (a development install) but no sandbox package: the same exit and advice.
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(join(ROOT, 'node_modules', 'tsx'), join(dir, 'node_modules', 'tsx'), 'junction');
      const withTsx = cli('demo');
      assert.equal(withTsx.status, 2, withTsx.stderr);
      assert.match(
        withTsx.stderr,
        /the demo runs from a clone of the repository.*@d365-exo-sync\/sandbox is not installed/s,
      );
      const help = cli('demo', '--help');
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /^Usage: d365-exo-sync demo /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
