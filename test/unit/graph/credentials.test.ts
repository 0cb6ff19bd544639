import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { federatedAudience, findFederatedTokenSource, signInReason } from '../../../src/graph/credentials.js';
import { EXTRA_CA_ENV, loadExtraCa } from '../../../src/http/extra-ca.js';
import { EntraSignInError } from '../../../src/graph/errors.js';

describe('federated token source', () => {
  const fromPipeline = {
    description: 'the test pipeline',
    request: () => ({ method: 'GET' as const, url: 'https://pipeline/token', headers: {} }),
    read: () => 'jwt',
  };
  const none = () => undefined;
  it('tenant.auth.tokenFileEnv first, and a clear error when it is not set', () => {
    assert.deepEqual(
      findFederatedTokenSource(
        'MY_TOKEN_FILE',
        { MY_TOKEN_FILE: '/t/token', AZURE_FEDERATED_TOKEN_FILE: '/other' },
        () => fromPipeline,
      ),
      {
        kind: 'token-file',
        envName: 'MY_TOKEN_FILE',
        path: '/t/token',
      },
    );
    assert.throws(
      () => findFederatedTokenSource('MY_TOKEN_FILE', {}, () => fromPipeline),
      /tokenFileEnv names MY_TOKEN_FILE, which is not set/,
    );
  });
  it("then AZURE_FEDERATED_TOKEN_FILE, then the pipeline's token as the Host finds it", () => {
    assert.equal(
      findFederatedTokenSource(undefined, { AZURE_FEDERATED_TOKEN_FILE: '/f' }, () => {
        throw new Error('the host is not asked when a token file is named');
      }).kind,
      'token-file',
    );
    assert.deepEqual(
      findFederatedTokenSource(undefined, {}, () => fromPipeline),
      {
        kind: 'pipeline',
        source: fromPipeline,
      },
    );
  });
  it("names what is missing, and passes the host's own reason on as a sign-in error", () => {
    assert.throws(
      () =>
        findFederatedTokenSource(undefined, {}, () => {
          throw new Error('give the job `permissions: id-token: write`');
        }),
      (error: Error) => error instanceof EntraSignInError && /id-token: write/.test(error.message),
    );
    assert.throws(() => findFederatedTokenSource(undefined, {}, none), /no federated token is available/);
  });
  it('asks for tenant.auth.audience: api://AzureADTokenExchange in every cloud unless the config names another', () => {
    const clientId = '11111111-1111-4111-8111-111111111111';
    assert.equal(
      federatedAudience({ method: 'workload-identity', clientId, audience: 'api://AzureADTokenExchange' }),
      'api://AzureADTokenExchange',
    );
    assert.equal(
      federatedAudience({ method: 'workload-identity', clientId, audience: 'api://custom' }),
      'api://custom',
    );
    assert.equal(
      federatedAudience({ method: 'client-secret', clientId, secretEnv: 'X' }),
      'api://AzureADTokenExchange',
    );
  });
});

describe('sign-in failure words', () => {
  it('keeps Entra error code and the first line of the AADSTS description', () => {
    const error = {
      errorResponse: {
        error: 'invalid_client',
        errorDescription: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x',
      },
    };
    assert.equal(signInReason(error), 'invalid_client: AADSTS7000215: Invalid client secret provided.');
    assert.equal(signInReason(new Error('plain failure\nTo troubleshoot, visit https://aka.ms/x')), 'plain failure');
  });
});

describe('extra CA', () => {
  it('is read from the file the variable names, and refuses what is not a PEM certificate', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'd365-ca-'));
    try {
      const good = join(dir, 'ca.pem');
      writeFileSync(good, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const bad = join(dir, 'bad.pem');
      writeFileSync(bad, 'hello');
      assert.equal(loadExtraCa({}), undefined);
      assert.match(loadExtraCa({ [EXTRA_CA_ENV]: good }) ?? '', /BEGIN CERTIFICATE/);
      assert.throws(() => loadExtraCa({ [EXTRA_CA_ENV]: bad }), /holds no PEM certificate/);
      assert.throws(() => loadExtraCa({ [EXTRA_CA_ENV]: join(dir, 'missing.pem') }), /cannot be read \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
