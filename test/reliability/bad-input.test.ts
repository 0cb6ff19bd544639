// The bad-input catalogue (support/bad-inputs.ts) through the command line, against the running emulators: each
// input must be refused with the expected exit code and an error naming its field, write none of the world's
// secrets, and change nothing: the Entra key list and service principal names, every D365 table, and the fake
// Windows server (whose state file must not even appear: no PowerShell process may start for bad input).
// The world starts configured (a key on the service principal, the profile and the mailboxes set up), so an
// input that slipped through and changed or removed something would show.
import { basename } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { DYNAMICS_APP_ID } from '@d365-exo-sync/sandbox/entra';
import { makeLeaf, makePfx } from '../support/certs.js';
import { CATALOGUE, toolsFor, WARNINGS } from './support/bad-inputs.js';
import { badInputMarkdown, DOC_PATH } from './support/bad-input-doc.js';
import { PFX_PASSWORD_ENV, startWorld, type World } from './support/world.js';

interface RunRecord {
  status: string;
  steps: Array<{ id: string; action?: string; status?: string; before?: unknown; after?: unknown; note?: string }>;
}

/** Everything a run printed, with the strings of a JSON document (config validate --json, cert inspect --json) unescaped. */
function readable(run: { stdout: string; stderr: string }): string {
  const strings: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'string') strings.push(node);
    else if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') Object.values(node).forEach(walk);
  };
  try {
    walk(JSON.parse(run.stdout));
  } catch {
    // not JSON: the text is all there is
  }
  // Terminal output is wrapped to the width: a name may continue on the next line, so compare the words.
  const text = [run.stdout, run.stderr, ...strings].join('\n');
  return text + '\n' + text.replace(/\s+/g, ' ');
}

/** A file-level problem names the config file (the terminal leads with it, --json says "(file)"). */
function named(c: { names: string }, argv: string[]): string[] {
  const config = argv[argv.indexOf('--config') + 1];
  return c.names === '(file)' && config ? [c.names, basename(config)] : [c.names];
}

describe('bad input through the command line changes nothing', () => {
  let world: World;

  before(async () => {
    world = await startWorld();
    // Someone's current key on the Dynamics service principal, and D365 already set up: a bad input that reached a
    // write would replace, add or remove something here.
    const theirs = makeLeaf({ keySlot: 'bad-input-theirs', commonName: 'crm.contoso.com' });
    world.entra.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: theirs.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const setup = await world.cli(['run', '--config', world.configFile, '--phase', 'configure-mailboxes']);
    assert.equal(setup.code, 0, setup.stdout + setup.stderr);
    assert.equal(world.d365.state.tables.emailserverprofiles!.size, 1);
    assert.equal(existsSync(world.windowsState), false);
  });
  after(() => world?.close());

  it('has at least 60 distinct refused inputs, each with its own id', () => {
    assert.ok(CATALOGUE.length >= 60, `${CATALOGUE.length} cases`);
    assert.equal(new Set(CATALOGUE.map((c) => c.id)).size, CATALOGUE.length);
    for (const c of CATALOGUE) assert.notEqual(c.exit as number, 0, c.id);
  });

  for (const c of CATALOGUE) {
    it(`${c.id}: ${c.input}`, async () => {
      const before = world.snapshot();
      const patches = world.entra.requestsTo('sp-patch').length;
      const writes = world.d365.requests.writes;
      const powershellRan = existsSync(world.windowsState);
      const invocation = c.invoke(toolsFor(world, c.id));
      const run = await world.cli(invocation.argv, invocation.env);
      const output = readable(run);
      assert.equal(run.code, c.exit, `exit ${run.code}, expected ${c.exit}:\n${output}`);
      assert.ok(
        named(c, invocation.argv).some((name) => output.includes(name)),
        `the error does not name ${c.names}:\n${output}`,
      );
      if (c.says) assert.match(output, c.says);
      assert.deepEqual(world.snapshot(), before, 'the input changed the state of a system');
      assert.equal(world.entra.requestsTo('sp-patch').length, patches, 'a PATCH reached Graph');
      assert.equal(world.d365.requests.writes, writes, 'a write reached D365');
      if (!powershellRan) assert.equal(existsSync(world.windowsState), false, 'a PowerShell process ran');
      for (const secret of world.secrets()) assert.ok(!output.includes(secret), 'a secret reached the output');
    });
  }

  for (const w of WARNINGS) {
    it(`${w.id}: ${w.code} only warns (exit 0, the code named, nothing changed)`, async () => {
      const before = world.snapshot();
      const file = toolsFor(world, w.id).file('warning.pfx', w.pfx());
      const run = await world.cli([
        'cert',
        'inspect',
        '--pfx',
        file,
        '--password-env',
        PFX_PASSWORD_ENV,
        '--host',
        'crm.contoso.com',
        '--json',
      ]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const report = JSON.parse(run.stdout) as { usable: boolean; problems: Array<{ code: string; severity: string }> };
      assert.equal(report.usable, true);
      assert.ok(report.problems.some((p) => p.code === w.code && p.severity === 'warning'));
      assert.deepEqual(world.snapshot(), before);
    });
  }

  it('an apostrophe in a profile name or an address is data: it reaches OData escaped, not as syntax', async () => {
    // Unescaped, name eq 'Exchange' or name ne '' would match the profile that exists and plan an update of it.
    const tools = toolsFor(world, 'odata-escaping');
    const config = tools.config((d) => {
      d.email.profile = { name: "Exchange' or name ne '", autodiscover: true };
      Object.assign(d.email.mailboxes, {
        select: 'addresses',
        addresses: ["x'or'1'eq'1@contoso.com", 'user0001@contoso.com'],
      });
    });
    const before = world.snapshot();
    const run = await world.cli(['run', '--config', config, '--phase', 'configure-mailboxes', '--plan', '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const record = JSON.parse(run.stdout) as RunRecord;
    const profile = record.steps.find((s) => s.id === 'crm.email-server-profile');
    assert.equal(profile?.action, 'create', JSON.stringify(profile));
    const mailboxes = record.steps.filter((s) => s.id.startsWith('mailbox.')).map((s) => s.id);
    assert.ok(mailboxes.includes('mailbox.user0001@contoso.com'), JSON.stringify(mailboxes));
    assert.ok(!mailboxes.some((id) => /user000[234]/.test(id)), 'the quote widened the selection');
    assert.deepEqual(world.snapshot(), before);
  });

  it('a PFX password that looks like a command is only a password', async () => {
    const password = "'; Remove-Item -Recurse -Force C:\\ ; $(whoami) `n";
    const cert = makeLeaf({ keySlot: 'reliability-renewal', commonName: 'crm.contoso.com' });
    const file = toolsFor(world, 'command-password').file(
      'odd.pfx',
      makePfx(cert, { password, encoding: 'forge-3des' }),
    );
    const run = await world.cli(['cert', 'inspect', '--pfx', file, '--password-env', 'ODD_PASSWORD', '--json'], {
      ODD_PASSWORD: password,
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal((JSON.parse(run.stdout) as { thumbprint: string }).thumbprint, cert.thumbprint);
    assert.ok(!run.stdout.includes(password));
  });

  it('docs/bad-input.md is the table of this catalogue (rewrite: node --import tsx test/reliability/support/bad-input-doc.ts --write)', () => {
    assert.equal(existsSync(DOC_PATH) ? readFileSync(DOC_PATH, 'utf8') : '', badInputMarkdown());
  });
});
