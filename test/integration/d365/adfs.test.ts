import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator, type D365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { d365PreflightCheck } from '../../../src/phases/preflight/d365-checks.js';
import { createCrmServices } from '../../../src/crm/client-factory.js';
import { AdfsPasswordAuth } from '../../../src/crm/adfs-auth.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock } from './support.js';

class RecordingHost extends TestHost {
  readonly registered: string[] = [];
  override registerSecret(value: string | Buffer): void {
    this.registered.push(String(value));
    super.registerSecret(value);
  }
}

function adfsConfig(emulator: D365Emulator) {
  return configFor(emulator, {
    webApi: {
      auth: 'adfs-password',
      tokenEndpoint: emulator.tokenEndpoint,
      clientId: emulator.clientId,
      resource: emulator.resource,
      usernameEnv: 'CRM_SYNC_USER',
      passwordEnv: 'CRM_SYNC_PASSWORD',
    },
  });
}

test('adfs-password: one token for the whole run; user name, password and token masked and in no output', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 3,
    auth: { mode: 'bearer' },
    testAndEnable: { afterQueries: 1 },
  });
  t.after(() => emulator.close());
  const user = emulator.users[0]!;
  const config = adfsConfig(emulator);
  const host = new RecordingHost();
  const env = { CRM_SYNC_USER: user.username, CRM_SYNC_PASSWORD: user.password };
  const services = createCrmServices(config, host, env, { ca: emulator.caPem, clock: fakeClock() });
  assert.equal(host.registered.length, 0, 'nothing is read before the first request');
  const outcome = await configureMailboxesPhase.apply(contextFor(config, host, services));
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );
  assert.equal(emulator.requests.token, 1);
  // Only what the AD FS 2016+ password flow documents; no scope unless configured.
  assert.deepEqual(emulator.tokenRequestFields, [['client_id', 'grant_type', 'password', 'resource', 'username']]);
  assert.ok(host.registered.includes(user.password));
  assert.ok(host.registered.includes(user.username));
  const token = host.registered.find((value) => value !== user.password && value !== user.username);
  assert.ok(token && token.length > 20, 'the access token was registered');
  const everything = host.allText() + JSON.stringify(outcome);
  for (const secret of [user.password, token, encodeURIComponent(user.password)])
    assert.ok(!everything.includes(secret), 'a secret leaked');
  assert.ok(!everything.includes(user.username));
});

test('adfs-password: wrong password, unknown client and missing variables fail clearly, without the password', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1, auth: { mode: 'bearer' } });
  t.after(() => emulator.close());
  const user = emulator.users[0]!;
  const config = adfsConfig(emulator);

  const wrong = new TestHost();
  const wrongPassword = 'Not-The-Password-42';
  const denied = await d365PreflightCheck.run(
    contextFor(
      config,
      wrong,
      createCrmServices(
        config,
        wrong,
        { CRM_SYNC_USER: user.username, CRM_SYNC_PASSWORD: wrongPassword },
        { ca: emulator.caPem, retry: { baseDelayMs: 1 } },
      ),
    ),
  );
  assert.equal(denied.results[0]!.status, 'failed');
  assert.match(denied.results[0]!.error!, /MSIS9659: Invalid 'username' or 'password'/);
  assert.match(denied.results[0]!.error!, /user name or password is wrong/);
  assert.ok(!JSON.stringify(denied).includes(wrongPassword));

  const missing = new TestHost();
  const unset = await d365PreflightCheck.run(
    contextFor(
      config,
      missing,
      createCrmServices(config, missing, { CRM_SYNC_USER: user.username }, { ca: emulator.caPem }),
    ),
  );
  assert.match(
    unset.results[0]!.error!,
    /deployment\.webApi\.passwordEnv names CRM_SYNC_PASSWORD, but that environment variable is empty/,
  );

  const otherClient = configFor(emulator, {
    webApi: {
      auth: 'adfs-password',
      tokenEndpoint: emulator.tokenEndpoint,
      clientId: '99999999-9999-4999-8999-999999999999',
      resource: emulator.resource,
      usernameEnv: 'U',
      passwordEnv: 'P',
    },
  });
  const clientHost = new TestHost();
  const unknown = await d365PreflightCheck.run(
    contextFor(
      otherClient,
      clientHost,
      createCrmServices(otherClient, clientHost, { U: user.username, P: user.password }, { ca: emulator.caPem }),
    ),
  );
  assert.match(unknown.results[0]!.error!, /MSIS9223.*Add-AdfsClient/);
});

test('the token is used until shortly before it expires, then a new one is fetched; a 401 fetches a new one once', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1, auth: { mode: 'bearer', tokenLifetimeSeconds: 3600 } });
  t.after(() => emulator.close());
  const user = emulator.users[0]!;
  let now = Date.now();
  const auth = new AdfsPasswordAuth({
    tokenEndpoint: emulator.tokenEndpoint,
    clientId: emulator.clientId,
    resource: emulator.resource,
    username: user.username,
    password: user.password,
    timeoutMs: 5000,
    ca: emulator.caPem,
    registerSecret: () => {},
    now: () => now,
  });
  const first = await auth.authorization();
  assert.equal(await auth.authorization(), first);
  now += 3600_000 - 30_000;
  const second = await auth.authorization();
  assert.notEqual(second, first);
  assert.equal(auth.tokensIssued, 2);
  assert.equal(auth.invalidate(), true);
  await auth.authorization();
  assert.equal(auth.tokensIssued, 3);
});

test('adfs-password: deployment.webApi.scope is sent only when configured', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1, auth: { mode: 'bearer' } });
  t.after(() => emulator.close());
  const user = emulator.users[0]!;
  const base = adfsConfig(emulator);
  const config = {
    ...base,
    deployment: { ...base.deployment, webApi: { ...base.deployment.webApi, scope: 'openid' } },
  } as typeof base;
  const host = new TestHost();
  const env = { CRM_SYNC_USER: user.username, CRM_SYNC_PASSWORD: user.password };
  const { client } = createCrmServices(config, host, env, { ca: emulator.caPem, clock: fakeClock() });
  await client.whoAmI();
  assert.deepEqual(emulator.tokenRequestFields, [
    ['client_id', 'grant_type', 'password', 'resource', 'scope', 'username'],
  ]);
});
