// The GitHub Action entry point, bundled once per phase into actions/<phase>/dist/index.mjs with the
// phase id fixed at bundle time (esbuild define): one entry instead of a file per phase, so a phase
// that joins the registry gets its action from the generator alone.
import { GitHubHost } from '../hosts/github.js';
import { runPipelineStep } from '../pipeline/step.js';

declare const __D365_EXO_SYNC_PHASE__: string;

await runPipelineStep(__D365_EXO_SYNC_PHASE__, new GitHubHost(process.env), {
  env: process.env,
  cwd: process.env.GITHUB_WORKSPACE || process.cwd(),
});
