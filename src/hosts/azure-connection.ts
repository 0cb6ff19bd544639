// Reads the Azure Resource Manager service connection a task names in its azureSubscription input, the
// way Microsoft's AzureCLI and AzurePowerShell tasks do (azure-pipelines-task-lib's endpoint functions):
// scheme WorkloadIdentityFederation gives the tenant and app, and the OIDC token comes from the job's
// SYSTEM_OIDCREQUESTURI with the job's own token (the SystemVssConnection endpoint); scheme
// ServicePrincipal gives a client secret (authenticationType spnKey) or a PEM certificate and key
// (spnCertificate). Referencing the connection in a task input is also what lets Azure DevOps hand out
// an OIDC token for it ("There is no explicit reference to service connection ..." otherwise).
import * as tl from 'azure-pipelines-task-lib/task.js';
import { Writable } from 'node:stream';
import type { EntraConnection, Host } from './host.js';
import { SERVICE_CONNECTION_INPUT } from './azure-name.js';
import { azureDevOpsTokenSource } from './federated-token-sources.js';

/** The task lib logs endpoint parameters, secrets included, as debug lines: keep them out of the log. */
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

function quietly<T>(read: () => T): T {
  tl.setStdStream(discard);
  try {
    return read();
  } finally {
    tl.setStdStream(process.stdout);
  }
}

function authParameter(id: string, key: string): string | undefined {
  return quietly(() => tl.getEndpointAuthorizationParameter(id, key, true)) || undefined;
}

/**
 * The service connection named by the azureSubscription input, or undefined when the input is empty.
 * Throws a message naming the connection and the fix when it is named but unusable.
 */
export function readServiceConnection(host: Host): EntraConnection | undefined {
  const id = quietly(() => tl.getInput(SERVICE_CONNECTION_INPUT, false))?.trim();
  if (!id) return undefined;
  const macro = /\$\(([^()\s]+)\)/.exec(id);
  if (macro) throw new Error(`${SERVICE_CONNECTION_INPUT}: pipeline variable ${macro[1]} is not defined`);
  const scheme = quietly(() => tl.getEndpointAuthorizationScheme(id, true));
  if (!scheme) {
    throw new Error(
      `${SERVICE_CONNECTION_INPUT}: service connection ${id} is not available to this job (the agent gave no ENDPOINT_AUTH_SCHEME for it). ` +
        'Name an Azure Resource Manager service connection of this project in the task input itself (not through a variable set at run time), and allow this pipeline to use it (Project settings > Service connections > Security).',
    );
  }
  const tenantId = authParameter(id, 'tenantid');
  const clientId = authParameter(id, 'serviceprincipalid');
  if (!tenantId || !clientId) {
    throw new Error(
      `${SERVICE_CONNECTION_INPUT}: service connection ${id} (${scheme}) has no ${!tenantId ? 'tenant id' : 'app (client) id'}: use an Azure Resource Manager service connection with an app registration`,
    );
  }
  // The connection's tenant and app, described in words for messages and the run record.
  const connection = (how: string, credential: EntraConnection['credential']): EntraConnection => ({
    description: `Azure DevOps service connection ${id} (${how}, app ${clientId}, tenant ${tenantId})`,
    tenantId,
    clientId,
    credential,
  });
  if (scheme === 'WorkloadIdentityFederation') {
    const requestUri = process.env.SYSTEM_OIDCREQUESTURI;
    const accessToken = authParameter('SystemVssConnection', 'AccessToken');
    if (!requestUri || !accessToken) {
      throw new Error(
        `${SERVICE_CONNECTION_INPUT}: service connection ${id} uses workload identity federation, but the agent gave no ${!requestUri ? 'SYSTEM_OIDCREQUESTURI' : 'job access token (SystemVssConnection)'}: use agent 3.227.1 or later (Azure DevOps Server: a release that supports workload identity federation)`,
      );
    }
    return connection('workload identity federation', {
      kind: 'federated',
      source: azureDevOpsTokenSource({ requestUri, accessToken, serviceConnectionId: id }, host),
    });
  }
  if (scheme === 'ServicePrincipal') {
    const type = authParameter(id, 'authenticationType') ?? 'spnKey';
    if (type === 'spnCertificate') {
      const pem = authParameter(id, 'servicePrincipalCertificate');
      if (!pem) throw new Error(`${SERVICE_CONNECTION_INPUT}: service connection ${id} has no certificate`);
      host.registerSecret(pem);
      return connection('service principal with a certificate', { kind: 'certificate', pem });
    }
    const secret = authParameter(id, 'serviceprincipalkey');
    if (!secret) throw new Error(`${SERVICE_CONNECTION_INPUT}: service connection ${id} has no client secret`);
    host.registerSecret(secret);
    return connection('service principal with a secret', { kind: 'secret', secret });
  }
  throw new Error(
    `${SERVICE_CONNECTION_INPUT}: service connection ${id} uses the scheme ${scheme}; d365-exo-sync signs in with WorkloadIdentityFederation or ServicePrincipal (secret or certificate)`,
  );
}
