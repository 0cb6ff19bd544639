import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'd365-exo-sync-cli-'));
const example = readFileSync('examples/contoso.yml', 'utf8');

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('config validate: the example is valid (exit 0, JSON {valid, problems})', async () => {
  const { code, stdout } = await runCli(['config', 'validate', '--config', 'examples/contoso.yml', '--json']);
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), { valid: true, problems: [] });
});

test('config validate: problems come back with dotted paths and exit 1', async () => {
  const file = writeConfig('bad.yml', example.replace('name: CRMASYNC01', 'name: crmasync01.contoso.com'));
  const { code, stdout } = await runCli(['config', 'validate', '--config', file, '--json']);
  assert.equal(code, 1);
  const result = JSON.parse(stdout);
  assert.equal(result.valid, false);
  // {path, message} is the contract; line, column and the quoted line were added (additive).
  assert.deepEqual(Object.keys(result.problems[0]).sort(), ['column', 'line', 'message', 'path', 'source']);
  assert.equal(result.problems[0].path, 'deployment.servers.1.name');
  const line = example.split('\n').findIndex((l) => l.includes('name: CRMASYNC01')) + 1;
  assert.equal(result.problems[0].line, line);
  assert.match(result.problems[0].source, /name: crmasync01\.contoso\.com/);
});

test('config validate: typographic quotes pasted into YAML are named with the field', async () => {
  const file = writeConfig('quotes.yml', example.replace("'CONTOSO\\svc-crm-web'", '\u201CCONTOSO\\svc-crm-web\u201D'));
  const { code, stdout } = await runCli(['config', 'validate', '--config', file]);
  assert.equal(code, 1);
  assert.match(stdout, /deployment\.serviceAccounts\.web/);
  assert.match(stdout, /U\+201C\s+LEFT DOUBLE QUOTATION MARK/);
});

test('config validate: a JSON config works the same', async () => {
  const { parse } = await import('yaml');
  const file = writeConfig('contoso.json', JSON.stringify(parse(example)));
  const { code } = await runCli(['config', 'validate', '--config', file]);
  assert.equal(code, 0);
});

test('config validate: a missing file is named with the fix', async () => {
  const { code, stdout } = await runCli(['config', 'validate', '--config', join(dir, 'nope.yml'), '--json']);
  assert.equal(code, 1);
  assert.match(JSON.parse(stdout).problems[0].message, /does not exist.*--config/);
});

test('usage errors exit 2 with the fix', async () => {
  assert.equal((await runCli(['config', 'validate'])).code, 2);
  assert.equal((await runCli(['config', 'validate', '--config', 'x', '--bogus'])).code, 2);
  assert.equal((await runCli(['frobnicate'])).code, 2);
  assert.equal((await runCli([])).code, 2);
  const secret = await runCli(['cert', 'inspect', '--pfx', 'a.pfx', '--password', 'hunter22']);
  assert.equal(secret.code, 2);
  assert.match(secret.stderr, /--password-env/);
  assert.ok(!secret.stderr.includes('hunter22'));
  const run = await runCli(['run', '--config', 'examples/contoso.yml', '--phase', 'nope']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /preflight/);
});

test('--help works on every command', async () => {
  for (const argv of [
    ['--help'],
    ['plan', '--help'],
    ['run', '--help'],
    ['cert', 'inspect', '--help'],
    ['config', 'validate', '--help'],
  ]) {
    const { code, stdout } = await runCli(argv);
    assert.equal(code, 0, argv.join(' '));
    assert.match(stdout, /Usage: d365-exo-sync/);
  }
});

test('plan on the example lists the phases in renewal order with their steps', async () => {
  const { code, stdout } = await runCli(['plan', '--config', 'examples/contoso.yml', '--json']);
  assert.equal(code, 0);
  const plan = JSON.parse(stdout);
  assert.equal(plan.valid, true);
  assert.match(plan.configHash, /^sha256:[0-9a-f]{64}$/);
  assert.equal(plan.phases[0].id, 'preflight');
  assert.ok(plan.phases[0].steps.some((s: { id: string }) => s.id === 'config.valid'));
  for (const phase of plan.phases)
    assert.ok(phase.steps.length > 0 || phase.error, `${phase.id} shows steps or why not`);
  // configure-exchange comes after register-entra and lists its reads even where the tenant cannot be read.
  const ids = plan.phases.map((p: { id: string }) => p.id);
  assert.equal(ids.indexOf('configure-exchange'), ids.indexOf('register-entra') + 1);
  const exchange = plan.phases.find((p: { id: string }) => p.id === 'configure-exchange');
  const steps = exchange.steps as Array<{ id: string; action: string; after: unknown; note?: string }>;
  assert.deepEqual(
    steps.map((s) => s.id),
    [
      'exchange.exchange-module',
      'exchange.sign-in',
      'exchange.read-organization',
      'exchange.read-mailboxes',
      'exchange.ews-enabled',
      'exchange.allowed-app-ids',
      'exchange.user-agent-policy',
      'exchange.mailboxes',
    ],
  );
  assert.match(JSON.stringify(steps[2]!.after), /Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy/);
  assert.deepEqual(steps[5]!.after, ['00000007-0000-0000-c000-000000000000']);
  assert.match(steps[0]!.note ?? '', /^not read from here: /);
});

test('plan refuses an invalid config and changes nothing', async () => {
  const file = writeConfig('bad-plan.yml', example.replace('organization: contoso', 'organization: "con toso"'));
  const { code, stderr } = await runCli(['plan', '--config', file]);
  assert.equal(code, 1);
  assert.match(stderr, /deployment\.organization/);
});

test('run --phase preflight writes a run record with the config hash and a deadline warning, and fails on what it cannot reach', async () => {
  const records = join(dir, 'records');
  const { code, stdout } = await runCli([
    'run',
    '--config',
    'examples/contoso.yml',
    '--phase',
    'preflight',
    '--record-dir',
    records,
    '--json',
  ]);
  // No federated token here: the Entra sign-in check fails, and so does the step, with the reason.
  assert.equal(code, 1);
  const files = readdirSync(records);
  assert.equal(files.length, 1);
  const record = JSON.parse(readFileSync(join(records, files[0]!), 'utf8'));
  assert.deepEqual(JSON.parse(stdout), record);
  assert.equal(record.schema, 'd365-exo-sync/run-record@1');
  assert.equal(record.phase, 'preflight');
  assert.equal(record.status, 'failed');
  assert.match(record.error, /federated token/);
  assert.match(record.configHash, /^sha256:[0-9a-f]{64}$/);
  const deadline = record.steps.find((s: { id: string }) => s.id === 'deadline.end-of-support');
  assert.match(deadline.warnings[0], /until 2027-04-01/);
  assert.equal(record.steps.find((s: { id: string }) => s.id === 'config.valid').status, 'unchanged');
});

test('plan fits 80 and 100 columns (COLUMNS), --wide does not; --json has every value in full', async () => {
  const file = writeConfig('fit.yml', example);
  for (const columns of [80, 100]) {
    const { code, stdout } = await runCli(['plan', '--config', file], { COLUMNS: String(columns) });
    assert.equal(code, 0);
    for (const line of stdout.split('\n')) assert.ok([...line].length <= columns, `${columns}: ${line}`);
    assert.match(stdout, /Validity timeline \(/);
  }
  const wide = await runCli(['plan', '--config', file, '--wide'], { COLUMNS: '80' });
  assert.ok(wide.stdout.split('\n').some((line) => line.length > 100));
  // Without COLUMNS and without a terminal: 100.
  const plain = await runCli(['plan', '--config', file]);
  assert.ok(plain.stdout.split('\n').every((line) => [...line].length <= 100));
  const json = JSON.parse((await runCli(['plan', '--config', file, '--json'])).stdout) as {
    phases: Array<{ steps: Array<{ id: string; after: unknown }> }>;
  };
  const signIn = json.phases.flatMap((p) => p.steps).find((s) => s.id === 'entra.sign-in')!;
  const full = JSON.stringify(signIn.after);
  assert.ok(full.length > 80 && !full.includes('…'), 'the value --json gives is whole');
  assert.ok(wide.stdout.includes(full.slice(0, 79) + '…'), 'the table shortens it');
});

test('an unknown --set name is a usage error that lists the names the phase takes', async () => {
  const run = await runCli(['run', '--config', 'examples/contoso.yml', '--phase', 'verify', '--set', 'tenant-id=x']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--set tenant-id: tenant-id is not an input of verify: use one of retest, thumbprint/);
  const plan = await runCli(['plan', '--config', 'examples/contoso.yml', '--set', 'organisation-id=x']);
  assert.equal(plan.code, 2);
  assert.match(plan.stderr, /is not an input of any phase: use one of .*organization-id/);
});

test('cert --help and config --help list their commands; the help columns line up', async () => {
  for (const group of ['cert', 'config']) {
    const run = await runCli([group, '--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Usage: d365-exo-sync ${group} <command>`));
    assert.match(run.stdout, group === 'cert' ? /cert inspect --pfx FILE/ : /config validate --config FILE/);
    assert.equal((await runCli([group])).code, 2);
  }
  const help = (await runCli(['--help'])).stdout;
  const commands = help.split('\n').filter((line) => /^ {2}[a-z]/.test(line));
  assert.equal(commands.length, 8);
  const columns = new Set(commands.map((line) => /^ {2}\S.*?\S {2,}(?=\S)/.exec(line)![0].length));
  assert.equal(columns.size, 1, `descriptions start at one column: ${[...columns].join(', ')}`);
  for (const line of help.split('\n')) assert.ok(line.length <= 100, line);
});
