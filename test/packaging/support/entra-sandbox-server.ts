// The Entra ID + Graph and the D365 Web API emulators as their own process, for the packaging tests: the bundles run as child
// processes, and the task lib's MockTestRunner blocks the test's event loop while a task runs, so an
// emulator inside the test process could not answer. Prints its endpoints and CA as one JSON line,
// then serves until its stdin closes (the test ends it, or dies).
import { makeSandboxTls } from '@d365-exo-sync/sandbox/tls';
import { startEntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';

/** Kept in step with entra-sandbox.ts (which imports nothing from this process). */
const FEDERATED_CLIENT_ID = '3f6c2a1e-9b8d-4e7f-a0c1-2d3e4f5a6b7c';
const SERVICE_CONNECTION_ID = '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

const [tenantId, clientId, secret] = process.argv.slice(2);
if (!tenantId || !clientId || !secret) throw new Error('usage: entra-sandbox-server.ts TENANT_ID CLIENT_ID SECRET');
const tls = makeSandboxTls();
const emulator = await startEntraEmulator({
  tls,
  tenantId,
  clients: [{ clientId, secret, roles: ['Application.ReadWrite.All', 'Organization.Read.All'] }],
});
// D365 with a few mailboxes, Test & Enable answering at once, signed in through its AD FS stand-in.
// A second app that signs in only with federated credentials: the GitHub Actions OIDC subject and an
// Azure DevOps service connection's (audience api://AzureADTokenExchange, as the guides create them).
emulator.state.clients.set(FEDERATED_CLIENT_ID, {
  clientId: FEDERATED_CLIENT_ID,
  roles: ['Application.ReadWrite.All', 'Organization.Read.All'],
  federated: [
    { issuer: emulator.github.issuer, subject: emulator.github.subject },
    { issuer: emulator.azureDevOps.issuer, subject: emulator.azureDevOps.subjectFor(SERVICE_CONNECTION_ID) },
  ],
});
const d365 = await startD365Emulator({ tls, mailboxes: 3, testAndEnable: { delayMs: 0 } });
const user = d365.users[0]!;
process.stdout.write(
  JSON.stringify({
    authority: emulator.authority,
    graph: emulator.graph,
    caPem: tls.caPem,
    github: emulator.github,
    azureDevOps: { requestUri: emulator.azureDevOps.requestUri, accessToken: emulator.azureDevOps.accessToken },
    d365: {
      url: d365.url,
      tokenEndpoint: d365.tokenEndpoint,
      clientId: d365.clientId,
      resource: d365.resource,
      ...user,
    },
  }) + '\n',
);
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all([emulator.close(), d365.close()]).then(() => process.exit(0));
});
