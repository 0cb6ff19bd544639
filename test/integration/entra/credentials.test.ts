// Every sign-in method against the sandbox's token endpoint, through @azure/identity and MSAL on the
// toolkit's HTTP layer: client secret, client certificate, and workload identity federation from
// GitHub Actions, Azure DevOps and a token file. Each asserts what reached the token endpoint and that
// no secret reached the output.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwtPayload } from '../../../src/graph/token-claims.js';
import type { EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { TestHost } from '../../support/test-host.js';
import { makeLeaf } from '../../support/certs.js';
import {
  CLIENT_ID,
  FULL_ROLES,
  leakedSecrets,
  phaseContext,
  sandboxConfig,
  scratch,
  SECRET_ENV,
  startSandbox,
} from './sandbox.js';

const ADO_CONNECTION = '5e0f3d1c-8a7b-4c2d-9e1f-0a1b2c3d4e5f';

describe('sign-in methods', () => {
  let emulator: EntraEmulator | undefined;
  let files: ReturnType<typeof scratch> | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
    files?.remove();
    files = undefined;
  });

  const tokenRequests = () => emulator!.requestsTo('token');

  it('client secret: from the variable tenant.auth.secretEnv names; a wrong one gives Entra’s reason without the secret', async () => {
    emulator = await startSandbox();
    const host = new TestHost();
    const claims = await phaseContext(emulator, host).services.entra!.graph.tokenClaims();
    assert.deepEqual(claims.roles, FULL_ROLES);
    assert.equal(tokenRequests()[0]!.form?.grant_type, 'client_credentials');
    assert.equal(tokenRequests()[0]!.form?.scope, `${emulator.graph}/.default`);

    const wrong = 'not-the-secret-0123456789';
    const badHost = new TestHost();
    const bad = phaseContext(emulator, badHost, { env: { [SECRET_ENV]: wrong } });
    await assert.rejects(bad.services.entra!.graph.getOrganization(), (error: Error) => {
      assert.match(
        error.message,
        /Signing in to Entra ID failed for app 7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a in tenant 11111111-2222-3333-4444-555555555555 \(client secret from CRM_SYNC_CLIENT_SECRET\)/,
      );
      assert.match(error.message, /invalid_client: AADSTS7000215: Invalid client secret provided/);
      assert.ok(!error.message.includes(wrong));
      return true;
    });
    badHost.log.error(String(wrong));
    assert.ok(!badHost.allText().includes(wrong), 'the secret was registered with the mask before first use');
    assert.deepEqual(leakedSecrets(host, emulator), []);
  });

  it('client secret: a variable that is not set is named on first use, not when the services are built', async () => {
    emulator = await startSandbox();
    const ctx = phaseContext(emulator, new TestHost(), { env: {} });
    await assert.rejects(
      ctx.services.entra!.graph.tokenClaims(),
      /tenant\.auth\.secretEnv names CRM_SYNC_CLIENT_SECRET, which is not set or empty/,
    );
    assert.equal(emulator.requests.length, 0);
  });

  it('client certificate: MSAL signs an assertion with the app’s key; the sandbox checks it against the registered certificate', async () => {
    const appCert = makeLeaf({ keySlot: 'entra-app-auth', commonName: 'd365-exo-sync app' });
    emulator = await startSandbox({
      clients: [{ clientId: CLIENT_ID, certificatePem: appCert.pem, roles: FULL_ROLES }],
    });
    const config = sandboxConfig(emulator, {
      auth: { method: 'client-certificate', clientId: CLIENT_ID, certificateEnv: 'APP_CERT_PEM' },
    });
    const host = new TestHost();
    const pem = appCert.pem + appCert.privateKeyPem;
    const ctx = phaseContext(emulator, host, { config, env: { APP_CERT_PEM: pem } });
    const org = await ctx.services.entra!.graph.getOrganization();
    assert.equal(org.id, emulator.tenantId);
    const form = tokenRequests()[0]!.form!;
    assert.equal(form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    assert.equal(form.client_secret, undefined);
    const header = JSON.parse(Buffer.from(form.client_assertion!.split('.')[0]!, 'base64url').toString()) as Record<
      string,
      string
    >;
    assert.ok(header['x5t#S256'] || header.x5t);
    assert.equal(decodeJwtPayload(form.client_assertion!)?.iss, CLIENT_ID);
    ctx.host.log.info(appCert.privateKeyPem);
    assert.ok(!host.allText().includes(appCert.privateKeyPem.split('\n')[1]!), 'the key is masked');
    assert.deepEqual(leakedSecrets(host, emulator), []);

    // Another certificate than the registered one is refused with Entra's reason.
    const other = makeLeaf({ keySlot: 'entra-app-other', commonName: 'someone else' });
    const refused = phaseContext(emulator, new TestHost(), {
      config,
      env: { APP_CERT_PEM: other.pem + other.privateKeyPem },
    });
    await assert.rejects(refused.services.entra!.graph.tokenClaims(), /AADSTS700027/);
  });

  it('workload identity in GitHub Actions: asks GitHub for a token for api://AzureADTokenExchange and presents it', async () => {
    emulator = await startSandbox({ clients: [] });
    const sub = emulator.github.subject;
    emulator.state.clients.set(CLIENT_ID, {
      clientId: CLIENT_ID,
      roles: FULL_ROLES,
      federated: [{ issuer: emulator.github.issuer, subject: sub }],
    });
    const config = sandboxConfig(emulator, { auth: { method: 'workload-identity', clientId: CLIENT_ID } });
    const host = new TestHost();
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: emulator.github.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: emulator.github.requestToken,
    };
    const claims = await phaseContext(emulator, host, { config, env }).services.entra!.graph.tokenClaims();
    assert.equal(claims.appId, CLIENT_ID);
    const github = emulator.requestsTo('github-oidc')[0]!;
    assert.equal(github.query.audience, 'api://AzureADTokenExchange');
    assert.equal(github.query['api-version'], '2.0');
    const assertion = decodeJwtPayload(tokenRequests()[0]!.form!.client_assertion!);
    assert.equal(assertion?.iss, emulator.github.issuer);
    assert.equal(assertion?.aud, 'api://AzureADTokenExchange');
    host.log.info(`request token ${emulator.github.requestToken}`);
    assert.deepEqual(leakedSecrets(host, emulator, [emulator.github.requestToken]), []);
  });

  it('workload identity in Azure DevOps: the service connection’s OIDC token', async () => {
    emulator = await startSandbox({ clients: [] });
    emulator.state.clients.set(CLIENT_ID, {
      clientId: CLIENT_ID,
      roles: FULL_ROLES,
      federated: [{ issuer: emulator.azureDevOps.issuer, subject: emulator.azureDevOps.subjectFor(ADO_CONNECTION) }],
    });
    const config = sandboxConfig(emulator, { auth: { method: 'workload-identity', clientId: CLIENT_ID } });
    const host = new TestHost();
    const env = {
      SYSTEM_OIDCREQUESTURI: emulator.azureDevOps.requestUri,
      SYSTEM_ACCESSTOKEN: emulator.azureDevOps.accessToken,
      AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: ADO_CONNECTION,
    };
    await phaseContext(emulator, host, { config, env }).services.entra!.graph.getOrganization();
    const ado = emulator.requestsTo('azure-devops-oidc')[0]!;
    assert.equal(ado.method, 'POST');
    assert.equal(ado.query.serviceConnectionId, ADO_CONNECTION);
    assert.equal(ado.query['api-version'], '7.1');
    assert.deepEqual(leakedSecrets(host, emulator, [emulator.azureDevOps.accessToken]), []);
  });

  it('workload identity from a token file (AZURE_FEDERATED_TOKEN_FILE); a subject Entra does not know is refused', async () => {
    emulator = await startSandbox({ clients: [] });
    emulator.state.clients.set(CLIENT_ID, {
      clientId: CLIENT_ID,
      roles: FULL_ROLES,
      federated: [{ issuer: emulator.github.issuer, subject: 'system:serviceaccount:crm:sync' }],
    });
    files = scratch();
    const config = sandboxConfig(emulator, { auth: { method: 'workload-identity', clientId: CLIENT_ID } });
    const good = files.file(
      'token',
      emulator.issueFederatedToken({ subject: 'system:serviceaccount:crm:sync' }) + '\n',
    );
    await phaseContext(emulator, new TestHost(), {
      config,
      env: { AZURE_FEDERATED_TOKEN_FILE: good },
    }).services.entra!.graph.tokenClaims();
    assert.equal(emulator.state.tokensIssued, 1);

    const stranger = files.file(
      'stranger',
      emulator.issueFederatedToken({ subject: 'repo:someone/else:ref:refs/heads/main' }),
    );
    const ctx = phaseContext(emulator, new TestHost(), { config, env: { AZURE_FEDERATED_TOKEN_FILE: stranger } });
    await assert.rejects(
      ctx.services.entra!.graph.tokenClaims(),
      /AADSTS70021: No matching federated identity record found/,
    );
  });

  it('workload identity with nothing to sign in with says what to set', async () => {
    emulator = await startSandbox();
    const config = sandboxConfig(emulator, { auth: { method: 'workload-identity', clientId: CLIENT_ID } });
    const ctx = phaseContext(emulator, new TestHost(), { config, env: {} });
    await assert.rejects(ctx.services.entra!.graph.tokenClaims(), /permissions: id-token: write/);
    assert.equal(emulator.requests.length, 0);
  });
});
