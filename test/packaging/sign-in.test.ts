// Entra ID sign-in of the built bundles, started the way the hosts start them and given only what the
// hosts give: the GitHub runner's OIDC request variables (a loopback OIDC endpoint in front of the
// emulator, so the test sees the audience asked), and the Azure DevOps agent's service connection
// (INPUT_AZURESUBSCRIPTION, ENDPOINT_* of the connection and of SystemVssConnection,
// SYSTEM_OIDCREQUESTURI on loopback) for both the workload identity and the secret schemes. No client
// secret variable and no variable mapping: the sign-in must work from these alone, or fail clearly
// before anything changes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SANDBOX_FEDERATED_CLIENT_ID,
  SANDBOX_SERVICE_CONNECTION_ID,
  SANDBOX_TENANT_ID,
  startEntraSandbox,
  type EntraSandbox,
} from './support/entra-sandbox.js';
import { builtPackages, type BuiltPackages } from './support/packages.js';
import { makeLeaf, makePfx } from '../support/certs.js';
import { azureName } from '../../src/pipeline/inputs.js';
import { packagedSteps } from '../../src/pipeline/steps.js';
import {
  assertNoSecret,
  cleanupRuns,
  makeWorkspace,
  PFX_PASSWORD,
  runAction,
  runTaskProcess,
  type Workspace,
} from './support/runners.js';

/** The loopback OIDC endpoint the runner would offer: records each request, forwards it to the emulator. */
async function startOidcProxy(
  sandbox: EntraSandbox,
): Promise<{ url: string; requests: URL[]; close(): Promise<void> }> {
  const ca = readFileSync(sandbox.caFile, 'utf8');
  const requests: URL[] = [];
  const server: Server = createServer((req, res) => {
    const asked = new URL(req.url!, 'http://127.0.0.1');
    requests.push(asked);
    const target = new URL(sandbox.github.requestUrl);
    for (const [k, v] of asked.searchParams) target.searchParams.set(k, v);
    const forward = httpsRequest(
      target,
      { method: 'GET', ca, headers: { authorization: req.headers.authorization ?? '' } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' });
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    forward.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/_apis/oidc`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The workspace's config with tenant.auth as the pipelines ship it: workload identity, nothing else. */
function federatedWorkspace(sandbox: EntraSandbox, auth: Record<string, unknown> = {}): Workspace {
  const ws = makeWorkspace({ sandbox });
  const file = join(ws.dir, ws.config);
  const config = parse(readFileSync(file, 'utf8')) as { tenant: { auth: unknown } };
  config.tenant.auth = { method: 'workload-identity', clientId: SANDBOX_FEDERATED_CLIENT_ID, ...auth };
  writeFileSync(file, stringify(config));
  // Only the CA of the loopback emulators and the D365 Web API account: no client secret anywhere.
  const env = Object.fromEntries(Object.entries(ws.env).filter(([name]) => !/SECRET/.test(name)));
  return { ...ws, env };
}

/** The agent's variables for one Azure Resource Manager service connection, as the task lib reads them. */
function serviceConnectionEnv(
  sandbox: EntraSandbox,
  scheme: 'WorkloadIdentityFederation' | 'ServicePrincipal',
  tenantId = SANDBOX_TENANT_ID,
): Record<string, string> {
  const id = SANDBOX_SERVICE_CONNECTION_ID;
  const parameters: Record<string, string> =
    scheme === 'WorkloadIdentityFederation'
      ? { serviceprincipalid: SANDBOX_FEDERATED_CLIENT_ID, tenantid: tenantId }
      : {
          serviceprincipalid: SANDBOX_CLIENT_ID,
          serviceprincipalkey: SANDBOX_CLIENT_SECRET,
          authenticationType: 'spnKey',
          tenantid: tenantId,
        };
  const env: Record<string, string> = {
    [`ENDPOINT_URL_${id}`]: 'https://management.azure.com/',
    [`ENDPOINT_AUTH_${id}`]: JSON.stringify({ parameters, scheme }),
    [`ENDPOINT_AUTH_SCHEME_${id}`]: scheme,
    [`ENDPOINT_DATA_${id}_ENVIRONMENT`]: 'AzureCloud',
    [`ENDPOINT_DATA_${id}_SUBSCRIPTIONID`]: '00000000-0000-0000-0000-000000000000',
    ENDPOINT_URL_SYSTEMVSSCONNECTION: 'https://azdo.example/contoso/',
    ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({
      parameters: { AccessToken: sandbox.azureDevOps.accessToken },
      scheme: 'OAuth',
    }),
    ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION: 'OAuth',
    ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: sandbox.azureDevOps.accessToken,
    SYSTEM_OIDCREQUESTURI: sandbox.azureDevOps.requestUri,
  };
  for (const [key, value] of Object.entries(parameters))
    env[`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`] = value;
  return env;
}

function recordOf(file: string | undefined): {
  status: string;
  steps: { id: string; status: string; after?: unknown }[];
} {
  assert.ok(file, 'no record-file output');
  return JSON.parse(readFileSync(file, 'utf8'));
}

describe('sign-in of the bundles as the runner and the agent start them', () => {
  let built: BuiltPackages;
  let sandbox: EntraSandbox;
  const workspaces: Workspace[] = [];
  before(async () => {
    sandbox = await startEntraSandbox();
    built = await builtPackages();
  });
  after(async () => {
    for (const ws of workspaces) ws.remove();
    await sandbox.stop();
    cleanupRuns();
  });
  const workspace = (auth?: Record<string, unknown>) => {
    const ws = federatedWorkspace(sandbox, auth);
    workspaces.push(ws);
    return ws;
  };
  const task = (id: string) => join(built.unpacked, id);
  const action = (id: string) => join(built.root, 'actions', id);
  // The inputs of an action run with the new certificate, and the OIDC variables a GitHub job with id-token: write has.
  const actionInputs = (ws: Workspace) => ({
    config: ws.config,
    mode: 'apply',
    'pfx-base64': ws.pfxBase64,
    'pfx-password': PFX_PASSWORD,
  });
  const githubOidc = (oidc: { url: string }) => ({
    ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: sandbox.github.requestToken,
  });
  const taskInputs = (ws: Workspace, extra: Record<string, string> = {}) => ({
    config: ws.config,
    mode: 'apply',
    pfxBase64: ws.pfxBase64,
    pfxPassword: PFX_PASSWORD,
    ...extra,
  });

  it('GitHub: preflight asks the runner for a token for api://AzureADTokenExchange and signs in with it', async () => {
    const ws = workspace();
    const oidc = await startOidcProxy(sandbox);
    try {
      const run = await runAction(action('preflight'), ws, actionInputs(ws), githubOidc(oidc));
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.ok(oidc.requests.length >= 1, 'the action asked the runner for an OIDC token');
      for (const asked of oidc.requests) assert.equal(asked.searchParams.get('audience'), 'api://AzureADTokenExchange');
      assert.equal(run.outputs['tenant-id'], SANDBOX_TENANT_ID, 'signed in: Graph answered with the tenant');
      assert.ok(run.masks.includes(sandbox.github.requestToken), 'the request token is masked');
      assertNoSecret('the job log', run.log, ws);
    } finally {
      await oidc.close();
    }
  });

  it('GitHub: the report action merges the records a run left into one table in the job summary', async () => {
    const ws = workspace();
    const oidc = await startOidcProxy(sandbox);
    try {
      const env = githubOidc(oidc);
      const first = await runAction(action('preflight'), ws, { config: ws.config, mode: 'plan' }, env);
      assert.equal(first.code, 0, first.stderr);
      const dir = dirname(first.outputs['record-file']!);
      const report = await runAction(action('report'), ws, { dir, 'run-id': '4242' });
      assert.equal(report.code, 0, report.stdout + report.stderr);
      assert.equal(report.outputs.status, 'succeeded');
      assert.match(report.summary, /preflight/);
      const none = await runAction(action('report'), ws, { dir, 'run-id': 'other-run' });
      assert.equal(none.code, 1);
      assert.match(none.stdout, /no run record of run other-run/);
    } finally {
      await oidc.close();
    }
  });

  it('GitHub: tenant.auth.audience is the audience asked; a credential created with another is refused by Entra', async () => {
    const ws = workspace({ audience: 'api://custom-exchange' });
    const oidc = await startOidcProxy(sandbox);
    try {
      const run = await runAction(action('preflight'), ws, actionInputs(ws), githubOidc(oidc));
      assert.equal(oidc.requests[0]?.searchParams.get('audience'), 'api://custom-exchange');
      assert.notEqual(run.code, 0);
      assert.match(run.stdout, /AADSTS700213|No matching federated identity record/);
    } finally {
      await oidc.close();
    }
  });

  // Every other step that signs in, in plan mode (reads only): the action with the runner's OIDC
  // variables, the task with the workload identity service connection.
  for (const step of packagedSteps().filter((s) => s.signsInToEntra && s.id !== 'preflight')) {
    const inputsFor = (ws: Workspace, name: (n: string) => string): Record<string, string> =>
      step.kind === 'tool'
        ? { [name('config')]: ws.config, [name('skip-entra')]: 'false' }
        : {
            [name('config')]: ws.config,
            [name('mode')]: 'plan',
            [name('pfx-base64')]: ws.pfxBase64,
            [name('pfx-password')]: PFX_PASSWORD,
          };
    it(`GitHub: ${step.id} signs in with the runner's OIDC token (audience api://AzureADTokenExchange)`, async () => {
      const ws = workspace();
      const oidc = await startOidcProxy(sandbox);
      try {
        const run = await runAction(
          action(step.id),
          ws,
          inputsFor(ws, (n) => n),
          githubOidc(oidc),
        );
        // verify's plan reads only D365 (its Entra readback runs in apply); the others read Entra ID in plan too.
        if (step.id !== 'verify') assert.ok(oidc.requests.length >= 1, `${step.id} asked for an OIDC token`);
        for (const asked of oidc.requests)
          assert.equal(asked.searchParams.get('audience'), 'api://AzureADTokenExchange');
        assert.doesNotMatch(run.stdout, /Signing in to Entra ID failed|AADSTS/, run.stdout);
        if (step.kind === 'phase') assert.equal(run.code, 0, run.stdout + run.stderr);
        else assert.match(run.outputs.status ?? '', /^(ok|expiring)$/, run.stdout);
      } finally {
        await oidc.close();
      }
    });
    it(`Azure DevOps: ${step.id} signs in through the workload identity service connection`, async () => {
      const ws = workspace();
      const run = await runTaskProcess(
        task(step.id),
        { ...ws, env: { ...ws.env, ...serviceConnectionEnv(sandbox, 'WorkloadIdentityFederation') } },
        { ...inputsFor(ws, azureName), azureSubscription: SANDBOX_SERVICE_CONNECTION_ID },
      );
      assert.doesNotMatch(run.stdout, /Signing in to Entra ID failed|AADSTS/, run.stdout);
      if (step.kind === 'phase') assert.equal(run.result?.result, 'Succeeded', run.stdout + run.stderr);
      else assert.match(run.outputs.status ?? '', /^(ok|expiring)$/, run.stdout);
    });
  }

  for (const scheme of ['WorkloadIdentityFederation', 'ServicePrincipal'] as const) {
    it(`Azure DevOps: preflight signs in through the service connection (${scheme}) with no other variable`, async () => {
      const ws = workspace();
      const run = await runTaskProcess(
        task('preflight'),
        { ...ws, env: { ...ws.env, ...serviceConnectionEnv(sandbox, scheme) } },
        taskInputs(ws, { azureSubscription: SANDBOX_SERVICE_CONNECTION_ID }),
      );
      assert.equal(run.result?.result, 'Succeeded', run.stdout + run.stderr);
      assert.equal(run.outputs.tenantId, SANDBOX_TENANT_ID);
      const app = scheme === 'WorkloadIdentityFederation' ? SANDBOX_FEDERATED_CLIENT_ID : SANDBOX_CLIENT_ID;
      // The record names the identity that signed in, never a secret.
      const record = readFileSync(run.outputs.recordFile!, 'utf8');
      assert.match(record, new RegExp(app));
      assert.doesNotMatch(record, new RegExp(SANDBOX_CLIENT_SECRET.replace(/[.~]/g, '\\$&')));
      assert.doesNotMatch(run.log, new RegExp(sandbox.azureDevOps.accessToken));
      assert.doesNotMatch(run.log, new RegExp(SANDBOX_CLIENT_SECRET.replace(/[.~]/g, '\\$&')));
    });
  }

  it('Azure DevOps: a service connection of another tenant than tenant.id fails naming both, before any change', async () => {
    const ws = workspace();
    const other = '99999999-8888-4777-8666-555555555555';
    const run = await runTaskProcess(
      task('register-entra'),
      { ...ws, env: { ...ws.env, ...serviceConnectionEnv(sandbox, 'ServicePrincipal', other) } },
      taskInputs(ws, { azureSubscription: SANDBOX_SERVICE_CONNECTION_ID }),
    );
    assert.equal(run.result?.result, 'Failed');
    assert.match(run.result!.message, new RegExp(`tenant\\.id is ${SANDBOX_TENANT_ID}.*tenant ${other}`));
    const record = recordOf(run.outputs.recordFile);
    assert.ok(!record.steps.some((s) => s.status === 'changed'), 'nothing changed');
  });

  it('Azure DevOps: no service connection fails naming the azureSubscription input', async () => {
    const ws = workspace();
    const env = { ...ws.env, SYSTEM_OIDCREQUESTURI: sandbox.azureDevOps.requestUri };
    const run = await runTaskProcess(task('register-entra'), { ...ws, env }, taskInputs(ws));
    assert.equal(run.result?.result, 'Failed');
    assert.match(run.result!.message, /azureSubscription/);
  });

  it('Azure DevOps: a service connection the job cannot use fails naming it and the fix', async () => {
    const ws = workspace();
    const run = await runTaskProcess(
      task('register-entra'),
      ws,
      taskInputs(ws, { azureSubscription: SANDBOX_SERVICE_CONNECTION_ID }),
    );
    assert.equal(run.result?.result, 'Failed');
    assert.match(
      run.result!.message,
      new RegExp(`service connection ${SANDBOX_SERVICE_CONNECTION_ID} is not available to this job`),
    );
  });

  it('Azure DevOps: an undefined $(d365-pfx) is refused by name, never read as a PFX', async () => {
    const ws = workspace();
    const run = await runTaskProcess(
      task('preflight'),
      { ...ws, env: { ...ws.env, ...serviceConnectionEnv(sandbox, 'WorkloadIdentityFederation') } },
      taskInputs(ws, { azureSubscription: SANDBOX_SERVICE_CONNECTION_ID, pfxBase64: '$(d365-pfx)' }),
    );
    assert.equal(run.result?.result, 'Failed');
    assert.match(run.result!.message, /pfxBase64: pipeline variable d365-pfx is not defined/);
    assert.doesNotMatch(run.result!.message, /URL-safe/);
  });

  it('Azure DevOps: a Key Vault certificate secret (base64 PFX, empty password) is accepted', async () => {
    const ws = workspace();
    const leaf = makeLeaf({ commonName: 'crm.contoso.com', dnsNames: ['crm.contoso.com'], keySlot: 'packaging-leaf' });
    // Key Vault exports a certificate's secret as PKCS#12 with an empty password.
    const keyVaultPfx = makePfx(leaf, { password: '', encoding: 'forge-aes256' }).toString('base64');
    const run = await runTaskProcess(
      task('preflight'),
      { ...ws, env: { ...ws.env, ...serviceConnectionEnv(sandbox, 'WorkloadIdentityFederation') } },
      { config: ws.config, mode: 'apply', pfxBase64: keyVaultPfx, azureSubscription: SANDBOX_SERVICE_CONNECTION_ID },
    );
    assert.equal(run.result?.result, 'Succeeded', run.stdout + run.stderr);
    assert.equal(run.outputs.thumbprint, leaf.thumbprint);
  });
});
