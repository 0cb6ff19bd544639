// The sandbox itself: it must behave like Entra and Graph where the toolkit depends on it, or the
// phase tests would prove nothing. Raw HTTPS requests, trusting the test CA.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sendWithRetry, type HttpResponse } from '../../../src/http/request.js';
import { DYNAMICS_APP_ID, type EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { CLIENT_ID, CLIENT_SECRET, sandboxTls, startSandbox, testCertificate, TENANT_ID } from './sandbox.js';

const once = { maxAttempts: 1, timeoutMs: 2_000 };

describe('Entra/Graph sandbox', () => {
  let emulator: EntraEmulator;
  const ca = () => sandboxTls().caPem;
  const old = testCertificate('emu-old');
  const fresh = testCertificate('emu-new');

  async function token(roles?: string[]): Promise<string> {
    if (roles) emulator.state.setRoles(CLIENT_ID, roles);
    const res = await sendWithRetry(
      {
        method: 'POST',
        url: `${emulator.authority}/${TENANT_ID}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          scope: `${emulator.graph}/.default`,
        }).toString(),
      },
      { ...once, ca: ca() },
    );
    assert.equal(res.status, 200, res.body);
    return (JSON.parse(res.body) as { access_token: string }).access_token;
  }

  function graph(
    method: 'GET' | 'PATCH',
    path: string,
    bearer: string | undefined,
    body?: unknown,
  ): Promise<HttpResponse> {
    return sendWithRetry(
      {
        method,
        url: emulator.graph + path,
        headers: {
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          'content-type': 'application/json',
          'client-request-id': 'test-client-request',
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      },
      { ...once, ca: ca() },
    );
  }

  before(async () => {
    emulator = await startSandbox();
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, { certificate: old.cert.x509, displayName: 'CN=crm.contoso.com' });
  });
  after(() => emulator.close());

  it('serves the OpenID configuration MSAL reads, for the tenant id and for a verified domain', async () => {
    for (const tenant of [TENANT_ID, 'contoso.onmicrosoft.com']) {
      const res = await sendWithRetry(
        { method: 'GET', url: `${emulator.authority}/${tenant}/v2.0/.well-known/openid-configuration` },
        { ...once, ca: ca() },
      );
      const doc = JSON.parse(res.body) as Record<string, string>;
      for (const field of ['authorization_endpoint', 'token_endpoint', 'issuer', 'jwks_uri'])
        assert.ok(doc[field], field);
      assert.equal(doc.token_endpoint, `${emulator.authority}/${TENANT_ID}/oauth2/v2.0/token`);
    }
    const unknown = await sendWithRetry(
      { method: 'GET', url: `${emulator.authority}/fabrikam.com/v2.0/.well-known/openid-configuration` },
      { ...once, ca: ca() },
    );
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /AADSTS90002/);
  });

  it('refuses a wrong client secret with AADSTS7000215', async () => {
    const res = await sendWithRetry(
      {
        method: 'POST',
        url: `${emulator.authority}/${TENANT_ID}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: CLIENT_ID,
          client_secret: 'wrong',
          scope: `${emulator.graph}/.default`,
        }).toString(),
      },
      { ...once, ca: ca() },
    );
    assert.equal(res.status, 401);
    const body = JSON.parse(res.body) as { error: string; error_codes: number[] };
    assert.equal(body.error, 'invalid_client');
    assert.deepEqual(body.error_codes, [7000215]);
  });

  it('checks bearer tokens: missing, expired, wrong audience, forged', async () => {
    const missing = await graph('GET', '/v1.0/organization', undefined);
    assert.equal(missing.status, 401);
    assert.match(missing.body, /InvalidAuthenticationToken/);
    assert.match(missing.body, /Access token is empty/);
    assert.match(missing.headers['www-authenticate'] ?? '', /Bearer/);

    const expired = await graph(
      'GET',
      '/v1.0/organization',
      emulator.issueAccessToken(CLIENT_ID, { lifetimeSeconds: -60 }),
    );
    assert.equal(expired.status, 401);
    assert.match(expired.body, /Lifetime validation failed, the token is expired/);

    const audience = await graph(
      'GET',
      '/v1.0/organization',
      emulator.issueAccessToken(CLIENT_ID, { audience: 'https://management.azure.com' }),
    );
    assert.match(audience.body, /Invalid audience/);

    const good = await token(['Organization.Read.All']);
    const [header, payload] = good.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, roles: ['Directory.ReadWrite.All'] })).toString(
      'base64url',
    );
    const forged = await graph('GET', '/v1.0/organization', `${header}.${forgedPayload}.${good.split('.')[2]}`);
    assert.equal(forged.status, 401);
    assert.match(forged.body, /Access token validation failure/);
  });

  it('enforces roles per call, with Graph error shape and request-id', async () => {
    const readOnly = await token(['Application.Read.All']);
    const org = await graph('GET', '/v1.0/organization', readOnly);
    assert.equal(org.status, 403);
    const body = JSON.parse(org.body) as { error: { code: string; innerError: Record<string, string> } };
    assert.equal(body.error.code, 'Authorization_RequestDenied');
    assert.equal(body.error.innerError['request-id'], org.headers['request-id']);
    assert.equal(body.error.innerError['client-request-id'], 'test-client-request');
    assert.ok(body.error.innerError.date);

    const sp = emulator.state.dynamics();
    const patch = await graph('PATCH', `/v1.0/servicePrincipals/${sp.id}`, readOnly, {
      servicePrincipalNames: [DYNAMICS_APP_ID],
    });
    assert.equal(patch.status, 403);
    const list = await graph(
      'GET',
      `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${DYNAMICS_APP_ID}'`)}`,
      readOnly,
    );
    assert.equal(list.status, 200);
  });

  it('returns key only on a single-object read with $select=keyCredentials', async () => {
    const bearer = await token(['Application.ReadWrite.All', 'Organization.Read.All']);
    const sp = emulator.state.dynamics();
    const list = JSON.parse(
      (
        await graph(
          'GET',
          `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${DYNAMICS_APP_ID}'`)}&$select=id,keyCredentials`,
          bearer,
        )
      ).body,
    ) as {
      value: { keyCredentials: { key: string | null }[] }[];
    };
    assert.equal(list.value[0]!.keyCredentials[0]!.key, null);
    const single = JSON.parse(
      (await graph('GET', `/v1.0/servicePrincipals/${sp.id}?$select=keyCredentials`, bearer)).body,
    ) as { keyCredentials: { key: string }[] };
    assert.deepEqual(Buffer.from(single.keyCredentials[0]!.key, 'base64'), old.cert.der);
    const byAppId = JSON.parse(
      (
        await graph(
          'GET',
          `/v1.0/servicePrincipals(appId='${DYNAMICS_APP_ID}')?$select=id,servicePrincipalNames`,
          bearer,
        )
      ).body,
    ) as { id: string };
    assert.equal(byAppId.id, sp.id);
    const unknownSelect = await graph('GET', `/v1.0/servicePrincipals/${sp.id}?$select=nope`, bearer);
    assert.equal(unknownSelect.status, 400);
  });

  it('refuses a resent displayName (or key) of an existing key with the real error, and changes nothing', async () => {
    const bearer = await token(['Application.ReadWrite.All']);
    const sp = emulator.state.dynamics();
    const existing = sp.keyCredentials[0]!;
    const before = emulator.state.snapshot();
    const withName = await graph('PATCH', `/v1.0/servicePrincipals/${sp.id}`, bearer, {
      keyCredentials: [
        { keyId: existing.keyId, type: existing.type, usage: existing.usage, displayName: existing.displayName },
      ],
    });
    assert.equal(withName.status, 400);
    assert.match(
      withName.body,
      new RegExp(`Update to existing credential with KeyId '${existing.keyId}' is not allowed\\.`),
    );
    const withKey = await graph('PATCH', `/v1.0/servicePrincipals/${sp.id}`, bearer, {
      keyCredentials: [{ keyId: existing.keyId, key: existing.key }],
    });
    assert.equal(withKey.status, 400);
    assert.deepEqual(emulator.state.snapshot(), before);
  });

  it('PATCH replaces the whole collection: what is not resent is gone; a new key gets Graph defaults', async () => {
    const bearer = await token(['Application.ReadWrite.All']);
    const sp = emulator.state.dynamics();
    const res = await graph('PATCH', `/v1.0/servicePrincipals(appId='${DYNAMICS_APP_ID}')`, bearer, {
      keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: fresh.cert.der.toString('base64') }],
    });
    assert.equal(res.status, 204);
    assert.equal(sp.keyCredentials.length, 1);
    const key = sp.keyCredentials[0]!;
    assert.equal(key.customKeyIdentifier, createHash('sha1').update(fresh.cert.der).digest('base64'));
    assert.equal(Date.parse(key.endDateTime), Math.floor(new Date(fresh.cert.x509.validTo).getTime() / 1000) * 1000);
    assert.match(key.keyId, /^[0-9a-f-]{36}$/);
    const bad = await graph('PATCH', `/v1.0/servicePrincipals/${sp.id}`, bearer, {
      keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Sign', key: fresh.cert.der.toString('base64') }],
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /Invalid value specified for property 'usage'/);
  });

  it('injects faults by rule and count, and logs every request', async () => {
    const bearer = await token(['Organization.Read.All']);
    const rule = emulator.faults.add({
      endpoint: 'organization',
      kind: 'status',
      status: 429,
      retryAfterSeconds: 3,
      times: 2,
    });
    const first = await graph('GET', '/v1.0/organization', bearer);
    assert.equal(first.status, 429);
    assert.equal(first.headers['retry-after'], '3');
    assert.match(first.body, /TooManyRequests/);
    await graph('GET', '/v1.0/organization', bearer);
    const third = await graph('GET', '/v1.0/organization', bearer);
    assert.equal(third.status, 200);
    assert.equal(rule.hits, 2);
    assert.equal(rule.remaining, 0);
    assert.deepEqual(
      emulator
        .requestsTo('organization')
        .slice(-3)
        .map((r) => r.status),
      [429, 429, 200],
    );
    emulator.faults.add({ endpoint: 'organization', kind: 'malformed' });
    const malformed = await graph('GET', '/v1.0/organization', bearer);
    assert.equal(malformed.status, 200);
    assert.throws(() => JSON.parse(malformed.body));
    emulator.faults.add({ endpoint: 'organization', kind: 'reset' });
    await assert.rejects(
      graph('GET', '/v1.0/organization', bearer),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNRESET' || /socket hang up/.test(error.message),
    );
  });
});
