// Starts the Entra ID + Graph emulator in its own process (see entra-sandbox-server.ts) and gives what a
// pipeline run needs to use it: the config's tenant section, and the environment with the client
// secret and the sandbox CA (D365_EXO_SYNC_EXTRA_CA), as a workflow would map them into the step.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SANDBOX_TENANT_ID = '11111111-2222-3333-4444-555555555555';
export const SANDBOX_CLIENT_ID = '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a';
export const SANDBOX_SECRET_ENV = 'CRM_SYNC_CLIENT_SECRET';
/** A recognisable client secret: the leak checks look for it too. */
export const SANDBOX_CLIENT_SECRET = 'Sandbox-Client-Secret.Recognisable~0123456789';

/** The app that signs in only with federated credentials (GitHub OIDC, the Azure DevOps service connection). */
export const SANDBOX_FEDERATED_CLIENT_ID = '3f6c2a1e-9b8d-4e7f-a0c1-2d3e4f5a6b7c';
/** The Azure DevOps service connection whose subject the federated app trusts. */
export const SANDBOX_SERVICE_CONNECTION_ID = '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

export const SANDBOX_WEBAPI_USER_ENV = 'CRM_WEBAPI_USER';
export const SANDBOX_WEBAPI_PASSWORD_ENV = 'CRM_WEBAPI_PASSWORD';

interface D365Endpoints {
  url: string;
  tokenEndpoint: string;
  clientId: string;
  resource: string;
  username: string;
  password: string;
}

export interface EntraSandbox {
  authority: string;
  graph: string;
  /** The config's deployment.webApi section for the D365 emulator (AD FS password sign-in). */
  webApi: Record<string, unknown>;
  /** The D365 service account password: the leak checks look for it too. */
  webApiPassword: string;
  /** The config's tenant section for the sandbox (client-secret sign-in). */
  tenant: Record<string, unknown>;
  /** What the step's environment needs: the client secret and the CA file. */
  env: Record<string, string>;
  /** The CA file of the emulators' TLS (D365_EXO_SYNC_EXTRA_CA). */
  caFile: string;
  /** The emulated GitHub Actions OIDC endpoint and the subject of its tokens. */
  github: { requestUrl: string; requestToken: string; issuer: string; subject: string };
  /** The emulated Azure DevOps OIDC endpoint (SYSTEM_OIDCREQUESTURI) and the job's access token. */
  azureDevOps: { requestUri: string; accessToken: string };
  stop(): Promise<void>;
}

interface Started {
  authority: string;
  graph: string;
  caPem: string;
  d365: D365Endpoints;
  github: EntraSandbox['github'];
  azureDevOps: EntraSandbox['azureDevOps'];
}

const SERVER = fileURLToPath(new URL('./entra-sandbox-server.ts', import.meta.url));

export async function startEntraSandbox(): Promise<EntraSandbox> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SERVER, SANDBOX_TENANT_ID, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const started = await new Promise<Started>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n') && line) resolve(JSON.parse(line) as Started);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the Entra sandbox exited (${code}) before it started`)));
  });
  const dir = mkdtempSync(join(tmpdir(), 'd365-entra-sandbox-'));
  const caFile = join(dir, 'sandbox-ca.pem');
  writeFileSync(caFile, started.caPem);
  return {
    authority: started.authority,
    graph: started.graph,
    tenant: {
      id: SANDBOX_TENANT_ID,
      cloud: 'public',
      rootDomain: 'contoso.com',
      auth: { method: 'client-secret', clientId: SANDBOX_CLIENT_ID, secretEnv: SANDBOX_SECRET_ENV },
      endpoints: { authority: started.authority, graph: started.graph },
    },
    webApi: {
      auth: 'adfs-password',
      url: started.d365.url,
      tokenEndpoint: started.d365.tokenEndpoint,
      clientId: started.d365.clientId,
      resource: started.d365.resource,
      usernameEnv: SANDBOX_WEBAPI_USER_ENV,
      passwordEnv: SANDBOX_WEBAPI_PASSWORD_ENV,
    },
    webApiPassword: started.d365.password,
    caFile,
    github: started.github,
    azureDevOps: started.azureDevOps,
    env: {
      [SANDBOX_SECRET_ENV]: SANDBOX_CLIENT_SECRET,
      D365_EXO_SYNC_EXTRA_CA: caFile,
      [SANDBOX_WEBAPI_USER_ENV]: started.d365.username,
      [SANDBOX_WEBAPI_PASSWORD_ENV]: started.d365.password,
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
