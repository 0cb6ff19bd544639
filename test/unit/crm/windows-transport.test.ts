import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WindowsTransport,
  type PowerShellWebApiRequest,
  type PowerShellWebApiResponse,
} from '../../../src/crm/windows-transport.js';

function recorder(script: (requests: PowerShellWebApiRequest[], call: number) => PowerShellWebApiResponse[] | Error) {
  const calls: PowerShellWebApiRequest[][] = [];
  const timeouts: number[] = [];
  const invoke = async (requests: PowerShellWebApiRequest[], options: { timeoutMs: number }) => {
    calls.push(requests);
    timeouts.push(options.timeoutMs);
    const answer = script(requests, calls.length);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { invoke, calls, timeouts };
}

const req = (url: string) => ({ method: 'GET' as const, url, headers: { accept: 'application/json' } });

test('one PowerShell process per call; parsed bodies become JSON text again; headers are lower-cased', async () => {
  const ps = recorder((requests) =>
    requests.map((r) => ({ status: 200, headers: { 'OData-Version': '4.0' }, body: { url: r.url } })),
  );
  const transport = new WindowsTransport(ps.invoke, { timeoutMs: 10_000, retry: { sleep: async () => {} } });
  const answers = await transport.send([req('https://crm/a'), req('https://crm/b')], { idempotent: true });
  assert.equal(ps.calls.length, 1);
  assert.deepEqual(
    answers.map((a) => JSON.parse(a.body).url),
    ['https://crm/a', 'https://crm/b'],
  );
  assert.equal(answers[0]!.headers['odata-version'], '4.0');
  assert.equal(transport.sent, 2);
  // The process gets the per-request timeout for each request plus time to start.
  assert.ok(ps.timeouts[0]! >= 20_000);
  // No credential of any kind travels: Windows PowerShell uses the runner's own identity.
  assert.ok(ps.calls.flat().every((r) => !Object.keys(r.headers).some((h) => h.toLowerCase() === 'authorization')));
});

test('429 and 503 answers are sent again in the next process after Retry-After; the others keep their answer', async () => {
  const sleeps: number[] = [];
  const ps = recorder((requests, call) =>
    requests.map((r) =>
      call === 1 && r.url.endsWith('/b')
        ? { status: 429, headers: { 'Retry-After': '3' }, body: '' }
        : { status: 204, headers: {}, body: '' },
    ),
  );
  const transport = new WindowsTransport(ps.invoke, {
    timeoutMs: 1000,
    retry: { sleep: async (ms) => void sleeps.push(ms) },
  });
  const answers = await transport.send([req('https://crm/a'), req('https://crm/b')], { idempotent: false });
  assert.deepEqual(
    answers.map((a) => a.status),
    [204, 204],
  );
  assert.deepEqual(
    ps.calls.map((c) => c.map((r) => r.url)),
    [['https://crm/a', 'https://crm/b'], ['https://crm/b']],
  );
  assert.deepEqual(sleeps, [3000]);
});

test('a 504 is repeated only for idempotent requests; a dead process is repeated only for idempotent ones', async () => {
  const gateway = recorder(() => [{ status: 504, body: '' }]);
  const notIdempotent = new WindowsTransport(gateway.invoke, { timeoutMs: 1000, retry: { sleep: async () => {} } });
  assert.equal((await notIdempotent.send([req('https://crm/x')], { idempotent: false }))[0]!.status, 504);
  assert.equal(gateway.calls.length, 1);

  const dying = recorder((_, call) =>
    call === 1 ? new Error('powershell.exe exited with code 1') : [{ status: 200, body: '{}' }],
  );
  const idempotent = new WindowsTransport(dying.invoke, { timeoutMs: 1000, retry: { sleep: async () => {} } });
  assert.equal((await idempotent.send([req('https://crm/x')], { idempotent: true }))[0]!.status, 200);
  const dead = recorder(() => new Error('powershell.exe exited with code 1'));
  const once = new WindowsTransport(dead.invoke, { timeoutMs: 1000, retry: { sleep: async () => {} } });
  await assert.rejects(
    once.send([req('https://crm/x')], { idempotent: false }),
    /Windows PowerShell .* failed: powershell.exe exited with code 1/,
  );
  assert.equal(dead.calls.length, 1);
});

test('a wrong number of answers is an error, not a silent mismatch', async () => {
  const ps = recorder(() => [{ status: 200, body: '' }]);
  const transport = new WindowsTransport(ps.invoke, { timeoutMs: 1000 });
  await assert.rejects(
    transport.send([req('https://crm/a'), req('https://crm/b')], { idempotent: true }),
    /returned 1 answers for 2/,
  );
});
