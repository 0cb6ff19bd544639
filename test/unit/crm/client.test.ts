import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebApiClient, type ChangeUnit } from '../../../src/crm/client.js';
import { CrmError, CrmProtocolError } from '../../../src/crm/errors.js';
import type { SendOptions, Transport, WebApiRequest, WebApiResponse } from '../../../src/crm/transport.js';
import {
  buildBatchResponse,
  parseBatchRequest,
  type BatchResponseItem,
  type PartRequest,
} from '@d365-exo-sync/sandbox/d365/batch-server';

const ORG = 'https://crm.contoso.com/contoso';

class ScriptedTransport implements Transport {
  readonly kind = 'scripted';
  sent = 0;
  readonly requests: WebApiRequest[] = [];
  constructor(private readonly answer: (req: WebApiRequest, n: number) => WebApiResponse) {}
  async send(requests: WebApiRequest[], _options: SendOptions): Promise<WebApiResponse[]> {
    return requests.map((req) => {
      this.sent++;
      this.requests.push(req);
      return this.answer(req, this.sent);
    });
  }
}

const noSleep = async () => {};
const unitsOf = (n: number): ChangeUnit<number>[] =>
  Array.from({ length: n }, (_, i) => ({
    key: i,
    operations: [{ method: 'PATCH' as const, path: `mailboxes(${i})`, body: { incomingemaildeliverymethod: 2 } }],
  }));

function error(
  status: number,
  code: string,
  message: string,
): { status: number; headers: Record<string, string>; body: string } {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { code, message } }),
  };
}

/** Answers $batch like v9.0: in order, stopping at the first failing change set. */
function v90Batch(
  fails: (target: string) => boolean,
  options: { contentIdOnError?: boolean; onlyErrorPart?: boolean } = {},
) {
  const processed: string[] = [];
  const answer = (req: WebApiRequest): WebApiResponse => {
    const items = parseBatchRequest(req.headers['content-type'], req.body ?? '');
    const out: BatchResponseItem[] = [];
    let status = 200;
    for (const item of items) {
      if (item.kind !== 'changeset') throw new Error('expected change sets only');
      const bad = item.requests.find((r: PartRequest) => fails(r.target));
      if (bad) {
        const part = {
          ...error(400, '', `The value of 'x' on ${bad.target} is outside the valid range.`),
          ...(options.contentIdOnError !== false && bad.contentId ? { contentId: bad.contentId } : {}),
        };
        if (options.onlyErrorPart) out.length = 0;
        out.push({ kind: 'response', response: part });
        status = 400;
        break;
      }
      for (const r of item.requests) processed.push(r.target);
      out.push({
        kind: 'changeset',
        responses: item.requests.map((r) => ({
          status: 204,
          headers: {},
          body: '',
          ...(r.contentId ? { contentId: r.contentId } : {}),
        })),
      });
    }
    const built = buildBatchResponse(out);
    return { status, headers: { 'content-type': built.contentType }, body: built.body };
  };
  return { answer, processed };
}

test('a failing change set is reported with D365’s text; the ones after it are sent again; none is lost', async () => {
  const server = v90Batch((target) => target.endsWith('mailboxes(2)'));
  const transport = new ScriptedTransport(server.answer);
  const client = new WebApiClient({ url: ORG, transport, batchSize: 100, sleep: noSleep });
  const results = await client.executeChangeSets(unitsOf(5));
  assert.deepEqual(
    results.map((r) => [r.key, r.ok, r.attempts]),
    [
      [0, true, 1],
      [1, true, 1],
      [2, false, 1],
      [3, true, 2],
      [4, true, 2],
    ],
  );
  const failure = results[2]!.error!;
  assert.ok(failure instanceof CrmError);
  assert.equal(failure.status, 400);
  assert.match(failure.crmMessage, /outside the valid range/);
  assert.match(failure.message, /^PATCH mailboxes\(2\) failed: HTTP 400/);
  assert.equal(transport.sent, 2);
  assert.deepEqual(server.processed.map((t) => t.replace(/.*\//, '')).sort(), [
    'mailboxes(0)',
    'mailboxes(1)',
    'mailboxes(3)',
    'mailboxes(4)',
  ]);
});

test('an error that is the only part and carries no Content-ID is narrowed down, never blamed on the first unit', async () => {
  const server = v90Batch((target) => target.endsWith('mailboxes(5)'), {
    contentIdOnError: false,
    onlyErrorPart: true,
  });
  const transport = new ScriptedTransport(server.answer);
  const client = new WebApiClient({ url: ORG, transport, batchSize: 100, sleep: noSleep });
  const results = await client.executeChangeSets(unitsOf(8));
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => r.key),
    [5],
  );
  assert.ok(results.every((r) => r.ok || r.key === 5));
  // 8 units: halving finds the culprit in log2(8) extra batches or so, not one batch per unit.
  assert.ok(transport.sent <= 7, `narrowing took ${transport.sent} batches`);
});

test('batches carry at most batchSize operations', async () => {
  const sizes: number[] = [];
  const server = v90Batch(() => false);
  const transport = new ScriptedTransport((req) => {
    sizes.push(parseBatchRequest(req.headers['content-type'], req.body ?? '').length);
    return server.answer(req);
  });
  const client = new WebApiClient({ url: ORG, transport, batchSize: 100, sleep: noSleep });
  const results = await client.executeChangeSets(unitsOf(250));
  assert.ok(results.every((r) => r.ok));
  assert.deepEqual(sizes, [100, 100, 50]);
  assert.equal(client.stats.maxBatchOperations, 100);
});

test('retryWith sends a replacement for a failed unit; prepare changes units before they go', async () => {
  const server = v90Batch((target) => target.endsWith('mailboxes(1)'));
  let failedOnce = false;
  const transport = new ScriptedTransport((req) => {
    const items = parseBatchRequest(req.headers['content-type'], req.body ?? '');
    const first = items[0];
    if (
      !failedOnce &&
      first?.kind === 'changeset' &&
      first.requests.some((r) => JSON.parse(r.body).emailrouteraccessapproval === 1)
    ) {
      failedOnce = true;
      const built = buildBatchResponse([
        {
          kind: 'response',
          response: { ...error(403, '0x80040220', 'The user does not hold the necessary privileges.'), contentId: '1' },
        },
      ]);
      return { status: 403, headers: { 'content-type': built.contentType }, body: built.body };
    }
    return v90Batch(() => false).answer(req);
  });
  void server;
  const client = new WebApiClient({ url: ORG, transport, batchSize: 100, sleep: noSleep });
  const units: ChangeUnit<number>[] = [
    {
      key: 7,
      operations: [
        {
          method: 'PATCH',
          path: 'mailboxes(7)',
          body: { emailrouteraccessapproval: 1, incomingemaildeliverymethod: 2 },
        },
      ],
    },
  ];
  const seen: CrmError[] = [];
  const results = await client.executeChangeSets(units, {
    retryWith: (unit, err) => {
      seen.push(err);
      const body = { ...unit.operations[0]!.body };
      delete body.emailrouteraccessapproval;
      return { key: unit.key, operations: [{ ...unit.operations[0]!, body }] };
    },
  });
  assert.equal(results[0]!.ok, true);
  assert.equal(results[0]!.attempts, 2);
  assert.equal(seen[0]!.isPrivilegeDenied, true);
  const last = transport.requests.at(-1)!;
  assert.doesNotMatch(last.body ?? '', /emailrouteraccessapproval/);
});

test('a batch refused as a whole gives every unit its error; a cut-off answer is sent again', async () => {
  let n = 0;
  const transport = new ScriptedTransport((req) => {
    n++;
    if (n === 1) return error(400, '', 'The batch request is not valid.');
    if (n === 2) {
      const full = v90Batch(() => false).answer(req);
      return { ...full, body: full.body.slice(0, full.body.length - 20) };
    }
    return v90Batch(() => false).answer(req);
  });
  const client = new WebApiClient({ url: ORG, transport, batchSize: 2, sleep: noSleep });
  const results = await client.executeChangeSets(unitsOf(4));
  assert.deepEqual(
    results.map((r) => r.ok),
    [false, false, true, true],
  );
  assert.match(results[0]!.error!.message, /The batch request is not valid/);
  assert.equal(n, 3);
});

test('pages follow @odata.nextLink byte for byte; only a foreign origin is swapped for the runner’s', async () => {
  const token =
    '$skiptoken=%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%22%20istracking=%22False%22%20/%3E';
  const transport = new ScriptedTransport((req, n) => {
    if (n === 1) {
      return {
        status: 200,
        headers: {},
        body: JSON.stringify({
          value: [{ a: 1 }, { a: 2 }],
          '@odata.nextLink': `https://crmserver.internal:5443/contoso/api/data/v9.0/mailboxes?$select=a&${token}`,
        }),
      };
    }
    return { status: 200, headers: {}, body: JSON.stringify({ value: [{ a: 3 }] }) };
  });
  const client = new WebApiClient({ url: ORG, transport, batchSize: 100, pageSize: 2, sleep: noSleep });
  const rows: number[] = [];
  for await (const row of client.rows<{ a: number }>('mailboxes?$select=a')) rows.push(row.a);
  assert.deepEqual(rows, [1, 2, 3]);
  assert.equal(transport.requests[0]!.headers.prefer, 'odata.maxpagesize=2');
  assert.equal(
    transport.requests[1]!.url,
    `https://crm.contoso.com/contoso/api/data/v9.0/mailboxes?$select=a&${token}`,
  );
});

test('the same nextLink twice is an error, not an endless loop', async () => {
  const transport = new ScriptedTransport(() => ({
    status: 200,
    headers: {},
    body: JSON.stringify({ value: [], '@odata.nextLink': `${ORG}/api/data/v9.0/mailboxes?$skiptoken=x` }),
  }));
  const client = new WebApiClient({ url: ORG, transport, batchSize: 100, sleep: noSleep });
  await assert.rejects(async () => {
    for await (const _ of client.pages('mailboxes')) void _;
  }, CrmProtocolError);
});

test('a GET whose answer is not JSON is asked again; errors keep D365’s code, found in the message when code is empty', async () => {
  let n = 0;
  const transport = new ScriptedTransport(() => {
    n++;
    if (n === 1) return { status: 200, headers: {}, body: '{"UserId":"' };
    if (n === 2)
      return {
        status: 200,
        headers: {},
        body: JSON.stringify({ UserId: 'u', BusinessUnitId: 'b', OrganizationId: 'o' }),
      };
    return error(403, '', 'SecLib::CrmCheckPrivilege failed. Returned hr = -2147220960 [0x80040220] on UserId: u');
  });
  const client = new WebApiClient({ url: ORG, transport, batchSize: 100, sleep: noSleep });
  assert.equal((await client.whoAmI()).OrganizationId, 'o');
  await assert.rejects(client.get('mailboxes'), (err: unknown) => {
    assert.ok(err instanceof CrmError);
    assert.equal(err.code, '0x80040220');
    assert.equal(
      err.crmMessage,
      'SecLib::CrmCheckPrivilege failed. Returned hr = -2147220960 [0x80040220] on UserId: u',
    );
    assert.match(err.message, /lacks a privilege/);
    return true;
  });
});

test('create returns the id from OData-EntityId and is sent as not idempotent', async () => {
  let idempotent: boolean | undefined;
  const transport: Transport = {
    kind: 'x',
    sent: 0,
    async send(_requests, options) {
      idempotent = options.idempotent;
      return [
        {
          status: 204,
          headers: {
            'odata-entityid': `${ORG}/api/data/v9.0/emailserverprofiles(AAAAAAAA-0000-4000-8000-000000000001)`,
          },
          body: '',
        },
      ];
    },
  };
  const client = new WebApiClient({ url: ORG, transport, batchSize: 100 });
  assert.equal(await client.create('emailserverprofiles', { name: 'x' }), 'aaaaaaaa-0000-4000-8000-000000000001');
  assert.equal(idempotent, false);
  assert.equal(client.apiBase, 'https://crm.contoso.com/contoso/api/data/v9.0/');
  assert.equal(
    new WebApiClient({ url: ORG + '/', transport, batchSize: 1, apiVersion: '9.1' }).apiBase,
    'https://crm.contoso.com/contoso/api/data/v9.1/',
  );
});
