// The emulator itself: it must reject what D365 rejects and keep change sets all-or-nothing, or the
// other tests prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendWithRetry } from '../../../src/http/request.js';
import { startD365Emulator, type D365Emulator } from '@d365-exo-sync/sandbox/d365';
import { buildBatch, parseBatchResponse } from '../../../src/crm/batch.js';
import { CrmError } from '../../../src/crm/errors.js';
import { WebApiClient } from '../../../src/crm/client.js';
import { sandboxWindowsTransport } from '@d365-exo-sync/sandbox/d365';

function clientFor(emulator: D365Emulator): WebApiClient {
  return new WebApiClient({
    url: emulator.url,
    transport: sandboxWindowsTransport(emulator, { timeoutMs: 5000 }),
    batchSize: 100,
  });
}

async function rawBatch(emulator: D365Emulator, body: string, contentType: string) {
  const res = await sendWithRetry(
    {
      method: 'POST',
      url: `${emulator.url}/api/data/v9.0/$batch`,
      headers: { 'content-type': contentType, authorization: `Negotiate ${emulator.negotiateToken}` },
      body,
    },
    { ca: emulator.caPem, maxAttempts: 1, timeoutMs: 5000 },
  );
  return { status: res.status, items: parseBatchResponse(res.headers['content-type'], res.body) };
}

test('unknown attributes, wrong navigation names, wrong option values and wrong types are refused with D365’s errors', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1 });
  t.after(() => emulator.close());
  const client = clientFor(emulator);
  const id = [...emulator.state.tables.mailboxes!.keys()][0]!;
  const expectError = async (body: Record<string, unknown>, status: number, code: string, text: RegExp) =>
    assert.rejects(client.update('mailboxes', id, body), (error: unknown) => {
      assert.ok(error instanceof CrmError);
      assert.equal(error.status, status);
      assert.equal(error.code, code);
      assert.match(error.crmMessage, text);
      return true;
    });
  await expectError(
    { incomingdeliverymethod: 2 },
    400,
    '0x80060888',
    /The property 'incomingdeliverymethod' does not exist on type 'Microsoft\.Dynamics\.CRM\.mailbox'/,
  );
  await expectError(
    { 'emailserverprofileid@odata.bind': '/emailserverprofiles(00000000-0000-0000-0000-000000000001)' },
    400,
    '0x80060888',
    /An undeclared property 'emailserverprofileid'/,
  );
  await expectError(
    { 'emailserverprofile@odata.bind': '/emailserverprofiles(00000000-0000-0000-0000-000000000001)' },
    404,
    '0x80040217',
    /emailserverprofile With Id = .* Does Not Exist/,
  );
  await expectError(
    { actdeliverymethod: 5 },
    400,
    '0x80044331',
    /The value 5 of 'actdeliverymethod' on record of type 'mailbox' is outside the valid range/,
  );
  await expectError(
    { enabledforincomingemail: 1 },
    400,
    '',
    /Cannot convert the literal '1' to the expected type 'Edm\.Boolean'/,
  );
  await expectError({ mailboxstatus: 1 }, 400, '0x80040203', /not valid for update/);
  await assert.rejects(
    client.get(`mailboxes?$select=nosuch`),
    /Could not find a property named 'nosuch' on type 'Microsoft\.Dynamics\.CRM\.mailbox'/,
  );
  assert.equal(emulator.requests.writes, 0);
});

test('a change set is all or nothing; the batch stops at the first failed change set; the error part names its Content-ID', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 3 });
  t.after(() => emulator.close());
  const [a, b, c] = [...emulator.state.tables.mailboxes!.keys()];
  const base = `${emulator.url}/api/data/v9.0/`;
  const built = buildBatch([
    {
      kind: 'changeset',
      operations: [{ method: 'PATCH', url: `${base}mailboxes(${a})`, body: { incomingemaildeliverymethod: 2 } }],
    },
    {
      kind: 'changeset',
      operations: [
        { method: 'PATCH', url: `${base}mailboxes(${b})`, body: { incomingemaildeliverymethod: 2 } },
        { method: 'PATCH', url: `${base}mailboxes(${b})`, body: { outgoingemaildeliverymethod: 9 } },
      ],
    },
    {
      kind: 'changeset',
      operations: [{ method: 'PATCH', url: `${base}mailboxes(${c})`, body: { incomingemaildeliverymethod: 2 } }],
    },
  ]);
  const { status, items } = await rawBatch(emulator, built.body, built.contentType);
  assert.equal(status, 400);
  assert.equal(items.length, 2);
  assert.equal(items[0]!.kind, 'changeset');
  const failed = items[1]!;
  if (failed.kind !== 'response') throw new Error('shape');
  assert.equal(failed.response.contentId, '3');
  const rows = emulator.state.tables.mailboxes!;
  assert.equal(rows.get(a!)!.incomingemaildeliverymethod, 2);
  assert.equal(rows.get(b!)!.incomingemaildeliverymethod, 1, 'rolled back with its change set');
  assert.equal(rows.get(c!)!.incomingemaildeliverymethod, 1, 'not processed after the failure');
  assert.equal(emulator.requests.writes, 1);
});

test('Content-ID references inside a change set; more operations than the limit are refused whole', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1, batchLimit: 3 });
  t.after(() => emulator.close());
  const base = `${emulator.url}/api/data/v9.0/`;
  const built = buildBatch([
    {
      kind: 'changeset',
      operations: [
        { method: 'POST', url: `${base}emailserverprofiles`, body: { name: 'P', servertype: 3 } },
        { method: 'PATCH', url: '$1', body: { useautodiscover: true } },
      ],
    },
  ]);
  const { status, items } = await rawBatch(emulator, built.body, built.contentType);
  assert.equal(status, 200);
  assert.equal(items[0]!.kind, 'changeset');
  const profile = [...emulator.state.tables.emailserverprofiles!.values()][0]!;
  assert.equal(profile.useautodiscover, true);

  const tooMany = buildBatch(
    Array.from({ length: 4 }, () => ({
      kind: 'request' as const,
      request: { method: 'GET' as const, url: `${base}WhoAmI` },
    })),
  );
  const res = await sendWithRetry(
    {
      method: 'POST',
      url: `${base}$batch`,
      headers: { 'content-type': tooMany.contentType, authorization: `Negotiate ${emulator.negotiateToken}` },
      body: tooMany.body,
    },
    { ca: emulator.caPem, maxAttempts: 1, timeoutMs: 5000 },
  );
  assert.equal(res.status, 400);
  assert.match(res.body, /exceeds the maximum of 3/);
});

test('no credentials: 401 with the Negotiate and Bearer challenges (resource_id for AD FS)', async (t) => {
  const emulator = await startD365Emulator({ mailboxes: 1 });
  t.after(() => emulator.close());
  const res = await sendWithRetry(
    { method: 'GET', url: `${emulator.url}/api/data/v9.0/WhoAmI` },
    { ca: emulator.caPem, maxAttempts: 1, timeoutMs: 5000 },
  );
  assert.equal(res.status, 401);
  assert.match(res.headers['www-authenticate']!, /Negotiate/);
  assert.match(
    res.headers['www-authenticate']!,
    /Bearer authorization_uri=https:\/\/127\.0\.0\.1:\d+\/adfs\/oauth2\/authorize, resource_id=https:\/\/127\.0\.0\.1:\d+\//,
  );
  assert.equal(emulator.requests.api, 0);
});

test('Test & Enable is asynchronous: scheduled, pending until the service runs, then each direction has its status', async (t) => {
  const emulator = await startD365Emulator({
    mailboxes: [{ address: 'a@contoso.com', approval: 1 }],
    requireApproval: true,
    testAndEnable: { afterQueries: 2 },
  });
  t.after(() => emulator.close());
  const client = clientFor(emulator);
  const profile = await client.create('emailserverprofiles', { name: 'P', servertype: 3 });
  const id = [...emulator.state.tables.mailboxes!.keys()][0]!;
  await client.update('mailboxes', id, {
    incomingemaildeliverymethod: 2,
    outgoingemaildeliverymethod: 2,
    'emailserverprofile@odata.bind': `/emailserverprofiles(${profile})`,
    testemailconfigurationscheduled: true,
    postponetestemailconfigurationuntil: new Date(Date.now() - 60_000).toISOString(),
  });
  const read = () =>
    client.get<Record<string, unknown>>(
      `mailboxes?$select=mailboxid,incomingemailstatus,outgoingemailstatus,actstatus,testmailboxaccesscompletedon`,
    );
  const first = ((await read()) as { value: Record<string, unknown>[] }).value[0]!;
  assert.equal(first.testmailboxaccesscompletedon, null);
  assert.equal(emulator.state.testPending(id), true);
  const second = ((await read()) as { value: Record<string, unknown>[] }).value[0]!;
  assert.deepEqual([second.incomingemailstatus, second.outgoingemailstatus, second.actstatus], [1, 1, 0]);
  assert.ok(second.testmailboxaccesscompletedon);
});
