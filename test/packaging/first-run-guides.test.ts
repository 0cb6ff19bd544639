// The first-run guides: they exist, the README links them, every toolkit command in them is one the
// command line has (with options it accepts), and the federated-credential subjects the GitHub guide
// lists are the ones the federated-credentials command derives from the shipped workflow.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/packages.js';
import { run } from '../../src/cli/index.js';
import { githubSubjects } from '../../src/pipeline/federated-subjects.js';

const GUIDES = ['docs/first-run-github.md', 'docs/first-run-azure-devops.md'];
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The toolkit command lines in a guide's code blocks. */
function commandLines(text: string): string[][] {
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith('node bin/d365-exo-sync.js '))
    .map((line) => line.split(/\s+/).slice(2));
}

async function help(command: string[]): Promise<string> {
  let out = '';
  const code = await run([...command, '--help'], { stdout: (t) => (out += t), stderr: (t) => (out += t), env: {} });
  assert.equal(code, 0, `${command.join(' ')} --help: ${out}`);
  return out;
}

describe('first-run guides', () => {
  it('exist, and the README pipeline section links both', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Renewal in your pipeline'));
    for (const guide of GUIDES) assert.ok(section.includes(`](${guide})`), `README links ${guide}`);
  });

  for (const guide of GUIDES) {
    it(`${guide}: every toolkit command exists and takes the options given`, async () => {
      const lines = commandLines(read(guide));
      assert.ok(lines.length >= 2, 'the guide shows the commands it relies on');
      for (const argv of lines) {
        const name = argv[0] === 'config' || argv[0] === 'cert' ? argv.slice(0, 2) : argv.slice(0, 1);
        const text = await help(name);
        for (const flag of argv.filter((a) => a.startsWith('--')))
          assert.ok(text.includes(flag), `${argv.join(' ')}: ${flag} is not an option of ${name.join(' ')}`);
      }
    });
  }

  it('the GitHub guide lists exactly the subjects the shipped renewal workflow signs in with', () => {
    const table = [...read('docs/first-run-github.md').matchAll(/^\| `(repo:OWNER\/REPO:[^`]+)` \|/gm)].map(
      (m) => m[1]!,
    );
    const derived = githubSubjects(read('workflows/github/renewal.yml'), 'OWNER/REPO', 'main', 'a').map(
      (s) => s.subject,
    );
    assert.deepEqual(table, derived);
  });

  it('the Azure DevOps guide names the inputs, variables and parameters the shipped pipeline uses', () => {
    const guide = read('docs/first-run-azure-devops.md');
    const pipeline = read('workflows/azure/renewal.yml');
    for (const name of [
      'd365-pfx',
      'd365-pfx-password',
      'd365-exo-sync-servers',
      'serviceConnection',
      'cloudPool',
      'approvers',
    ]) {
      assert.ok(pipeline.includes(name), `pipeline uses ${name}`);
      assert.ok(guide.includes(name), `guide explains ${name}`);
    }
    for (const tag of ['d365-server', 'deployment-tools', 'adfs']) assert.ok(pipeline.includes(`tags: ${tag}`), tag);
  });
});
