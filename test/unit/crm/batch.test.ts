import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBatch, parseBatchResponse, BatchFormatError, boundaryOf } from '../../../src/crm/batch.js';
import { parseBatchRequest, buildBatchResponse } from '@d365-exo-sync/sandbox/d365/batch-server';

const BASE = 'https://crm.contoso.com/contoso/api/data/v9.0/';

test('a built batch is read back by the independent server parser: change sets, Content-IDs, bodies, a GET outside', () => {
  const built = buildBatch([
    {
      kind: 'changeset',
      operations: [
        {
          method: 'PATCH',
          url: `${BASE}mailboxes(1)`,
          headers: { 'if-match': '*' },
          body: { incomingemaildeliverymethod: 2 },
        },
      ],
    },
    {
      kind: 'changeset',
      operations: [
        { method: 'PATCH', url: `${BASE}mailboxes(2)`, body: { outgoingemaildeliverymethod: 2 } },
        { method: 'PATCH', url: `${BASE}systemusers(3)`, body: { emailrouteraccessapproval: 1 } },
      ],
    },
    { kind: 'request', request: { method: 'GET', url: `${BASE}WhoAmI` } },
  ]);
  assert.equal(built.operations, 4);
  assert.deepEqual(built.contentIds, [['1'], ['2', '3'], []]);
  assert.match(built.contentType, /^multipart\/mixed;boundary=batch_/);
  const items = parseBatchRequest(built.contentType, built.body);
  assert.equal(items.length, 3);
  const [first, second, third] = items;
  if (first?.kind !== 'changeset' || second?.kind !== 'changeset' || third?.kind !== 'request')
    throw new Error('shape');
  const patch = first.requests[0]!;
  assert.equal(patch.method, 'PATCH');
  assert.equal(patch.target, `${BASE}mailboxes(1)`);
  assert.equal(patch.headers['if-match'], '*');
  assert.equal(patch.headers['content-type'], 'application/json;type=entry');
  assert.deepEqual(JSON.parse(patch.body), { incomingemaildeliverymethod: 2 });
  assert.deepEqual(
    second.requests.map((r) => r.contentId),
    ['2', '3'],
  );
  assert.equal(third.request.method, 'GET');
  assert.equal(third.request.body, '');
});

// The change set answer of the Web API documentation (execute-batch-operations-using-web-api.md).
const DOC_RESPONSE = [
  '--batchresponse_c1bd45c1-dd81-470d-b897-e965846aad2f',
  'Content-Type: multipart/mixed; boundary=changesetresponse_ff83b4f1-ab48-430c-b81c-926a2c596abc',
  '',
  '--changesetresponse_ff83b4f1-ab48-430c-b81c-926a2c596abc',
  'Content-Type: application/http',
  'Content-Transfer-Encoding: binary',
  'Content-ID: 1',
  '',
  'HTTP/1.1 204 No Content',
  'OData-Version: 4.0',
  'Location: https://crm.contoso.com/contoso/api/data/v9.0/tasks(a59c24f3-fafc-e411-80dd-00155d2a68cb)',
  'OData-EntityId: https://crm.contoso.com/contoso/api/data/v9.0/tasks(a59c24f3-fafc-e411-80dd-00155d2a68cb)',
  '',
  '--changesetresponse_ff83b4f1-ab48-430c-b81c-926a2c596abc',
  'Content-Type: application/http',
  'Content-Transfer-Encoding: binary',
  'Content-ID: 2',
  '',
  'HTTP/1.1 204 No Content',
  'OData-Version: 4.0',
  '',
  '--changesetresponse_ff83b4f1-ab48-430c-b81c-926a2c596abc--',
  '--batchresponse_c1bd45c1-dd81-470d-b897-e965846aad2f',
  'Content-Type: application/http',
  'Content-Transfer-Encoding: binary',
  '',
  'HTTP/1.1 200 OK',
  'Content-Type: application/json; odata.metadata=minimal',
  'OData-Version: 4.0',
  '',
  '{"value":[{"subject":"Task 1"}]}',
  '--batchresponse_c1bd45c1-dd81-470d-b897-e965846aad2f--',
  '',
];

test('the documented change set answer parses into a change set of two 204s and a 200 with its JSON', () => {
  for (const eol of ['\r\n', '\n']) {
    const items = parseBatchResponse(
      'multipart/mixed; boundary=batchresponse_c1bd45c1-dd81-470d-b897-e965846aad2f',
      DOC_RESPONSE.join(eol),
    );
    assert.equal(items.length, 2);
    const [changeset, get] = items;
    if (changeset?.kind !== 'changeset' || get?.kind !== 'response') throw new Error('shape');
    assert.deepEqual(
      changeset.responses.map((r) => [r.status, r.contentId]),
      [
        [204, '1'],
        [204, '2'],
      ],
    );
    assert.match(changeset.responses[0]!.headers['odata-entityid']!, /tasks\(a59c24f3/);
    assert.equal(get.response.status, 200);
    assert.deepEqual(JSON.parse(get.response.body), { value: [{ subject: 'Task 1' }] });
  }
});

test('a stopped batch answers with the error part only; code and message come through untouched', () => {
  const body = [
    '--batchresponse_156da4b8',
    'Content-Type: application/http',
    'Content-Transfer-Encoding: binary',
    '',
    'HTTP/1.1 400 Bad Request',
    'Content-Type: application/json; odata.metadata=minimal',
    '',
    `{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'."}}`,
    '--batchresponse_156da4b8--',
  ].join('\r\n');
  const items = parseBatchResponse('multipart/mixed; boundary="batchresponse_156da4b8"', body);
  assert.equal(items.length, 1);
  if (items[0]?.kind !== 'response') throw new Error('shape');
  assert.equal(items[0].response.status, 400);
  assert.equal(JSON.parse(items[0].response.body).error.code, '0x80044331');
});

test('an answer cut off before its closing delimiter is refused, not half read', () => {
  const whole = buildBatchResponse([{ kind: 'response', response: { status: 204, headers: {}, body: '' } }]);
  const cut = whole.body.slice(0, whole.body.lastIndexOf('--batchresponse'));
  assert.throws(() => parseBatchResponse(whole.contentType, cut), BatchFormatError);
  assert.throws(() => parseBatchResponse('application/json', '{}'), BatchFormatError);
});

test('boundaryOf reads quoted and bare boundaries and ignores non-multipart types', () => {
  assert.equal(boundaryOf('multipart/mixed; boundary="batch_1"'), 'batch_1');
  assert.equal(boundaryOf('multipart/mixed;boundary=batch_2;charset=utf-8'), 'batch_2');
  assert.equal(boundaryOf('application/json'), undefined);
  assert.equal(boundaryOf(undefined), undefined);
});
