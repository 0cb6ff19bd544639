// The federated-credential subjects the workflows need, derived from the workflow files themselves,
// and the workflow headers that list them for a reader (they must agree).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addCommands,
  azureDevOpsSubject,
  githubSubjects,
  GITHUB_ISSUER,
} from '../../../src/pipeline/federated-subjects.js';
import { run } from '../../../src/cli/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const AUDIENCE = 'api://AzureADTokenExchange';
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('federated-credential subjects', () => {
  it('renewal.yml: the branch (jobs without an environment) and each gated environment that signs in', () => {
    const subjects = githubSubjects(read('workflows/github/renewal.yml'), 'contoso/crm', 'main', AUDIENCE);
    assert.deepEqual(
      subjects.map((s) => [s.subject, s.jobs]),
      [
        ['repo:contoso/crm:ref:refs/heads/main', ['preflight', 'install-certificate', 'verify']],
        ['repo:contoso/crm:environment:renewal-entra-id', ['register-entra', 'configure-exchange']],
        ['repo:contoso/crm:environment:renewal-retire-old-key', ['retire-previous']],
      ],
    );
    assert.ok(subjects.every((s) => s.issuer === GITHUB_ISSUER && s.audience === AUDIENCE));
  });

  for (const file of ['workflows/github/renewal.yml', 'workflows/github/watch.yml']) {
    it(`${file}: its header lists exactly the subjects the workflow signs in with`, () => {
      const text = read(file);
      const listed = [...text.matchAll(/^#\s+(repo:OWNER\/REPO:\S+)/gm)].map((m) =>
        m[1]!.replace(/<branch>|main$/, 'main'),
      );
      const needed = githubSubjects(text, 'OWNER/REPO', 'main', AUDIENCE).map((s) => s.subject);
      assert.deepEqual([...listed].sort(), [...needed].sort());
    });
  }

  it('a workflow that runs on pull requests also needs the pull_request subject; a job environment object counts', () => {
    const workflow = `
on: [push, pull_request]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: d365-exo-sync/d365-exo-sync/actions/preflight@v0
  gated:
    runs-on: ubuntu-latest
    environment: { name: prod }
    steps:
      - uses: azure/login@v2
  quiet:
    runs-on: ubuntu-latest
    steps:
      - uses: d365-exo-sync/d365-exo-sync/actions/report@v0
`;
    assert.deepEqual(
      githubSubjects(workflow, 'o/r', 'release', AUDIENCE).map((s) => s.subject),
      ['repo:o/r:ref:refs/heads/release', 'repo:o/r:pull_request', 'repo:o/r:environment:prod'],
    );
  });

  it('Azure DevOps: sc://ORG/PROJECT/CONNECTION under vstoken.dev.azure.com/<organization id>', () => {
    const subject = azureDevOpsSubject('contoso/CRM Ops/d365-exo-sync', 'AAAAAAAA-1111-4222-8333-444444444444');
    assert.equal(subject.subject, 'sc://contoso/CRM Ops/d365-exo-sync');
    assert.equal(subject.issuer, 'https://vstoken.dev.azure.com/aaaaaaaa-1111-4222-8333-444444444444');
    assert.throws(() => azureDevOpsSubject('contoso/d365', 'x'), /ORGANIZATION\/PROJECT\/SERVICE-CONNECTION-NAME/);
    assert.throws(() => azureDevOpsSubject('a/b/c', 'not-a-guid'), /organization's id/);
  });

  it('the az command is quoted for bash; a repository that is not OWNER/REPO is refused', () => {
    const az = addCommands(
      { name: 'n', issuer: 'i', subject: "it's", audience: AUDIENCE, jobs: [] },
      'c',
      'https://g',
    ).az;
    assert.ok(az.includes("it'\\''s"), az);
    assert.throws(
      () => githubSubjects(read('workflows/github/watch.yml'), 'just-a-name', 'main', AUDIENCE),
      /OWNER\/REPO/,
    );
  });

  it('the command prints every subject with the commands that add it, with the config audience', async () => {
    let out = '';
    const code = await run(
      [
        'federated-credentials',
        '--config',
        'examples/contoso.yml',
        '--workflow',
        'workflows/github/renewal.yml',
        '--repository',
        'contoso/crm',
        '--json',
      ],
      { cwd: ROOT, stdout: (t) => (out += t), stderr: (t) => (out += t), env: {} },
    );
    assert.equal(code, 0, out);
    const printed = JSON.parse(out) as { subject: string; audiences: string[]; az: string; graph: string }[];
    assert.equal(printed.length, 3);
    for (const p of printed) {
      assert.deepEqual(p.audiences, [AUDIENCE]);
      assert.match(p.az, /^az ad app federated-credential create --id [0-9a-f-]{36} --parameters '\{.*\}'$/);
      assert.match(
        p.graph,
        /^POST https:\/\/graph\.microsoft\.com\/v1\.0\/applications\(appId='[0-9a-f-]{36}'\)\/federatedIdentityCredentials\n/,
      );
      assert.equal(JSON.parse(p.az.slice(p.az.indexOf("'") + 1, -1)).subject, p.subject);
    }
    const usage = await run(['federated-credentials', '--config', 'examples/contoso.yml'], {
      cwd: ROOT,
      stdout: () => undefined,
      stderr: () => undefined,
      env: {},
    });
    assert.equal(usage, 2);
  });
});
