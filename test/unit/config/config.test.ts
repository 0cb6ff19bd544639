/* eslint-disable @typescript-eslint/no-explicit-any -- the cases mutate arbitrary parsed YAML documents */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateConfig, parseConfigText } from '../../../src/config/load.js';
import { configJsonSchemaText } from '../../../src/config/json-schema.js';

const example = () => parse(readFileSync('examples/contoso.yml', 'utf8')) as Record<string, any>;

function problemsOf(mutate: (doc: any) => void) {
  const doc = example();
  mutate(doc);
  return validateConfig(doc).problems;
}

test('the example config is valid and gets its defaults', () => {
  const { config, problems } = validateConfig(example());
  assert.deepEqual(problems, []);
  assert.equal(config?.deployment.webApi.auth, 'windows');
  assert.equal(config?.deployment.webApi.batchSize, 100);
  assert.equal(config?.tenant.cloud, 'public');
  assert.equal(config?.email.mailboxes.poll.intervalSeconds, 30);
});

test('config.schema.json is what the schema generates (run npm run generate)', () => {
  assert.equal(readFileSync('config.schema.json', 'utf8'), configJsonSchemaText());
});

// Each case: a change to the valid example, the dotted path that must be named, and a word the message must carry.
const BAD: [string, (doc: any) => void, string, RegExp][] = [
  ['url not https', (d) => (d.deployment.url = 'http://crm.contoso.com/contoso'), 'deployment.url', /https/],
  ['url not a URL', (d) => (d.deployment.url = 'crm.contoso.com'), 'deployment.url', /https:\/\//],
  ['url with query', (d) => (d.deployment.url = 'https://crm.contoso.com/contoso?x=1'), 'deployment.url', /query/],
  ['url missing', (d) => delete d.deployment.url, 'deployment.url', /required/],
  [
    'organization with space',
    (d) => (d.deployment.organization = 'con toso'),
    'deployment.organization',
    /unique name/,
  ],
  [
    'organization starting with digit',
    (d) => (d.deployment.organization = '1contoso'),
    'deployment.organization',
    /letter/,
  ],
  [
    'server name with dot',
    (d) => (d.deployment.servers[1].name = 'crmasync01.contoso.com'),
    'deployment.servers.1.name',
    /NetBIOS/,
  ],
  [
    'server name too long',
    (d) => (d.deployment.servers[1].name = 'CRMASYNCSERVER0001'),
    'deployment.servers.1.name',
    /1-15/,
  ],
  ['server name only digits', (d) => (d.deployment.servers[1].name = '12345'), 'deployment.servers.1.name', /NetBIOS/],
  ['unknown role', (d) => (d.deployment.servers[1].roles = ['asnyc']), 'deployment.servers.1.roles.0', /one of/],
  ['no roles', (d) => (d.deployment.servers[1].roles = []), 'deployment.servers.1.roles', /at least one role/],
  [
    'two deployment-tools servers',
    (d) => d.deployment.servers[1].roles.push('deployment-tools'),
    'deployment.servers',
    /exactly one/,
  ],
  [
    'no deployment-tools server',
    (d) => (d.deployment.servers[0].roles = ['web', 'async']),
    'deployment.servers',
    /deployment-tools/,
  ],
  [
    'no web server',
    (d) => (d.deployment.servers[0].roles = ['async', 'deployment-tools']),
    'deployment.servers',
    /web role/,
  ],
  ['server listed twice', (d) => (d.deployment.servers[1].name = 'crmapp01'), 'deployment.servers.1.name', /twice/],
  [
    'service account without domain',
    (d) => (d.deployment.serviceAccounts.async = 'svc-crm-async'),
    'deployment.serviceAccounts.async',
    /CONTOSO\\svc/,
  ],
  [
    'service account with slash',
    (d) => (d.deployment.serviceAccounts.web = 'CONTOSO/svc-crm-web'),
    'deployment.serviceAccounts.web',
    /domain account/,
  ],
  ['tools path relative', (d) => (d.deployment.toolsPath = 'Tools'), 'deployment.toolsPath', /absolute Windows path/],
  ['tenant id not a GUID', (d) => (d.tenant.id = '11111111-2222-3333-4444'), 'tenant.id', /GUID/],
  ['tenant id and domain', (d) => (d.tenant.domain = 'contoso.onmicrosoft.com'), 'tenant', /exactly one/],
  ['tenant id nor domain', (d) => delete d.tenant.id, 'tenant', /exactly one/],
  ['unknown cloud', (d) => (d.tenant.cloud = 'china'), 'tenant.cloud', /public/],
  [
    'root domain not covering url',
    (d) => (d.tenant.rootDomain = 'fabrikam.com'),
    'tenant.rootDomain',
    /does not cover crm\.contoso\.com/,
  ],
  ['root domain with scheme', (d) => (d.tenant.rootDomain = 'https://contoso.com'), 'tenant.rootDomain', /DNS name/],
  ['root domain with wildcard', (d) => (d.tenant.rootDomain = '*.contoso.com'), 'tenant.rootDomain', /DNS name/],
  ['auth method unknown', (d) => (d.tenant.auth.method = 'password'), 'tenant.auth.method', /method/],
  ['client id not a GUID', (d) => (d.tenant.auth.clientId = 'my-app'), 'tenant.auth.clientId', /GUID/],
  [
    'client secret without secretEnv',
    (d) => (d.tenant.auth = { method: 'client-secret', clientId: d.tenant.auth.clientId }),
    'tenant.auth.secretEnv',
    /required/,
  ],
  [
    'secret value instead of env name',
    (d) =>
      (d.tenant.auth = {
        method: 'client-secret',
        clientId: d.tenant.auth.clientId,
        secretEnv: 'aB3~xYz.secret-value',
      }),
    'tenant.auth.secretEnv',
    /NAME of an environment variable/,
  ],
  [
    'authority not https',
    (d) => (d.tenant.endpoints = { authority: 'http://login.example' }),
    'tenant.endpoints.authority',
    /https/,
  ],
  ['min days negative', (d) => (d.certificate.minDaysRemaining = -1), 'certificate.minDaysRemaining', /.+/],
  ['min days as text', (d) => (d.certificate.minDaysRemaining = '14'), 'certificate.minDaysRemaining', /number/],
  [
    'certificate host with path',
    (d) => (d.certificate.hosts = ['crm.contoso.com/contoso']),
    'certificate.hosts.0',
    /DNS name/,
  ],
  ['adfs server FQDN', (d) => (d.adfs.server = 'adfs.contoso.com'), 'adfs.server', /NetBIOS/],
  [
    'adfs role identifier without slash',
    (d) => (d.adfs.serverRoleIdentifier = 'https://auth.contoso.com:444'),
    'adfs.serverRoleIdentifier',
    /trailing slash/,
  ],
  [
    'mailbox addresses missing',
    (d) => (d.email.mailboxes.select = 'addresses'),
    'email.mailboxes.addresses',
    /needs a list/,
  ],
  [
    'mailbox address invalid',
    (d) => Object.assign(d.email.mailboxes, { select: 'addresses', addresses: ['anna at contoso'] }),
    'email.mailboxes.addresses.0',
    /email address/,
  ],
  [
    'mailbox filter without select filter',
    (d) => (d.email.mailboxes.filter = "emailaddress eq 'a@b.c'"),
    'email.mailboxes.filter',
    /only read with select: filter/,
  ],
  [
    'explicit locations missing',
    (d) => (d.email.profile.autodiscover = false),
    'email.profile.incomingServerLocation',
    /autodiscover is false/,
  ],
  [
    'poll interval zero',
    (d) => (d.email.mailboxes.poll.intervalSeconds = 0),
    'email.mailboxes.poll.intervalSeconds',
    /.+/,
  ],
  [
    'webApi adfs-password incomplete',
    (d) => (d.deployment.webApi = { auth: 'adfs-password' }),
    'deployment.webApi.tokenEndpoint',
    /required/,
  ],
  ['webApi unknown auth', (d) => (d.deployment.webApi = { auth: 'kerberos' }), 'deployment.webApi.auth', /auth/],
  ['batch size over limit', (d) => (d.deployment.webApi.batchSize = 5000), 'deployment.webApi.batchSize', /.+/],
  [
    'typo in a key',
    (d) => ((d.deployment.serviceAcounts = d.deployment.serviceAccounts), delete d.deployment.serviceAccounts),
    'deployment',
    /unknown key serviceAcounts/,
  ],
  ['unknown top-level section', (d) => (d.mailbox = {}), '(top level)', /unknown key mailbox/],
  ['missing tenant section', (d) => delete d.tenant, 'tenant', /required/],
  ['missing deployment section', (d) => delete d.deployment, 'deployment', /required/],
  [
    'typographic double quotes',
    (d) => (d.deployment.url = '\u201Chttps://crm.contoso.com/contoso\u201D'),
    'deployment.url',
    /U\+201C LEFT DOUBLE QUOTATION MARK/,
  ],
  [
    'typographic single quote in account',
    (d) => (d.deployment.serviceAccounts.async = '\u2018CONTOSO\\svc-crm-async\u2019'),
    'deployment.serviceAccounts.async',
    /U\+2018/,
  ],
  [
    'right single quote inside a name',
    (d) => (d.email.profile.name = 'Exchange Online \u2019Hybrid'),
    'email.profile.name',
    /U\+2019/,
  ],
  [
    'non-breaking space',
    (d) => (d.email.profile.name = 'Exchange\u00A0Online (Hybrid)'),
    'email.profile.name',
    /U\+00A0 NO-BREAK SPACE/,
  ],
  [
    'zero-width space in GUID',
    (d) => (d.tenant.id = '11111111-2222-3333-4444-\u200B555555555555'),
    'tenant.id',
    /U\+200B ZERO WIDTH SPACE/,
  ],
  ['trailing space', (d) => (d.deployment.organization = 'contoso '), 'deployment.organization', /trailing whitespace/],
  [
    'leading space in server',
    (d) => (d.deployment.servers[0].name = ' CRMAPP01'),
    'deployment.servers.0.name',
    /leading or trailing/,
  ],
];

for (const [name, mutate, path, message] of BAD) {
  test(`bad config: ${name} → ${path}`, () => {
    const problems = problemsOf(mutate);
    const hit = problems.find((p) => p.path === path);
    assert.ok(hit, `expected a problem at ${path}, got ${JSON.stringify(problems)}`);
    assert.match(hit.message, message);
  });
}

test('a pasted character is reported once, not also as a format error of the same field', () => {
  const problems = problemsOf((d) => (d.tenant.id = '\u201C11111111-2222-3333-4444-555555555555\u201D'));
  assert.equal(problems.filter((p) => p.path === 'tenant.id').length, 1);
});

test('YAML syntax errors and duplicate keys are problems of the file', () => {
  assert.match(parseConfigText('deployment: [\n', 'bad.yml').problems[0]!.message, /not valid YAML/);
  assert.match(parseConfigText('a: 1\na: 2\n', 'dup.yml').problems[0]!.message, /not valid YAML/);
  assert.match(parseConfigText('{"a":', 'bad.json').problems[0]!.message, /not valid JSON/);
  assert.match(parseConfigText('  \n', 'empty.yml').problems[0]!.message, /empty/);
});
