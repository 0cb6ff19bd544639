// `npm run check:generated`: the generated-packages tests with the staleness check on (the committed
// manifests, bundles and what the .vsix is built from equal what `npm run generate` writes now).
// CI runs it once from .ci/run; in a developer's `npm test` that check is skipped, because the
// committed bundles are rebuilt and committed once per release, not on every change of src/.
import { spawnSync } from 'node:child_process';

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', 'test/packaging/generated.test.ts'],
  { stdio: 'inherit', env: { ...process.env, D365_EXO_SYNC_CHECK_GENERATED: '1' } },
);
process.exit(result.status ?? 1);
