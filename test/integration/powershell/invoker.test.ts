// The real invoker against real pwsh with the module and the fake Windows cmdlets loaded: parameters in, JSON
// result out, exit codes, timeouts, kills, masking, temp-file cleanup, one process per call.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  createWebApiInvoker,
  invokePowerShellPhase,
  PowerShellPhaseError,
  PowerShellTimeoutError,
  type PowerShellRuntime,
} from '../../../src/powershell/index.js';
import { makeSandboxTls } from '@d365-exo-sync/sandbox/tls';
import {
  fakeTools,
  freshFakeServer,
  makeTestPfx,
  pwshUnavailable,
  readFakeServer,
  recorder,
  suiteOptions,
  type TestPfx,
} from './helpers.js';

const TIMEOUT = 120_000;
const TENANT = '11111111-2222-3333-4444-555555555555';
const ORG_ID = '7d5e2c11-8f3a-4b6e-9c0d-1a2b3c4d5e6f';

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('PowerShell invoker with real pwsh', suiteOptions(), () => {
  let tempRoot: string;
  let stateFile: string;
  let pfx: TestPfx;

  before(() => {
    const reason = pwshUnavailable();
    if (reason) assert.fail(`CI=true: the PowerShell suite must run. ${reason}`);
    pfx = makeTestPfx();
  });

  beforeEach(() => {
    tempRoot = mkdtempSync(join(tmpdir(), 'ps-invoker-'));
    stateFile = freshFakeServer();
  });

  afterEach(() => {
    // Every call removes its private folder, whatever happened.
    assert.deepEqual(readdirSync(tempRoot), []);
    rmSync(tempRoot, { recursive: true, force: true });
    rmSync(dirname(stateFile), { recursive: true, force: true });
  });

  const installParameters = () => ({
    thumbprint: pfx.thumbprint,
    keyReaders: ['CONTOSO\\svc-crm-async', 'CONTOSO\\svc-crm-web'],
    iisBinding: { site: 'Microsoft Dynamics CRM', port: 443 },
  });

  it(
    'install-certificate: plans without touching anything, then applies (secrets only in the environment, private files), then changes nothing; one process per call',
    { timeout: TIMEOUT },
    async () => {
      let checked = 0;
      const rec = recorder(tempRoot, [pfx.password], {
        onSpawn: (info) => {
          rec.spawns.push(info);
          assert.ok(!info.args.join(' ').includes(pfx.password));
          assert.equal(statSync(info.workspace).mode & 0o777, 0o700);
          for (const name of readdirSync(info.workspace))
            assert.equal(statSync(join(info.workspace, name)).mode & 0o777, 0o600, name);
          const parameters = readFileSync(join(info.workspace, 'parameters.json'), 'utf8');
          assert.ok(!parameters.includes(pfx.password));
          const request = JSON.parse(parameters) as { secretEnv: Record<string, string>; pfxPath?: string };
          if (request.pfxPath) {
            assert.deepEqual(readFileSync(request.pfxPath), pfx.pfx);
            assert.deepEqual(Object.keys(request.secretEnv), ['PfxPassword']);
            checked++;
          }
        },
      });
      const plan = await invokePowerShellPhase(
        {
          phase: 'install-certificate',
          mode: 'plan',
          parameters: { ...installParameters(), subject: pfx.subject },
          timeoutMs: 90_000,
        },
        rec.runtime,
      );
      assert.equal(rec.spawns.length, 1);
      assert.equal(plan.mode, 'plan');
      assert.equal(plan.ok, true);
      assert.equal(plan.changed, false);
      assert.deepEqual(
        plan.steps.map((step) => `${step.id}=${step.status}`),
        [
          'certificate=would-change',
          'chain=skipped',
          'key-access=would-change',
          'iis-binding=would-change',
          'remove-older=unchanged',
          'restart-services=would-change',
        ],
      );
      assert.deepEqual(readFakeServer(stateFile).store, []);

      const applied = await invokePowerShellPhase(
        {
          phase: 'install-certificate',
          mode: 'apply',
          parameters: installParameters(),
          secrets: { PfxPassword: pfx.password },
          pfx: pfx.pfx,
          timeoutMs: 90_000,
        },
        rec.runtime,
      );
      assert.equal(rec.spawns.length, 2);
      assert.equal(applied.changed, true);
      assert.equal(applied.server.length > 0, true);
      assert.equal((applied.evidence.certificate as { thumbprint: string }).thumbprint, pfx.thumbprint);
      const server = readFakeServer(stateFile);
      assert.deepEqual(
        server.store.map((entry) => entry.thumbprint),
        [pfx.thumbprint],
      );
      assert.equal(server.webBindings[0]!.certificateHash, pfx.thumbprint);
      // The password was in the child's environment only, under the invoker's variable (never in argv or a file:
      // the spawn checks). That the entry script removes it before its module loads is tested with a probe module
      // (test/powershell/EntryScript.Tests.ps1): here the sandbox's fakes load before that script runs.
      // Nor did the module hand it in clear to any cmdlet or platform call the fake server recorded.
      assert.ok(server.calls.length > 0);
      assert.ok(!JSON.stringify(server.calls).includes(pfx.password), 'the password is in a recorded call');

      const again = await invokePowerShellPhase(
        {
          phase: 'install-certificate',
          mode: 'apply',
          parameters: installParameters(),
          secrets: { PfxPassword: pfx.password },
          pfx: pfx.pfx,
          timeoutMs: 90_000,
        },
        rec.runtime,
      );
      assert.equal(rec.spawns.length, 3);
      assert.equal(checked, 2);
      assert.equal(again.changed, false);
      assert.ok(again.steps.every((step) => step.status === 'unchanged' || step.status === 'skipped'));
    },
  );

  it(
    'configure-crm: runs CertificateReconfiguration.ps1 in-process and masks the password it echoes',
    { timeout: TIMEOUT },
    async () => {
      const rec = recorder(tempRoot, [pfx.password]);
      const parameters = {
        organization: 'contoso',
        tenantId: TENANT,
        thumbprint: pfx.thumbprint,
        asyncServiceAccount: 'CONTOSO\\svc-crm-async',
        metadataUrl: 'https://accounts.accesscontrol.windows.net/metadata/json/1',
        toolsPath: fakeTools,
      };
      const plan = await invokePowerShellPhase(
        { phase: 'configure-crm', mode: 'plan', parameters, timeoutMs: 90_000 },
        rec.runtime,
      );
      assert.equal(plan.steps.find((step) => step.id === 's2s-certificate')?.status, 'would-change');
      assert.equal(readFakeServer(stateFile).crm.certificates.length, 0);

      const result = await invokePowerShellPhase(
        {
          phase: 'configure-crm',
          mode: 'apply',
          parameters,
          secrets: { PfxPassword: pfx.password },
          pfx: pfx.pfx,
          timeoutMs: 90_000,
        },
        rec.runtime,
      );
      assert.equal(rec.spawns.length, 2);
      assert.deepEqual(result.evidence.s2sCertificates, [pfx.thumbprint]);
      assert.equal(result.evidence.s2sTenantId, TENANT);
      assert.equal(result.evidence.organizationId, ORG_ID);
      const all = rec.lines.map((entry) => entry.line).join('\n');
      assert.ok(!all.includes(pfx.password), 'the password reached the log');
      // Host output is masked inside PowerShell; the line the fake wrote straight to the console is masked here.
      assert.match(all, /with password \*\*\*/);
      assert.match(all, /certutil-like output: -p \*\*\*/);
      const server = readFakeServer(stateFile);
      assert.equal(server.crm.orgSettings[ORG_ID]?.S2STenantId, TENANT);
      assert.equal(server.crm.oauthClaims, true);
    },
  );

  it('configure-adfs: plans and applies through the invoker', { timeout: TIMEOUT }, async () => {
    const rec = recorder(tempRoot);
    const parameters = { organizationUrl: 'https://contoso.contoso.com', organizationId: ORG_ID };
    const plan = await invokePowerShellPhase(
      { phase: 'configure-adfs', mode: 'plan', parameters, timeoutMs: 90_000 },
      rec.runtime,
    );
    assert.deepEqual(
      plan.steps.map((step) => `${step.id}=${step.status}`),
      [
        'adfs-module=unchanged',
        'forms-authentication=would-change',
        'outlook-client=would-change',
        'application-permission=would-change',
        'adfs-certificate=skipped',
        'relying-party-trusts=skipped',
        'restart-services=would-change',
      ],
    );
    const applied = await invokePowerShellPhase(
      { phase: 'configure-adfs', mode: 'apply', parameters, timeoutMs: 90_000 },
      rec.runtime,
    );
    assert.equal(applied.changed, true);
    const server = readFakeServer(stateFile);
    assert.deepEqual(
      server.adfs.clients.map((client) => [client.clientId, client.redirectUri]),
      [[ORG_ID, ['https://contoso.contoso.com/crmmailapp/code_auth.aspx']]],
    );
    assert.deepEqual(server.adfs.intranet, ['WindowsAuthentication', 'FormsAuthentication']);
    assert.equal(rec.spawns.length, 2);
  });

  it(
    'rejects with the step, the server and the underlying message when the script fails; the partial steps come along',
    { timeout: TIMEOUT },
    async () => {
      const rec = recorder(tempRoot, ['wrong-password']);
      const failure = await invokePowerShellPhase(
        {
          phase: 'install-certificate',
          mode: 'apply',
          parameters: installParameters(),
          secrets: { PfxPassword: 'wrong-password' },
          pfx: pfx.pfx,
          timeoutMs: 90_000,
        },
        rec.runtime,
      ).then(
        () => assert.fail('resolved over a failed script'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof PowerShellPhaseError);
      assert.equal(failure.exitCode, 1);
      assert.equal(failure.detail.phase, 'install-certificate');
      assert.equal(failure.detail.step, 'certificate');
      assert.ok(failure.detail.server.length > 0);
      assert.match(failure.message, /failed at step 'certificate' on \S+: .*password/i);
      assert.deepEqual(
        failure.partial?.steps.map((step) => step.status),
        ['failed'],
      );
      assert.ok(rec.lines.some((entry) => entry.stream === 'stderr' && entry.line.startsWith('D365EXOSYNC-ERROR ')));
      assert.ok(!rec.lines.some((entry) => entry.line.includes('wrong-password')));
      assert.deepEqual(readFakeServer(stateFile).store, []);
    },
  );

  it('rejects a script that exits 0 without a result, or with ok = false', { timeout: TIMEOUT }, async () => {
    const fakeModulePath = mkdtempSync(join(tmpdir(), 'ps-entry-'));
    const rec = recorder(tempRoot, [], { modulePath: fakeModulePath });
    writeFileSync(
      join(fakeModulePath, 'Invoke-D365ExoSyncPhase.ps1'),
      'param($ParameterFile, $ResultFile)\nWrite-Host "pretending"\nexit 0\n',
    );
    await assert.rejects(
      invokePowerShellPhase({ phase: 'webapi', mode: 'apply', parameters: {}, timeoutMs: 60_000 }, rec.runtime),
      /exited 0 but wrote no readable result/,
    );
    writeFileSync(
      join(fakeModulePath, 'Invoke-D365ExoSyncPhase.ps1'),
      'param($ParameterFile, $ResultFile)\nSet-Content -Path $ResultFile -Value \'{"phase":"webapi","mode":"apply","server":"S1","ok":false,"changed":false,"steps":[]}\'\nexit 0\n',
    );
    await assert.rejects(
      invokePowerShellPhase({ phase: 'webapi', mode: 'apply', parameters: {}, timeoutMs: 60_000 }, rec.runtime),
      (error: unknown) => error instanceof PowerShellPhaseError && /ok = false/.test(error.message),
    );
    assert.equal(rec.spawns.length, 2);
    rmSync(fakeModulePath, { recursive: true, force: true });
  });

  describe('webapi and process control', () => {
    let server: Server;
    let base: string;
    const hanging: { destroy(): void }[] = [];

    let savedCaFile: string | undefined;
    let caFolder: string;

    before(async () => {
      // HTTPS with a test CA that the child trusts through SSL_CERT_FILE (OpenSSL's and so .NET's trust on Linux):
      // certificate checks stay on, and pwsh 7 only sends default credentials over TLS.
      const tls = makeSandboxTls(['localhost'], ['127.0.0.1']);
      const caFile = join(mkdtempSync(join(tmpdir(), 'ps-ca-')), 'ca.pem');
      writeFileSync(caFile, tls.caPem);
      caFolder = dirname(caFile);
      savedCaFile = process.env.SSL_CERT_FILE;
      process.env.SSL_CERT_FILE = caFile;
      server = createServer({ key: tls.keyPem, cert: tls.certPem }, (request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          if (request.url === '/hang') {
            hanging.push(request.socket);
            return;
          }
          if (request.url === '/missing') {
            response.writeHead(404, { 'content-type': 'application/json' });
            response.end('{"error":{"code":"0x80040217","message":"Does Not Exist"}}');
            return;
          }
          response.writeHead(request.method === 'POST' ? 201 : 200, {
            'content-type': 'application/json; charset=utf-8',
            'odata-version': '4.0',
          });
          response.end(
            JSON.stringify({ method: request.method, url: request.url, echo: body, accept: request.headers.accept }),
          );
        });
      });
      await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
      const address = server.address();
      assert.ok(address && typeof address === 'object');
      base = `https://127.0.0.1:${address.port}`;
    });

    after(async () => {
      if (savedCaFile === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = savedCaFile;
      rmSync(caFolder, { recursive: true, force: true });
      for (const socket of hanging) socket.destroy();
      await new Promise((done) => server.close(done));
    });

    it(
      'sends a batch of requests in one process and returns status, headers and bodies',
      { timeout: TIMEOUT },
      async () => {
        const rec = recorder(tempRoot);
        const invoke = createWebApiInvoker(rec.runtime);
        const answers = await invoke(
          [
            { method: 'GET', url: `${base}/api/data/v9.0/WhoAmI`, headers: { Accept: 'application/json' } },
            {
              method: 'POST',
              url: `${base}/api/data/v9.0/emailserverprofiles`,
              headers: { 'Content-Type': 'application/json' },
              body: '{"name":"Gr\u00fcn"}',
            },
            { method: 'GET', url: `${base}/missing`, headers: {} },
          ],
          { timeoutMs: 60_000 },
        );
        assert.equal(rec.spawns.length, 1);
        assert.deepEqual(
          answers.map((answer) => answer.status),
          [200, 201, 404],
        );
        const first = JSON.parse(String(answers[0]!.body)) as { method: string; accept: string };
        assert.equal(first.method, 'GET');
        assert.equal(first.accept, 'application/json');
        assert.equal((JSON.parse(String(answers[1]!.body)) as { echo: string }).echo, '{"name":"Gr\u00fcn"}');
        assert.match(String(answers[2]!.body), /0x80040217/);
        const headers = Object.fromEntries(
          Object.entries(answers[0]!.headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]),
        );
        assert.equal(headers['odata-version'], '4.0');
      },
    );

    it('kills the process tree on timeout and rejects clearly', { timeout: TIMEOUT }, async () => {
      const rec = recorder(tempRoot);
      const started = Date.now();
      await assert.rejects(
        invokePowerShellPhase(
          { phase: 'webapi', mode: 'apply', parameters: { requests: [{ url: `${base}/hang` }] }, timeoutMs: 8_000 },
          rec.runtime,
        ),
        (error: unknown) =>
          error instanceof PowerShellTimeoutError &&
          /did not finish within 8000 ms; its process tree was killed/.test(error.message),
      );
      assert.ok(Date.now() - started < 30_000);
      assert.equal(rec.spawns.length, 1);
      assert.equal(alive(rec.spawns[0]!.pid), false);
    });

    it('rejects when the child is killed from outside, and cleans up', { timeout: TIMEOUT }, async () => {
      const rec = recorder(tempRoot);
      const runtime: PowerShellRuntime = {
        ...rec.runtime,
        onSpawn: (info) => {
          rec.spawns.push(info);
          setTimeout(() => process.kill(info.pid!, 'SIGKILL'), 1_500);
        },
      };
      await assert.rejects(
        invokePowerShellPhase(
          {
            phase: 'webapi',
            mode: 'apply',
            parameters: { requests: [{ url: `${base}/hang` }] },
            pfx: Buffer.from('pfx'),
            timeoutMs: 60_000,
          },
          runtime,
        ),
        /was killed \(SIGKILL\)/,
      );
      assert.equal(rec.spawns.length, 1);
    });

    it(
      'kills the child and cleans up when the parent fails while it runs (mask throws)',
      { timeout: TIMEOUT },
      async () => {
        const rec = recorder(tempRoot);
        const runtime: PowerShellRuntime = {
          ...rec.runtime,
          mask: () => {
            throw new Error('mask exploded');
          },
        };
        await assert.rejects(
          invokePowerShellPhase(
            {
              phase: 'webapi',
              mode: 'apply',
              parameters: { requests: [{ url: `${base}/hang` }] },
              pfx: Buffer.from('pfx'),
              timeoutMs: 60_000,
            },
            runtime,
          ),
          /mask exploded/,
        );
        assert.equal(alive(rec.spawns[0]!.pid), false);
      },
    );

    it(
      'rejects before spawning anything on bad input, and cleans up when PowerShell cannot start',
      { timeout: TIMEOUT },
      async () => {
        const rec = recorder(tempRoot);
        await assert.rejects(
          invokePowerShellPhase(
            {
              phase: 'webapi',
              mode: 'apply',
              parameters: { pfxPassword: 'x' },
              secrets: { PfxPassword: 'y' },
              timeoutMs: 1_000,
            },
            rec.runtime,
          ),
          /both as a parameter and as a secret/,
        );
        const missing = join(tempRoot, '..', 'no-such-pwsh-' + Date.now());
        await assert.rejects(
          invokePowerShellPhase(
            { phase: 'webapi', mode: 'apply', parameters: {}, pfx: Buffer.from('pfx'), timeoutMs: 10_000 },
            { ...rec.runtime, pwshPath: missing },
          ),
          /Could not start PowerShell/,
        );
        assert.equal(rec.spawns.length, 1);
      },
    );
  });
});
