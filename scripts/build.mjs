// Bundles the entry points with esbuild: the CLI into dist/cli.js (what bin/d365-exo-sync.js loads).
// A bundle starts fast and carries its dependencies, which the pipeline packages need too.
import { build } from 'esbuild';

await build({
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
  logLevel: 'warning',
});
