import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator } from '@d365-exo-sync/sandbox/d365';
import { configureMailboxesPhase } from '../../../src/phases/configure-mailboxes.js';
import { TestHost } from '../../support/test-host.js';
import { configFor, contextFor, fakeClock, windowsServices } from './support.js';

test('250 mailboxes: at most 100 operations a $batch, pages followed (D365 naming itself differently), one paged query per poll round', async (t) => {
  // D365 writes its own name into @odata.nextLink; the runner reaches it under another (deployment.webApi.url).
  const emulator = await startD365Emulator({
    mailboxes: 250,
    publicUrl: 'https://crmapp01.corp.contoso.com:444/contoso',
    testAndEnable: { afterQueries: 2 },
  });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  // The page size is not in the config schema yet (deployment.webApi.pageSize); set as the schema would.
  (config.deployment.webApi as { pageSize?: number }).pageSize = 60;
  const host = new TestHost();
  const services = windowsServices(emulator, config, host, fakeClock());
  const outcome = await configureMailboxesPhase.apply(contextFor(config, host, services));
  assert.equal(outcome.results.filter((r) => r.id.startsWith('mailbox.')).length, 250);
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );

  const batches = emulator.requests.log.filter((l) => l.path === '$batch');
  assert.deepEqual(
    batches.map((b) => b.operations),
    [100, 100, 50],
  );
  assert.equal(emulator.requests.maxBatchOperations, 100);

  // 250 users + the caller: 5 pages of 60; 250 mailboxes: 5 pages; each of the 2 poll rounds: 5 pages.
  const mailboxGets = emulator.requests.log.filter((l) => l.method === 'GET' && l.path === 'mailboxes').length;
  const userGets = emulator.requests.log.filter((l) => l.method === 'GET' && l.path === 'systemusers').length;
  assert.equal(userGets, 5);
  assert.equal(mailboxGets, 5 + 2 * 5);
  assert.equal(emulator.requests.log.filter((l) => l.status >= 400).length, 0);

  const evidence = outcome.results.find((r) => r.id === 'crm.mailboxes')!.evidence as {
    roundTrips: number;
    pollRounds: number;
  };
  assert.equal(evidence.pollRounds, 2);
  assert.equal(evidence.roundTrips, emulator.requests.api);
});

test('a tampered $skiptoken is refused by the emulator, as D365 refuses it', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 5 });
  t.after(() => emulator.close());
  const config = configFor(emulator);
  const host = new TestHost();
  const { client } = windowsServices(emulator, config, host, fakeClock());
  const first = await client.get<{ '@odata.nextLink': string }>('mailboxes?$select=mailboxid', {
    prefer: 'odata.maxpagesize=2',
  });
  const link = first['@odata.nextLink'];
  assert.match(link, /\$skiptoken=%3Ccookie%20pagenumber%3D%222%22/);
  // Decoding the link once and sending it "cleaned up" breaks the paging cookie.
  const decoded = link.replace(
    /\$skiptoken=(.*)$/,
    (_, token: string) => `$skiptoken=${encodeURIComponent(decodeURIComponent(decodeURIComponent(token)))}`,
  );
  await assert.rejects(client.get(decoded), /skiptoken is not valid|paging cookie/);
  const pages: number[] = [];
  for await (const page of client.pages('mailboxes?$select=mailboxid', { pageSize: 2 })) pages.push(page.length);
  assert.deepEqual(pages, [2, 2, 1]);
});

test('a D365 whose batch limit is below the configured batch size: halved once with a warning, nothing lost', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 90, batchLimit: 40, testAndEnable: { afterQueries: 1 } });
  t.after(() => emulator.close());
  const config = configFor(emulator, { webApi: { batchSize: 100 } });
  const host = new TestHost();
  const outcome = await configureMailboxesPhase.apply(
    contextFor(config, host, windowsServices(emulator, config, host, fakeClock())),
  );
  assert.deepEqual(
    outcome.results.filter((r) => r.status === 'failed'),
    [],
  );
  const batches = emulator.requests.log.filter((l) => l.path === '$batch');
  assert.deepEqual(
    batches.map((b) => [b.operations, b.status]),
    [
      [90, 400],
      [45, 400],
      [22, 200],
      [22, 200],
      [22, 200],
      [22, 200],
      [2, 200],
    ],
  );
  assert.ok(host.lines.some((l) => l.startsWith('warning:') && /lower deployment\.webApi\.batchSize/.test(l)));
});
