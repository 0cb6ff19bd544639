// The Entra ID + Graph and the D365 Web API emulators as their own process, for the packaging tests: the bundles run as child
// processes, and the task lib's MockTestRunner blocks the test's event loop while a task runs, so an
// emulator inside the test process could not answer. Prints its endpoints and CA as one JSON line,
// then serves until its stdin closes (the test ends it, or dies).
import { makeSandboxTls } from '../../../src/sandbox/tls.js';
import { startEntraEmulator } from '../../../src/sandbox/entra/index.js';
import { startD365Emulator } from '../../../src/sandbox/d365/index.js';

const [tenantId, clientId, secret] = process.argv.slice(2);
if (!tenantId || !clientId || !secret) throw new Error('usage: entra-sandbox-server.ts TENANT_ID CLIENT_ID SECRET');
const tls = makeSandboxTls();
const emulator = await startEntraEmulator({
  tls,
  tenantId,
  clients: [{ clientId, secret, roles: ['Application.ReadWrite.All', 'Organization.Read.All'] }],
});
// D365 with a few mailboxes, Test & Enable answering at once, signed in through its AD FS stand-in.
const d365 = await startD365Emulator({ tls, mailboxes: 3, testAndEnable: { delayMs: 0 } });
const user = d365.users[0]!;
process.stdout.write(
  JSON.stringify({
    authority: emulator.authority,
    graph: emulator.graph,
    caPem: tls.caPem,
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
