// Lint rules: typescript-eslint's recommended set, a ban on the calls that would switch TLS checks off,
// and the layers of src/ (see docs/architecture.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/, bottom first. A file may import from its own place and from places below it;
// an import that runs back up (or into the sandbox package) fails `npm run lint`. Because every
// place has one rank, no cycle between two places can pass either. Each entry: the files it covers
// and the regex part that names it in a relative import ("../graph/x.js", "../../days.js").
// hosts/host.ts and hosts/progress.ts are the Host port (what every layer may log and report through);
// the rest of hosts/ are its adapters.
export const LAYERS = [
  // domain: pure decisions and values
  { layer: 'domain', files: ['src/days.ts'], names: 'days\\.js$' },
  { layer: 'domain', files: ['src/version.ts'], names: 'version\\.js$' },
  { layer: 'domain', files: ['src/deadlines.ts'], names: 'deadlines\\.js$' },
  { layer: 'domain', files: ['src/secrets/**'], names: 'secrets/' },
  { layer: 'domain', files: ['src/text/**'], names: 'text/' },
  { layer: 'domain', files: ['src/config/**'], names: 'config/' },
  { layer: 'domain', files: ['src/cert/**'], names: 'cert/' },
  { layer: 'domain', files: ['src/hosts/host.ts', 'src/hosts/progress.ts'], names: 'hosts/(?:host|progress)\\.js$' },
  // clients: HTTP, Microsoft Graph, the D365 Web API, the PowerShell invoker
  { layer: 'clients', files: ['src/http/**'], names: 'http/' },
  { layer: 'clients', files: ['src/graph/**'], names: 'graph/' },
  { layer: 'clients', files: ['src/crm/**'], names: 'crm/' },
  { layer: 'clients', files: ['src/powershell/**'], names: 'powershell/' },
  // application: the run record, the phases and their runner, watch
  { layer: 'application', files: ['src/report/**'], names: 'report/' },
  { layer: 'application', files: ['src/phases/**'], names: 'phases/' },
  { layer: 'application', files: ['src/watch/**'], names: 'watch/' },
  // adapters: hosts, the pipeline steps, the entries, the generators, the CLI
  {
    layer: 'adapters',
    files: ['src/hosts/**'],
    ignores: ['src/hosts/host.ts', 'src/hosts/progress.ts'],
    names: 'hosts/(?!(?:host|progress)\\.js$)',
  },
  { layer: 'adapters', files: ['src/pipeline/**'], names: 'pipeline/' },
  { layer: 'adapters', files: ['src/docs/**'], names: 'docs/' },
  { layer: 'adapters', files: ['src/entries/**'], names: 'entries/' },
  { layer: 'adapters', files: ['src/cli/**'], names: 'cli/' },
];

/** The sandbox package (emulators, fake servers, the demo): rehearsal and test code the product must not reach. */
const SANDBOX = 'sandbox/|demo/';
const SANDBOX_PACKAGE = '^@d365-exo-sync/sandbox(?:/|$)';
const SANDBOX_MESSAGE =
  'Product code must not import the sandbox package (emulators, fake servers, the demo): the demo command loads it at run time.';

/** A relative import ("./", "../", "../../"…) of one of the names. */
const relativeTo = (names) => `^(?:\\./|(?:\\.\\./)+)(?:${names})`;

const layerRules = LAYERS.map((place, rank) => {
  const above = LAYERS.slice(rank + 1);
  return {
    files: place.files,
    ...(place.ignores ? { ignores: place.ignores } : {}),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(above.length
              ? [
                  {
                    regex: relativeTo(above.map((p) => p.names).join('|')),
                    message: `${place.files[0]} is in the ${place.layer} layer: it must not import from a layer above it or from a later place of its own layer (docs/architecture.md). Move the shared piece down, or pass it in.`,
                  },
                ]
              : []),
            { regex: relativeTo(SANDBOX), message: SANDBOX_MESSAGE },
            { regex: SANDBOX_PACKAGE, message: SANDBOX_MESSAGE },
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'actions/**/dist/**', 'tasks/**/dist/**', 'out/**', '**/*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        fetch: 'readonly',
        Response: 'readonly',
        Headers: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "Property[key.name='rejectUnauthorized'][value.value=false]",
          message: 'Never switch certificate checks off: trust the test CA instead.',
        },
      ],
    },
  },
  ...layerRules,
  {
    // The sandbox uses the toolkit through its one TypeScript entry, src/index.ts, never its files.
    files: ['sandbox/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?:\\.\\./)+src/(?!index\\.js$)',
              message: 'The sandbox uses the toolkit through src/index.ts only: export what it needs there.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and benchmarks use the sandbox as the package it is.
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?:\\.\\./)+sandbox/',
              message:
                "Import the sandbox as its package: '@d365-exo-sync/sandbox' (or a subpath its package.json exports).",
            },
          ],
        },
      ],
    },
  },
);
