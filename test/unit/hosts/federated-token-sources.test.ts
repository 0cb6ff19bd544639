import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  azureDevOpsEnvTokenSource,
  githubActionsTokenSource,
  pipelineTokenSource,
} from '../../../src/hosts/federated-token-sources.js';
import { TestHost } from '../../support/test-host.js';

const github = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://gh/token?api-version=2.0',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token-1234',
};
const ado = {
  SYSTEM_OIDCREQUESTURI: 'https://ado/oidc',
  SYSTEM_ACCESSTOKEN: 'job-access-token-5678',
  AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: 'sc',
};

describe('federated token sources of the hosts', () => {
  it('GitHub Actions: asks for the audience with the request token, reads value; the request token is masked', () => {
    const host = new TestHost();
    const source = githubActionsTokenSource(github, host)!;
    assert.equal(source.description, 'the GitHub Actions OIDC token');
    const request = source.request('api://AzureADTokenExchange');
    assert.equal(request.method, 'GET');
    assert.equal(new URL(request.url).searchParams.get('audience'), 'api://AzureADTokenExchange');
    assert.equal(new URL(request.url).searchParams.get('api-version'), '2.0');
    assert.equal(request.headers.authorization, 'bearer request-token-1234');
    assert.equal(source.read(200, JSON.stringify({ count: 1, value: 'jwt' })), 'jwt');
    assert.throws(() => source.read(403, '{}'), /HTTP 403; give the job `permissions: id-token: write`/);
    assert.throws(() => source.read(200, 'not json'), /did not answer with JSON/);
    assert.throws(() => source.read(200, '{}'), /answered without a token \(value\)/);
    assert.equal(host.mask('request-token-1234'), '***');
  });
  it('Azure DevOps: POSTs for the service connection, reads oidcToken; the job token is masked', () => {
    const host = new TestHost();
    const source = azureDevOpsEnvTokenSource(ado, host)!;
    const request = source.request('ignored');
    assert.equal(request.method, 'POST');
    assert.equal(new URL(request.url).searchParams.get('serviceConnectionId'), 'sc');
    assert.equal(new URL(request.url).searchParams.get('api-version'), '7.1');
    assert.equal(source.read(200, JSON.stringify({ oidcToken: 'jwt' })), 'jwt');
    assert.throws(() => source.read(401, '{}'), /service connection sc: HTTP 401/);
    assert.equal(host.mask('job-access-token-5678'), '***');
  });
  it('names what is missing, and finds nothing outside a pipeline', () => {
    const host = new TestHost();
    assert.throws(
      () => githubActionsTokenSource({ ACTIONS_ID_TOKEN_REQUEST_URL: 'https://gh' }, host),
      /must both be set; give the job `permissions: id-token: write`/,
    );
    assert.throws(
      () => azureDevOpsEnvTokenSource({ SYSTEM_OIDCREQUESTURI: 'https://ado' }, host),
      /no service connection\. Give the task input azureSubscription/,
    );
    assert.equal(pipelineTokenSource({}, host), undefined);
  });
  it('the command line in a pipeline: GitHub Actions first, then Azure DevOps', () => {
    const host = new TestHost();
    assert.equal(pipelineTokenSource({ ...github, ...ado }, host)!.description, 'the GitHub Actions OIDC token');
    assert.equal(pipelineTokenSource(ado, host)!.description, 'the Azure DevOps service connection sc');
  });
});
