// The Entra ID + Graph emulator as its own process, for the packaging tests: the bundles run as child
// processes, and the task lib's MockTestRunner blocks the test's event loop while a task runs, so an
// emulator inside the test process could not answer. Prints its endpoints and CA as one JSON line,
// then serves until its stdin closes (the test ends it, or dies).
import { makeSandboxTls } from '../../../src/sandbox/tls.js';
import { startEntraEmulator } from '../../../src/sandbox/entra/index.js';

const [tenantId, clientId, secret] = process.argv.slice(2);
if (!tenantId || !clientId || !secret) throw new Error('usage: entra-sandbox-server.ts TENANT_ID CLIENT_ID SECRET');
const tls = makeSandboxTls();
const emulator = await startEntraEmulator({
  tls,
  tenantId,
  clients: [{ clientId, secret, roles: ['Application.ReadWrite.All', 'Organization.Read.All'] }],
});
process.stdout.write(JSON.stringify({ authority: emulator.authority, graph: emulator.graph, caPem: tls.caPem }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void emulator.close().then(() => process.exit(0));
});
