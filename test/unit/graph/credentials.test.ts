import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { federatedAudience, findFederatedTokenSource, signInReason } from '../../../src/graph/credentials.js';
import { EXTRA_CA_ENV, loadExtraCa } from '../../../src/http/extra-ca.js';

describe('federated token source', () => {
  it('tenant.auth.tokenFileEnv first, and a clear error when it is not set', () => {
    assert.deepEqual(
      findFederatedTokenSource('MY_TOKEN_FILE', { MY_TOKEN_FILE: '/t/token', AZURE_FEDERATED_TOKEN_FILE: '/other' }),
      {
        kind: 'token-file',
        envName: 'MY_TOKEN_FILE',
        path: '/t/token',
      },
    );
    assert.throws(
      () => findFederatedTokenSource('MY_TOKEN_FILE', {}),
      /tokenFileEnv names MY_TOKEN_FILE, which is not set/,
    );
  });
  it('then AZURE_FEDERATED_TOKEN_FILE, then GitHub Actions, then Azure DevOps', () => {
    const github = {
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://gh/token?api-version=2.0',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'rt',
    };
    const ado = {
      SYSTEM_OIDCREQUESTURI: 'https://ado/oidc',
      SYSTEM_ACCESSTOKEN: 'at',
      AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: 'sc',
    };
    assert.equal(
      findFederatedTokenSource(undefined, { AZURE_FEDERATED_TOKEN_FILE: '/f', ...github, ...ado }).kind,
      'token-file',
    );
    assert.equal(findFederatedTokenSource(undefined, { ...github, ...ado }).kind, 'github-actions');
    assert.deepEqual(findFederatedTokenSource(undefined, ado), {
      kind: 'azure-devops',
      requestUri: 'https://ado/oidc',
      accessToken: 'at',
      serviceConnectionId: 'sc',
    });
  });
  it('names what is missing', () => {
    assert.throws(
      () => findFederatedTokenSource(undefined, { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://gh' }),
      /id-token: write/,
    );
    assert.throws(
      () => findFederatedTokenSource(undefined, { SYSTEM_OIDCREQUESTURI: 'https://ado' }),
      /no service connection\. Give the task input azureSubscription/,
    );
    assert.throws(() => findFederatedTokenSource(undefined, {}), /no federated token is available/);
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
