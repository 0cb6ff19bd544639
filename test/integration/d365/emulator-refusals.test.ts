// What a real D365 (and the IIS in front of it) refuses or does differently from a naive reading of the docs,
// so that the phases are proven against it: a null postpone time never runs, query functions take logical
// names, long query strings never reach D365, repeated alerts update their row, and batches are capped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startD365Emulator, type D365Emulator } from '@d365-exo-sync/sandbox/d365';
import { CrmError } from '../../../src/crm/errors.js';
import { WebApiClient } from '../../../src/crm/client.js';
import { sandboxWindowsTransport } from '@d365-exo-sync/sandbox/d365';
import { anyOf, chunkedPaths, queryBytes } from '../../../src/crm/query-chunks.js';
import { odataQuery } from '../../../src/crm/entities.js';

function clientFor(emulator: D365Emulator, batchSize = 100): WebApiClient {
  return new WebApiClient({
    url: emulator.url,
    transport: sandboxWindowsTransport(emulator, { timeoutMs: 5000 }),
    batchSize,
  });
}

const mailboxIdOf = (emulator: D365Emulator, n = 0) => [...emulator.state.tables.mailboxes!.keys()][n]!;

async function readMailbox(client: WebApiClient, id: string) {
  return client.get<Record<string, unknown>>(
    `mailboxes(${id})?$select=testmailboxaccesscompletedon,incomingemailstatus,testemailconfigurationscheduled`,
  );
}

test('a scheduled test with a null postpone time never runs; with a time in the past it runs', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: [{ address: 'a@contoso.com', approval: 1 }],
    profiles: [{ name: 'P', servertype: 3 }],
    testAndEnable: { delayMs: 0 },
  });
  t.after(() => emulator.close());
  const client = clientFor(emulator);
  const id = mailboxIdOf(emulator);
  const profile = [...emulator.state.tables.emailserverprofiles!.keys()][0]!;
  await client.update('mailboxes', id, {
    incomingemaildeliverymethod: 2,
    outgoingemaildeliverymethod: 2,
    'emailserverprofile@odata.bind': `/emailserverprofiles(${profile})`,
    testemailconfigurationscheduled: true,
    postponetestemailconfigurationuntil: null,
  });
  for (let i = 0; i < 3; i++) {
    const row = await readMailbox(client, id);
    assert.equal(row.testmailboxaccesscompletedon, null, 'a null postpone time is never at or before now');
    assert.equal(row.testemailconfigurationscheduled, true);
  }
  await client.update('mailboxes', id, {
    postponetestemailconfigurationuntil: new Date(Date.now() + 3_600_000).toISOString(),
  });
  assert.equal((await readMailbox(client, id)).testmailboxaccesscompletedon, null, 'a future time waits');
  await client.update('mailboxes', id, {
    testemailconfigurationscheduled: true,
    postponetestemailconfigurationuntil: new Date(Date.now() - 60_000).toISOString(),
  });
  const done = await readMailbox(client, id);
  assert.ok(done.testmailboxaccesscompletedon);
  assert.equal(done.incomingemailstatus, 1);
});

test('query functions take logical names: In() on _regardingobjectid_value is refused, regardingobjectid works', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 2 });
  t.after(() => emulator.close());
  const client = clientFor(emulator);
  const owner = emulator.state.tables.mailboxes!.get(mailboxIdOf(emulator))!._regardingobjectid_value as string;
  await assert.rejects(
    client.get(`mailboxes${odataQuery({ $filter: anyOf('_regardingobjectid_value', [owner]) })}`),
    (error: unknown) =>
      error instanceof CrmError &&
      error.status === 400 &&
      /doesn't contain attribute with Name = '_regardingobjectid_value'/.test(error.crmMessage),
  );
  const found = await client.get<{ value: Array<{ mailboxid: string }> }>(
    `mailboxes${odataQuery({ $select: 'mailboxid', $filter: anyOf('regardingobjectid', [owner]) })}`,
  );
  assert.deepEqual(
    found.value.map((row) => row.mailboxid),
    [mailboxIdOf(emulator)],
  );
});

test('an apostrophe inside In() is refused; anyOf sends such values as eq clauses, which match', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: [{ address: "o'brien@contoso.com" }, { address: 'anna@contoso.com' }],
  });
  t.after(() => emulator.close());
  const client = clientFor(emulator);
  await assert.rejects(
    client.get(
      `mailboxes${odataQuery({ $filter: "Microsoft.Dynamics.CRM.In(PropertyName='emailaddress',PropertyValues=['o''brien@contoso.com'])" })}`,
    ),
    (error: unknown) => error instanceof CrmError && error.status === 400,
  );
  const filter = anyOf('emailaddress', ["o'brien@contoso.com", 'anna@contoso.com']);
  assert.match(filter, /emailaddress eq 'o''brien@contoso\.com'/);
  const found = await client.get<{ value: Array<{ emailaddress: string }> }>(
    `mailboxes${odataQuery({ $select: 'emailaddress', $filter: filter })}`,
  );
  assert.deepEqual(found.value.map((row) => row.emailaddress).sort(), ['anna@contoso.com', "o'brien@contoso.com"]);
});

test('a query string over 2,048 bytes gets IIS 404.15; chunked paths stay under it, next links included', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 120 });
  t.after(() => emulator.close());
  const client = clientFor(emulator);
  const addresses = Array.from({ length: 120 }, (_, i) => `user${String(i + 1).padStart(4, '0')}@contoso.com`);
  const long = `mailboxes${odataQuery({ $select: 'mailboxid', $filter: anyOf('emailaddress', addresses.slice(0, 100)) })}`;
  assert.ok(queryBytes(long) > 2048);
  await assert.rejects(
    client.get(long),
    (error: unknown) => error instanceof CrmError && error.status === 404 && /404\.15/.test(error.message),
  );
  const paths = chunkedPaths(
    addresses,
    (group) => anyOf('emailaddress', group),
    (filter) => `mailboxes${odataQuery({ $select: 'mailboxid,emailaddress', $filter: filter })}`,
  );
  assert.ok(paths.length > 1);
  emulator.requests.reset();
  const seen: string[] = [];
  for (const path of paths) {
    assert.ok(queryBytes(path) <= 1536);
    // Small pages, so every chunk also follows @odata.nextLink (the $skiptoken lengthens the query).
    for await (const row of client.rows<{ emailaddress: string }>(path, { pageSize: 5 })) seen.push(row.emailaddress);
  }
  assert.deepEqual(seen.sort(), addresses);
  assert.ok(emulator.requests.log.length > paths.length, 'next links were followed');
  assert.ok(emulator.requests.log.every((entry) => entry.status === 200));
});

test('a repeated alert updates its tracelog row: modifiedon moves on, createdon stays', async (t) => {
  let now = Date.parse('2026-12-01T10:00:00Z');
  const emulator = await startD365Emulator({
    mailboxes: [{ address: 'a@contoso.com', approval: 1 }],
    profiles: [{ name: 'P', servertype: 3 }],
    testAndEnable: { delayMs: 0, failAll: 'ews-blocked' },
    now: () => now,
  });
  t.after(() => emulator.close());
  const client = clientFor(emulator);
  const id = mailboxIdOf(emulator);
  const profile = [...emulator.state.tables.emailserverprofiles!.keys()][0]!;
  const schedule = () =>
    client.update('mailboxes', id, {
      incomingemaildeliverymethod: 2,
      outgoingemaildeliverymethod: 2,
      'emailserverprofile@odata.bind': `/emailserverprofiles(${profile})`,
      testemailconfigurationscheduled: true,
      postponetestemailconfigurationuntil: new Date(now - 1000).toISOString(),
    });
  await schedule();
  await readMailbox(client, id);
  now += 3_600_000;
  await schedule();
  await readMailbox(client, id);
  const alerts = await client.get<{ value: Array<{ createdon: string; modifiedon: string }> }>(
    `tracelogs${odataQuery({ $select: 'createdon,modifiedon', $filter: anyOf('regardingobjectid', [id]) })}`,
  );
  assert.equal(alerts.value.length, 1);
  assert.equal(alerts.value[0]!.createdon, '2026-12-01T10:00:00.000Z');
  assert.equal(alerts.value[0]!.modifiedon, '2026-12-01T11:00:00.000Z');
});

test('a $batch of more than 100 operations is refused; the client never sends more than 100', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 150 });
  t.after(() => emulator.close());
  const ids = [...emulator.state.tables.mailboxes!.keys()];
  const units = ids.map((id) => ({
    key: id,
    operations: [{ method: 'PATCH' as const, path: `mailboxes(${id})`, body: { name: `M ${id}` } }],
  }));
  // A client that believes the server takes 1000 learns otherwise from the refusal and halves.
  const raw = new WebApiClient({
    url: emulator.url,
    transport: sandboxWindowsTransport(emulator, { timeoutMs: 5000 }),
    batchSize: 1000,
    maxBatchSize: 1000,
  });
  const results = await raw.executeChangeSets(units);
  assert.ok(results.every((result) => result.ok));
  assert.ok(emulator.requests.log.some((entry) => entry.path === '$batch' && entry.status === 400));
  emulator.requests.reset();
  // The configured size is capped at v9.0's documented 100.
  const capped = clientFor(emulator, 1000);
  assert.equal(capped.batchSize, 100);
  await capped.executeChangeSets(units);
  assert.ok(emulator.requests.maxBatchOperations <= 100);
  assert.ok(emulator.requests.log.every((entry) => entry.status < 400));
});

test('with usedefaulttenantid D365 keeps the deployment S2STenantId in exchangeonlinetenantid', async (t) => {
  const emulator = await startD365Emulator({ s2sTenantId: 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa' });
  t.after(() => emulator.close());
  const client = clientFor(emulator);
  const id = await client.create('emailserverprofiles', {
    name: 'P',
    servertype: 3,
    usedefaulttenantid: true,
    exchangeonlinetenantid: 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb',
  });
  const row = await client.get<{ exchangeonlinetenantid: string }>(
    `emailserverprofiles(${id})?$select=exchangeonlinetenantid`,
  );
  assert.equal(row.exchangeonlinetenantid, 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa');
});
