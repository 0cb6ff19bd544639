import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendWithRetry } from '../../../src/http/request.js';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { createCrmServices } from '../../../src/crm/client-factory.js';
import type { PowerShellWebApiInvoker, PowerShellWebApiRequest } from '../../../src/crm/windows-transport.js';
import { d365PreflightCheck } from '../../../src/phases/preflight/d365-checks.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock } from './support.js';

/**
 * Stands in for the PowerShell runner: like Invoke-RestMethod -UseDefaultCredentials, it adds the
 * runner's Windows identity itself (here the emulator's Negotiate stand-in) and answers with status,
 * headers and a parsed JSON body when there is one.
 */
function inProcessPowerShell(emulator: { negotiateToken: string; caPem: string }) {
  const processes: PowerShellWebApiRequest[][] = [];
  const invoke: PowerShellWebApiInvoker = async (requests) => {
    processes.push(requests);
    const answers = [];
    for (const req of requests) {
      const res = await sendWithRetry(
        {
          method: req.method as 'GET',
          url: req.url,
          headers: { ...req.headers, authorization: `Negotiate ${emulator.negotiateToken}` },
          body: req.body,
        },
        { ca: emulator.caPem, maxAttempts: 1, timeoutMs: 10_000 },
      );
      let body: unknown = res.body;
      if (/json/.test(res.headers['content-type'] ?? '') && res.body) body = JSON.parse(res.body);
      answers.push({ status: res.status, headers: res.headers, body });
    }
    return answers;
  };
  return { invoke, processes };
}

test('auth: windows goes through the PowerShell runner: no credential in any request the toolkit builds, results as over HTTPS', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: 4,
    auth: { mode: 'negotiate' },
    testAndEnable: { afterQueries: 1 },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const powershell = inProcessPowerShell(emulator);
  const services = createCrmServices(config, host, {}, { clock: fakeClock(), powershell: powershell.invoke });
  assert.equal(services.client.transportKind, 'windows');
  const preflight = await d365PreflightCheck.run(contextFor(config, host, services));
  assert.deepEqual(
    preflight.results.map((r) => r.status),
    ['unchanged', 'unchanged', 'unchanged', 'unchanged'],
  );
  assert.equal(preflight.outputs?.['organization-id'], emulator.state.organizationId);
  const outcome = await configureMailboxesPhase.apply(contextFor(config, host, services));
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );
  assert.ok(
    powershell.processes.flat().every((r) => !Object.keys(r.headers).some((h) => h.toLowerCase() === 'authorization')),
  );
  assert.ok(powershell.processes.some((p) => p.some((r) => r.url.endsWith('$batch'))));
});

test('auth: windows without a PowerShell runner says what to do instead of failing obscurely', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1 });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const result = await d365PreflightCheck.run(contextFor(config, host, createCrmServices(config, host, {})));
  assert.equal(result.results[0]!.status, 'failed');
  assert.match(
    result.results[0]!.error!,
    /Invoke-RestMethod -UseDefaultCredentials.*domain-joined Windows runner, or use auth: adfs-password/,
  );
});
