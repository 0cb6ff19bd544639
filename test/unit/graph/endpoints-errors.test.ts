import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCloudEndpoints, resolveS2sMetadataUrl, tenantSegment } from '../../../src/graph/endpoints.js';
import { GraphError, parseGraphErrorBody } from '../../../src/graph/errors.js';
import { missingRecommendedRoles, rolesAllow } from '../../../src/graph/permissions.js';
import { readAccessTokenClaims } from '../../../src/graph/token-claims.js';

describe('cloud endpoints', () => {
  it('public cloud (microsoft-facts §1.5–1.7)', () => {
    const e = resolveCloudEndpoints({ cloud: 'public' });
    assert.equal(e.authorityHost, 'https://login.microsoftonline.com');
    assert.equal(e.graph, 'https://graph.microsoft.com');
    assert.equal(e.s2sMetadataUrl, 'https://accounts.accesscontrol.windows.net/metadata/json/1');
    assert.equal(e.knownAuthority, true);
  });
  it('US Government (GCC High): the S2S metadata URL moves with the cloud (§1.6)', () => {
    const e = resolveCloudEndpoints({ cloud: 'usgov' });
    assert.equal(e.authorityHost, 'https://login.microsoftonline.us');
    assert.equal(e.graph, 'https://graph.microsoft.us');
    assert.equal(
      resolveS2sMetadataUrl({ tenant: { cloud: 'usgov' } as never }),
      'https://login.microsoftonline.us/metadata/json/1',
    );
  });
  it('overrides win and an unknown authority host turns instance discovery off', () => {
    const e = resolveCloudEndpoints({
      cloud: 'public',
      endpoints: {
        authority: 'https://127.0.0.1:4443/',
        graph: 'https://127.0.0.1:4444/',
        s2sMetadataUrl: 'https://sts.example/metadata/json/1',
      },
    });
    assert.equal(e.authorityHost, 'https://127.0.0.1:4443');
    assert.equal(e.graph, 'https://127.0.0.1:4444');
    assert.equal(e.s2sMetadataUrl, 'https://sts.example/metadata/json/1');
    assert.equal(e.knownAuthority, false);
  });
  it('signs in to the tenant id, else the domain', () => {
    assert.equal(tenantSegment({ id: 'a', domain: 'b' }), 'a');
    assert.equal(tenantSegment({ domain: 'contoso.onmicrosoft.com' }), 'contoso.onmicrosoft.com');
    assert.throws(() => tenantSegment({}), /tenant\.id or tenant\.domain/);
  });
});

describe('Graph errors', () => {
  const body = JSON.stringify({
    error: {
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
      innerError: { date: '2026-11-26T10:00:00', 'request-id': 'req-1', 'client-request-id': 'cli-1' },
    },
  });

  it('reads code, message, request-id, client-request-id and date', () => {
    assert.deepEqual(parseGraphErrorBody(body), {
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
      requestId: 'req-1',
      clientRequestId: 'cli-1',
      date: '2026-11-26T10:00:00',
    });
    assert.deepEqual(parseGraphErrorBody('<html>gateway</html>'), {});
  });

  it('a 403 names the permission the call needs, the roles the token has, and keeps the request-id', () => {
    const error = new GraphError({
      ...parseGraphErrorBody(body),
      status: 403,
      method: 'PATCH',
      path: '/v1.0/servicePrincipals/abc',
      operation: 'update-service-principal',
      tokenRoles: ['Organization.Read.All'],
      appId: '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a',
    });
    assert.match(error.message, /HTTP 403 Authorization_RequestDenied/);
    assert.match(error.message, /needs the application permission Application\.ReadWrite\.All/);
    assert.match(error.message, /carries Organization\.Read\.All/);
    assert.match(error.message, /request-id req-1/);
    // Both causes of a 403: the permission, and a Conditional Access or other tenant policy.
    assert.match(error.message, /\(1\) a missing application permission/);
    assert.match(error.message, /\(2\) a Conditional Access policy/);
    assert.match(error.message, /Graph's code Authorization_RequestDenied/);
    assert.equal(error.requestId, 'req-1');
    assert.equal(error.code, 'Authorization_RequestDenied');
    assert.equal(error.isPermissionProblem, true);
  });

  it('a 403 with no roles at all says so', () => {
    const error = new GraphError({
      status: 403,
      method: 'GET',
      path: '/v1.0/organization',
      operation: 'read-organization',
      tokenRoles: [],
    });
    assert.match(error.message, /no application permissions at all/);
    assert.match(error.message, /Organization\.Read\.All/);
  });
});

describe('roles', () => {
  it('reads the roles claim (and its absence) from an access token', () => {
    const token = (payload: object) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
    const claims = readAccessTokenClaims(
      token({ appid: 'app', tid: 'tenant', roles: ['Application.ReadWrite.All'], exp: 2_000_000_000 }),
    );
    assert.deepEqual(claims.roles, ['Application.ReadWrite.All']);
    assert.equal(claims.appId, 'app');
    assert.equal(claims.tenantId, 'tenant');
    assert.deepEqual(readAccessTokenClaims(token({ appid: 'app' })).roles, []);
    assert.deepEqual(readAccessTokenClaims('not a jwt').roles, []);
  });
  it('names the missing recommended roles, accepting the higher ones Graph accepts', () => {
    assert.deepEqual(missingRecommendedRoles(['Application.ReadWrite.All', 'Organization.Read.All']), []);
    assert.deepEqual(missingRecommendedRoles(['Directory.ReadWrite.All']), []);
    assert.deepEqual(
      missingRecommendedRoles(['Application.Read.All']).map((m) => m.role),
      ['Application.ReadWrite.All', 'Organization.Read.All'],
    );
    assert.equal(rolesAllow('update-service-principal', ['Application.ReadWrite.OwnedBy']), false);
  });
});
