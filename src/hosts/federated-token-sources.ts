// Where a pipeline hands a job its federated (OIDC) tokens, as the hosts find them: GitHub Actions' ID token
// request (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, present when the job has `permissions: id-token: write`;
// GitHub Docs "About security hardening with OpenID Connect") and Azure DevOps' OIDC endpoint for a service
// connection (SYSTEM_OIDCREQUESTURI with the job's access token; the same request Microsoft's AzureCLI task makes,
// azure-pipelines-tasks Tasks/AzureCLIV2). Each source says how to ask for one token and how to read the answer;
// the core sends the request with its own retries, trusted CAs and mask. The request tokens are registered with the
// mask as soon as a source is found.
import type { FederatedTokenSource, Host } from './host.js';

function answerJson(body: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    if (value && typeof value === 'object') return value as Record<string, unknown>;
  } catch {
    // Not JSON: said below.
  }
  throw new Error(`${what} did not answer with JSON`);
}

/** A string field of a 200 answer, or an error naming the endpoint and the field. */
function tokenField(body: string, what: string, field: string): string {
  const value = answerJson(body, what)[field];
  if (typeof value !== 'string' || !value) throw new Error(`${what} answered without a token (${field})`);
  return value;
}

/**
 * The GitHub Actions OIDC token of this job, or undefined outside a job that may request one. The request is the
 * one @actions/core's getIDToken makes; getIDToken itself is not used because it reads process.env rather than the
 * host's environment, trusts only Node's own CAs (the extra CA of D365_EXO_SYNC_EXTRA_CA would not apply), retries
 * on its own outside the run's time budget, and its failure does not name the fix.
 */
export function githubActionsTokenSource(env: NodeJS.ProcessEnv, host: Host): FederatedTokenSource | undefined {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl && !requestToken) return undefined;
  if (requestToken) host.registerSecret(requestToken);
  if (!requestUrl || !requestToken) {
    throw new Error(
      'GitHub Actions OIDC: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN must both be set; give the job `permissions: id-token: write`',
    );
  }
  return {
    description: 'the GitHub Actions OIDC token',
    request(audience) {
      const url = new URL(requestUrl);
      url.searchParams.set('audience', audience);
      return {
        method: 'GET',
        url: url.toString(),
        headers: { authorization: `bearer ${requestToken}`, accept: 'application/json; api-version=2.0' },
      };
    },
    read(status, body) {
      if (status !== 200) {
        throw new Error(
          `GitHub Actions refused the OIDC token request: HTTP ${status}; give the job \`permissions: id-token: write\``,
        );
      }
      return tokenField(body, 'the GitHub Actions OIDC token endpoint', 'value');
    },
  };
}

export interface AzureDevOpsOidc {
  /** SYSTEM_OIDCREQUESTURI. */
  requestUri: string;
  /** The job's access token (SYSTEM_ACCESSTOKEN, or the SystemVssConnection endpoint's). */
  accessToken: string;
  serviceConnectionId: string;
}

/** The Azure DevOps OIDC token of one service connection (Azure DevOps issues it for api://AzureADTokenExchange). */
export function azureDevOpsTokenSource(oidc: AzureDevOpsOidc, host: Host): FederatedTokenSource {
  host.registerSecret(oidc.accessToken);
  return {
    description: `the Azure DevOps service connection ${oidc.serviceConnectionId}`,
    request() {
      const url = new URL(oidc.requestUri);
      url.searchParams.set('api-version', '7.1');
      url.searchParams.set('serviceConnectionId', oidc.serviceConnectionId);
      return {
        method: 'POST',
        url: url.toString(),
        headers: {
          authorization: `Bearer ${oidc.accessToken}`,
          'content-type': 'application/json',
          'x-tfs-fedauthredirect': 'Suppress',
        },
        body: '',
      };
    },
    read(status, body) {
      if (status !== 200) {
        throw new Error(
          `Azure DevOps refused the OIDC token request for service connection ${oidc.serviceConnectionId}: HTTP ${status}; check that the pipeline may use the service connection and that SYSTEM_ACCESSTOKEN is mapped`,
        );
      }
      return tokenField(body, 'the Azure DevOps OIDC endpoint', 'oidcToken');
    },
  };
}

/**
 * The Azure DevOps OIDC token from the job's variables (SYSTEM_OIDCREQUESTURI, SYSTEM_ACCESSTOKEN and
 * AZURESUBSCRIPTION_SERVICE_CONNECTION_ID), or undefined outside Azure DevOps.
 */
export function azureDevOpsEnvTokenSource(env: NodeJS.ProcessEnv, host: Host): FederatedTokenSource | undefined {
  const requestUri = env.SYSTEM_OIDCREQUESTURI;
  if (env.SYSTEM_ACCESSTOKEN) host.registerSecret(env.SYSTEM_ACCESSTOKEN);
  if (!requestUri) return undefined;
  const accessToken = env.SYSTEM_ACCESSTOKEN;
  const serviceConnectionId = env.AZURESUBSCRIPTION_SERVICE_CONNECTION_ID;
  if (!accessToken || !serviceConnectionId) {
    throw new Error(
      'Azure DevOps: no service connection. Give the task input azureSubscription: the name of an Azure Resource Manager service connection (workload identity federation, or a service principal) whose app is the one in tenant.auth.clientId',
    );
  }
  return azureDevOpsTokenSource({ requestUri, accessToken, serviceConnectionId }, host);
}

/**
 * For a host that may run inside either pipeline (the command line in a pipeline's script step): GitHub Actions'
 * token first, then Azure DevOps', from the environment.
 */
export function pipelineTokenSource(env: NodeJS.ProcessEnv, host: Host): FederatedTokenSource | undefined {
  return githubActionsTokenSource(env, host) ?? azureDevOpsEnvTokenSource(env, host);
}
