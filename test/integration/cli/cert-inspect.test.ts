// The cert inspect contract, as other tools call it: flags, exit codes 0/1/2, JSON fields, no secret in output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa, makeLeaf, makeScratchDir, writePfxFile } from '../../support/certs.js';
import { runCli } from '../../support/cli.js';

const PASSWORD = 'Zq-Unique-Pfx-Pässwörd-7731';
const env = { PFX_PASSWORD: PASSWORD };
const scratch = makeScratchDir('d365-cli-cert-');
after(() => scratch.remove());

const ca = makeCa({ keySlot: 'cli-ca' });
const good = writePfxFile(
  scratch.path,
  'good.pfx',
  makeLeaf({ issuer: ca, dnsNames: ['crm.contoso.com', '*.contoso.com'], keySlot: 'cli-leaf' }),
  {
    password: PASSWORD,
    chain: [ca],
  },
);
const expired = writePfxFile(
  scratch.path,
  'expired.pfx',
  makeLeaf({
    issuer: ca,
    notBefore: new Date(Date.now() - 100 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
    keySlot: 'cli-leaf',
  }),
  { password: PASSWORD, chain: [ca] },
);

function assertNoSecret(...texts: string[]) {
  for (const text of texts) {
    assert.ok(!text.includes(PASSWORD), 'the password appears in the output');
    assert.ok(!text.includes(Buffer.from(PASSWORD).toString('base64')), 'the base64 password appears in the output');
  }
}

test('a usable certificate: exit 0 and every contract field', async () => {
  const { code, stdout, stderr } = await runCli(
    ['cert', 'inspect', '--pfx', good, '--password-env', 'PFX_PASSWORD', '--host', 'crm.contoso.com', '--json'],
    env,
  );
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  for (const field of [
    'usable',
    'thumbprint',
    'sha256',
    'subject',
    'issuer',
    'dnsNames',
    'notBefore',
    'notAfter',
    'daysRemaining',
    'key',
    'signatureAlgorithm',
    'chain',
    'problems',
  ]) {
    assert.ok(field in report, `missing ${field}`);
  }
  assert.equal(report.usable, true);
  assert.match(report.thumbprint, /^[0-9A-F]{40}$/);
  assert.match(report.sha256, /^[0-9A-F]{64}$/);
  assert.deepEqual(report.key, { algorithm: 'RSA', bits: 2048 });
  assert.ok(!Number.isNaN(Date.parse(report.notAfter)));
  assert.equal(report.chain.length, 1);
  assert.deepEqual(Object.keys(report.chain[0]).sort(), ['issuer', 'subject', 'thumbprint']);
  assertNoSecret(stdout, stderr);
});

test('not usable: exit 1 with problem codes (expired; host not covered)', async () => {
  const { code, stdout, stderr } = await runCli(
    ['cert', 'inspect', '--pfx', expired, '--password-env', 'PFX_PASSWORD', '--host', 'crm.fabrikam.com', '--json'],
    env,
  );
  assert.equal(code, 1);
  const codes = JSON.parse(stdout).problems.map((p: { code: string }) => p.code);
  assert.ok(codes.includes('CERT_EXPIRED'));
  assert.ok(codes.includes('HOST_NOT_COVERED'));
  assertNoSecret(stdout, stderr);
});

test('--min-days above the days left gives CERT_EXPIRES_SOON', async () => {
  const { code, stdout } = await runCli(
    ['cert', 'inspect', '--pfx', good, '--password-env', 'PFX_PASSWORD', '--min-days', '365', '--json'],
    env,
  );
  assert.equal(code, 1);
  assert.ok(JSON.parse(stdout).problems.some((p: { code: string }) => p.code === 'CERT_EXPIRES_SOON'));
});

test('wrong password: exit 1, PFX_BAD_PASSWORD, the wrong password printed nowhere', async () => {
  const wrong = 'Wrong-Password-Xy-9981';
  const { code, stdout, stderr } = await runCli(['cert', 'inspect', '--pfx', good, '--password-env', 'P', '--json'], {
    P: wrong,
  });
  assert.equal(code, 1);
  assert.equal(JSON.parse(stdout).problems[0].code, 'PFX_BAD_PASSWORD');
  assert.ok(!stdout.includes(wrong) && !stderr.includes(wrong));
});

test('a password-protected PFX without --password-env: it says the PFX needs a password and how to give it', async () => {
  const { code, stdout } = await runCli(['cert', 'inspect', '--pfx', good]);
  assert.equal(code, 1);
  const text = stdout.replace(/\s+/g, ' ');
  assert.match(text, /This PFX is protected by a password and none was given/);
  assert.match(text, /--password-env VAR/);
  assert.doesNotMatch(text, /The password does not open this PFX/);
});

test('a file that is no PFX: exit 1, PFX_UNREADABLE', async () => {
  const text = join(scratch.path, 'notes.pfx');
  writeFileSync(text, 'this is not a certificate\n');
  const { code, stdout } = await runCli(['cert', 'inspect', '--pfx', text, '--json']);
  assert.equal(code, 1);
  assert.equal(JSON.parse(stdout).problems[0].code, 'PFX_UNREADABLE');
});

test('usage errors exit 2: missing --pfx, missing file, unset or empty password variable, bad --min-days', async () => {
  assert.equal((await runCli(['cert', 'inspect', '--json'])).code, 2);
  const missing = await runCli(['cert', 'inspect', '--pfx', join(scratch.path, 'nope.pfx')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--pfx/);
  assert.equal((await runCli(['cert', 'inspect', '--pfx', good, '--password-env', 'UNSET_VAR'])).code, 2);
  assert.equal((await runCli(['cert', 'inspect', '--pfx', good, '--password-env', 'EMPTY'], { EMPTY: '' })).code, 2);
  assert.equal((await runCli(['cert', 'inspect', '--pfx', good, '--min-days', 'ten'])).code, 2);
});

test('the human output is a table and carries no secret', async () => {
  const { code, stdout, stderr } = await runCli(
    ['cert', 'inspect', '--pfx', good, '--password-env', 'PFX_PASSWORD'],
    env,
  );
  assert.equal(code, 0);
  assert.match(stdout, /thumbprint\s+[0-9A-F]{40}/);
  assertNoSecret(stdout, stderr);
});

test('plan with the certificate shows its report and exits 1 when it is not usable', async () => {
  const ok = await runCli(
    ['plan', '--config', 'examples/contoso.yml', '--pfx', good, '--password-env', 'PFX_PASSWORD', '--json'],
    env,
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).certificate.usable, true);
  const bad = await runCli(
    ['plan', '--config', 'examples/contoso.yml', '--pfx', expired, '--password-env', 'PFX_PASSWORD'],
    env,
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /CERT_EXPIRED/);
  assertNoSecret(ok.stdout, ok.stderr, bad.stdout, bad.stderr);
});
