// Bundles the entry points with esbuild: the CLI into dist/cli.js (what bin/d365-exo-sync.js loads).
// A bundle starts fast and carries its dependencies, which the pipeline packages need too. The demo command loads the
// sandbox package (and tsx, which runs its TypeScript) when it runs, from a clone: both stay outside the bundle, so
// it holds no emulator or demo code (test/packaging/no-sandbox.test.ts checks).
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';

/** Loaded at run time by `d365-exo-sync demo`, never bundled. */
export const RUN_TIME_ONLY = ['@d365-exo-sync/sandbox', 'tsx'];

/** The CLI bundle's options (the packaging test builds with the same). */
export const CLI_BUILD = {
  entryPoints: { cli: 'src/cli/index.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  // CommonJS dependencies bundled into ESM still call require(): give them one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  external: RUN_TIME_ONLY,
  logLevel: 'warning',
};

// Run as a script (npm run build, prepare): build. Imported (the test): only the options.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await build(CLI_BUILD);
