// Faults on every external call: each call of the toolkit × {429 with Retry-After, 503, connection reset, timeout,
// malformed answer}, once (a transient fault: it must be retried, or fail clean) and for good (it must fail clean),
// and after each failure a rerun without the fault must converge to the right state. "Clean" means: the run fails
// with an error that says what failed (no TypeError), nothing is half-written (no second profile, no duplicate
// key), and the Entra key list never loses a valid key. Then the process is killed in the middle of phases (the
// CLI bundle as a child process, the emulators in this process) and a rerun converges.
//
// What test/integration/entra/faults.test.ts and test/integration/d365/faults.test.ts already prove with a single
// fault is listed in support/faults.ts (COVERED_ONCE) and not repeated: those cells run only their persistent
// variant and the rerun here. The invoker's own process control (timeout kill, external kill, a parent that fails)
// is in test/integration/powershell/invoker.test.ts; here each Windows phase goes through it.
//
// Nothing sleeps for real: retry delays go through a recording sleep (the 429 cells check it was asked to wait the
// Retry-After), polls through a fake clock; only the timeout cells wait for their (short) timeout, in parallel.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema, type Config } from '../../src/config/schema.js';
import { AdfsPasswordAuth } from '../../src/crm/adfs-auth.js';
import { HttpsTransport } from '../../src/crm/https-transport.js';
import { createCrmServices } from '../../src/crm/client-factory.js';
import type { RetryPolicy } from '../../src/crm/transport.js';
import { createWindowsServices } from '../../src/phases/windows/powershell-service.js';
import { findPhase } from '../../src/phases/registry.js';
import { runPhase, type PhaseRun } from '../../src/phases/runner.js';
import type { PhaseContext } from '../../src/phases/phase.js';
import { startD365Emulator, type D365Emulator } from '@d365-exo-sync/sandbox/d365';
import { DYNAMICS_APP_ID, type EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { invokePowerShellPhase, resolvePowerShell } from '../../src/powershell/index.js';
import type { PowerShellWebApiInvoker } from '../../src/crm/windows-transport.js';
import { sendWithRetry } from '../../src/http/request.js';
import { makeSandboxTls } from '@d365-exo-sync/sandbox/tls';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { TestHost } from '../support/test-host.js';
import { makeLeaf, makePfx } from '../support/certs.js';
import { fakeClock } from '../integration/d365/support.js';
import { FAST_HTTP, phaseContext, sandboxTls, startSandbox } from '../integration/entra/sandbox.js';
import { FAKE_SERVER_MODULE_PATH, FAKE_WINDOWS_MODULE as fakeModule } from '@d365-exo-sync/sandbox';
import {
  COVERED_ONCE,
  D365_CALLS,
  d365Fault,
  ENTRA_CALLS,
  entraRule,
  FAULTS,
  MatrixReport,
  RETRY_AFTER_SECONDS,
  TIMEOUT_MS,
  type FaultKind,
} from './support/faults.js';
import {
  ADFS_SERVER,
  COMPUTER,
  D365_PASSWORD,
  D365_USER,
  PFX_PASSWORD,
  PFX_PASSWORD_ENV,
  renewalCertificate,
  startWorld,
  type World,
} from './support/world.js';
import { alive, builtCli, spawnCli, waitFor } from './support/processes.js';

const report = { entra: new MatrixReport(), d365: new MatrixReport(), powershell: new MatrixReport() };
const records = mkdtempSync(join(tmpdir(), 'd365-reliability-faults-'));
after(() => {
  rmSync(records, { recursive: true, force: true });
  // The matrix as this run saw it (node --test prints it with the results).
  console.log(
    [
      '',
      report.entra.render('Entra ID / Graph call'),
      '',
      report.d365.render('D365 Web API call'),
      '',
      report.powershell.render('PowerShell step'),
      '',
    ].join('\n'),
  );
});

const phase = (id: string) => findPhase(id)!;
const run = (id: string, ctx: PhaseContext): Promise<PhaseRun> =>
  runPhase(phase(id), ctx, { mode: 'apply', configHash: 'reliability', recordDir: records });

/** A failure that says what failed, not a crash in our own code. */
function assertClean(result: PhaseRun, where: string): void {
  assert.equal(result.record.status, 'failed', where);
  const error = result.record.error ?? '';
  assert.ok(error.length > 20, `${where}: no error text`);
  // It names the system or the request that failed, so the admin knows where to look.
  assert.match(error, /Entra|Graph|D365|AD FS|PowerShell|Web API|\b(GET|POST|PATCH) \S/, where);
  assert.doesNotMatch(
    error,
    /TypeError|Cannot read propert|is not a function|undefined is not|\[object Object\]/,
    where,
  );
}

// ------------------------------------------------------------------ Entra ID and Graph (register-entra)

const theirs = makeLeaf({ keySlot: 'faults-theirs', commonName: 'crm.contoso.com' });
const renewal = () => renewalCertificate();

function entraProblems(emulator: EntraEmulator, theirsKey: unknown, converged: boolean): string[] {
  const sp = emulator.state.dynamics();
  const problems: string[] = [];
  if (!sp.keyCredentials.some((k) => JSON.stringify(k) === JSON.stringify(theirsKey)))
    problems.push('the valid key that was there is gone or changed');
  const ours = sp.keyCredentials.filter((k) => k.key === renewal().cert.der.toString('base64'));
  if (ours.length > 1) problems.push(`the new key is there ${ours.length} times`);
  if (converged) {
    if (ours.length !== 1) problems.push('the new key is not there');
    if (sp.keyCredentials.length !== 2) problems.push(`${sp.keyCredentials.length} keys, expected 2`);
    if (!sp.servicePrincipalNames.includes(`${DYNAMICS_APP_ID}/*.contoso.com`)) problems.push('no domain SPN');
  }
  return problems;
}

async function entraCell(endpoint: (typeof ENTRA_CALLS)[number]['endpoint'], fault: FaultKind, times: number) {
  const emulator = await startSandbox();
  try {
    emulator.state.addKeyCredential(DYNAMICS_APP_ID, { certificate: theirs.x509, displayName: 'CN=crm.contoso.com' });
    const theirsKey = structuredClone(emulator.state.dynamics().keyCredentials[0]);
    const active = emulator.faults.add(entraRule(endpoint, fault, times));
    const delays: number[] = [];
    const context = () =>
      phaseContext(emulator, new TestHost(), {
        certificate: { pfx: renewal().pfx, password: PFX_PASSWORD, source: 'the renewal certificate' },
        services: {
          http: {
            ...FAST_HTTP,
            timeoutMs: TIMEOUT_MS,
            maxAttempts: 3,
            maxDelayMs: 60_000,
            sleep: async (ms: number) => void delays.push(ms),
          },
          verifyDelayMs: 1,
          sleep: async () => undefined,
        },
      });
    const first = await run('register-entra', context());
    assert.deepEqual(entraProblems(emulator, theirsKey, false), [], `${endpoint} × ${fault}: after the faulty run`);
    let rerun: PhaseRun | undefined;
    if (first.record.status !== 'succeeded') {
      assertClean(first, `${endpoint} × ${fault}`);
      emulator.faults.clear();
      rerun = await run('register-entra', context());
    }
    assert.equal((rerun ?? first).record.status, 'succeeded', (rerun ?? first).record.error);
    assert.deepEqual(entraProblems(emulator, theirsKey, true), [], `${endpoint} × ${fault}: after the rerun`);
    return { first, hits: active.hits, delays };
  } finally {
    await emulator.close();
  }
}

describe('Entra ID and Graph: every call × every fault (register-entra)', { concurrency: 6 }, () => {
  for (const call of ENTRA_CALLS) {
    for (const fault of FAULTS) {
      it(`${call.name} × ${fault}`, async () => {
        const covered = COVERED_ONCE.has(`entra:${call.endpoint}:${fault}`);
        let once = 'entra faults test';
        if (!covered) {
          const { first, hits, delays } = await entraCell(call.endpoint, fault, 1);
          assert.equal(hits, 1, 'the fault never fired: the call was not made');
          once = first.record.status === 'succeeded' ? 'retried' : 'clean fail';
          if (fault === '429' && first.record.status === 'succeeded')
            assert.ok(delays.includes(RETRY_AFTER_SECONDS * 1000), `Retry-After not honoured: ${delays}`);
        }
        const persistent = await entraCell(call.endpoint, fault, 1_000);
        assert.ok(persistent.hits >= 1);
        const always = persistent.first.record.status === 'succeeded' ? 'survived' : 'clean fail';
        report.entra.record(call.name, fault, `${once} · ${always}`);
      });
    }
  }
});

// ------------------------------------------------------------------ D365 Web API (configure-mailboxes)

const tls = sandboxTls();
const PROFILE = 'Exchange Online (Hybrid)';

function d365Config(emulator: D365Emulator): Config {
  return ConfigSchema.parse({
    deployment: {
      url: 'https://crm.contoso.com/contoso',
      organization: 'contoso',
      servers: [{ name: 'CRMAPP01', roles: ['web', 'async', 'deployment-tools'] }],
      serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
      webApi: {
        auth: 'adfs-password',
        url: emulator.url,
        tokenEndpoint: emulator.tokenEndpoint,
        clientId: emulator.clientId,
        resource: emulator.resource,
        usernameEnv: 'CRM_SYNC_USER',
        passwordEnv: 'CRM_SYNC_PASSWORD',
        batchSize: 2,
      },
    },
    tenant: {
      id: '11111111-2222-3333-4444-555555555555',
      rootDomain: 'contoso.com',
      auth: { method: 'workload-identity', clientId: '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a' },
    },
  });
}

function d365Context(emulator: D365Emulator, delays: number[]): PhaseContext {
  const config = d365Config(emulator);
  const host = new TestHost();
  const retry: Partial<RetryPolicy> = {
    maxAttempts: 3,
    baseDelayMs: 1,
    maxDelayMs: 60_000,
    sleep: async (ms) => void delays.push(ms),
  };
  const webApi = config.deployment.webApi as Extract<Config['deployment']['webApi'], { auth: 'adfs-password' }>;
  const transport = new HttpsTransport({
    auth: new AdfsPasswordAuth({
      tokenEndpoint: webApi.tokenEndpoint,
      clientId: webApi.clientId,
      resource: webApi.resource,
      username: D365_USER,
      password: D365_PASSWORD,
      timeoutMs: TIMEOUT_MS,
      ca: tls.caPem,
      registerSecret: (value) => host.registerSecret(value),
      retry,
    }),
    timeoutMs: TIMEOUT_MS,
    ca: tls.caPem,
    retry,
  });
  const crm = createCrmServices(config, host, {}, { transport, clock: fakeClock(), retry });
  return { config, host, inputs: {}, now: new Date(), services: { crm } };
}

function d365Problems(emulator: D365Emulator, converged: boolean): string[] {
  const problems: string[] = [];
  const profiles = [...emulator.state.tables.emailserverprofiles!.values()].filter((p) => p.name === PROFILE);
  if (profiles.length > 1) problems.push(`${profiles.length} profiles named ${PROFILE}`);
  if (!converged) return problems;
  const profileId = profiles[0]?.emailserverprofileid;
  if (!profileId) return [...problems, 'no profile'];
  const organization = [...emulator.state.tables.organizations!.values()][0]!;
  if (organization._defaultemailserverprofileid_value !== profileId) problems.push('the profile is not the default');
  for (const m of emulator.state.tables.mailboxes!.values()) {
    const owner = emulator.state.tables.systemusers!.get(String(m._regardingobjectid_value));
    const ok =
      m._emailserverprofile_value === profileId &&
      m.incomingemaildeliverymethod === 2 &&
      m.outgoingemaildeliverymethod === 2 &&
      m.incomingemailstatus === 1 &&
      m.outgoingemailstatus === 1 &&
      owner?.emailrouteraccessapproval === 1;
    if (!ok) problems.push(`mailbox ${String(m.emailaddress)} is not configured and tested`);
  }
  return problems;
}

async function d365Cell(callIndex: number, fault: FaultKind, times: number) {
  const call = D365_CALLS[callIndex]!;
  const emulator = await startD365Emulator({
    tls,
    auth: { mode: 'bearer', users: [{ username: D365_USER, password: D365_PASSWORD }] },
    mailboxes: 4,
    testAndEnable: { delayMs: 0 },
    faults: [d365Fault(call, fault, times)],
  });
  try {
    const delays: number[] = [];
    const first = await run('configure-mailboxes', d365Context(emulator, delays));
    const hits = emulator.requests.faultsFired;
    assert.deepEqual(d365Problems(emulator, false), [], `${call.name} × ${fault}: after the faulty run`);
    let rerun: PhaseRun | undefined;
    if (first.record.status !== 'succeeded') {
      assertClean(first, `${call.name} × ${fault}`);
      emulator.faults.clear();
      rerun = await run('configure-mailboxes', d365Context(emulator, []));
    }
    assert.equal((rerun ?? first).record.status, 'succeeded', (rerun ?? first).record.error);
    assert.deepEqual(d365Problems(emulator, true), [], `${call.name} × ${fault}: after the rerun`);
    return { first, hits, delays };
  } finally {
    await emulator.close();
  }
}

describe('D365 Web API: every call × every fault (configure-mailboxes)', { concurrency: 6 }, () => {
  D365_CALLS.forEach((call, index) => {
    for (const fault of FAULTS) {
      it(`${call.name} × ${fault}`, async () => {
        const covered = COVERED_ONCE.has(`d365:${call.name}:${fault}`);
        let once = 'd365 faults test';
        if (!covered) {
          const { first, hits, delays } = await d365Cell(index, fault, 1);
          assert.equal(hits, 1, 'the fault never fired: the call was not made');
          once = first.record.status === 'succeeded' ? 'retried' : 'clean fail';
          if (fault === '429' && first.record.status === 'succeeded')
            assert.ok(delays.includes(RETRY_AFTER_SECONDS * 1000), `Retry-After not honoured: ${delays}`);
        }
        const persistent = await d365Cell(index, fault, 1_000);
        assert.ok(persistent.hits >= 1);
        const always = persistent.first.record.status === 'succeeded' ? 'survived' : 'clean fail';
        report.d365.record(call.name, fault, `${once} · ${always}`);
      });
    }
  });
});

// ------------------------------------------------------------------ PowerShell steps
//
// The HTTP faults map onto a PowerShell step as what can go wrong with it: 429 and 503 (the system says "not now")
// are a step inside the script failing (a service that does not come back after its restart, the cmdlet error a
// busy server gives); reset is the process dying in the middle; timeout is a process that hangs past the invoker's
// timeout (its tree is killed); malformed is a result file that is not the JSON the script writes. The three
// process faults come from a stand-in for pwsh (a shell script), so they cost no PowerShell start; the failing step
// and every rerun are real pwsh with the module and the fake Windows server.

const FAKE_PWSH = `#!/bin/sh
result=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-ResultFile" ]; then result="$2"; fi
  shift
done
case "$FAKE_PWSH_MODE" in
  reset) echo "fake PowerShell: dying"; kill -9 $$ ;;
  timeout) exec sleep 60 ;;
  malformed) printf '{"phase":"install-certificate","mode":"apply","ok":tr' > "$result"; exit 0 ;;
esac
exit 3
`;

interface WindowsPhaseCase {
  id: 'install-certificate' | 'configure-crm' | 'configure-adfs';
  computer: string;
  inputs: Record<string, string>;
  /** The services whose restart the "429/503" fault makes fail. */
  services: string[];
  converged(state: FakeServerState): string[];
}

interface FakeServerState {
  store: { thumbprint: string; hasPrivateKey: boolean; rules: { sid: string; rights: number }[] }[];
  services: { name: string; status: string; failRestart?: boolean }[];
  crm: {
    certificates: { type: string; data: string }[];
    orgSettings: Record<string, Record<string, string>>;
    serverSettings: Record<string, string>;
    oauthClaims: boolean;
  };
  adfs: {
    clients: { clientId: string; redirectUri: string[] }[];
    permissions: { client: string }[];
    intranet: string[];
  };
}

const ORGANIZATION_ID = '0c0c0c0c-0000-4000-8000-000000000001';
const READ = 2147483648;
const SIDS = ['S-1-5-21-1004336348-1177238915-682003330-1101', 'S-1-5-21-1004336348-1177238915-682003330-1102'];

const WINDOWS_PHASES: WindowsPhaseCase[] = [
  {
    id: 'install-certificate',
    computer: COMPUTER,
    inputs: {},
    services: ['MSCRMAsyncService'],
    converged: (state) => {
      const ours = state.store.filter((e) => e.thumbprint === renewal().cert.thumbprint);
      const problems: string[] = [];
      if (ours.length !== 1) problems.push(`the certificate is in the store ${ours.length} times`);
      else {
        if (!ours[0]!.hasPrivateKey) problems.push('no private key');
        for (const sid of SIDS)
          if (!ours[0]!.rules.some((r) => r.sid === sid && r.rights === READ)) problems.push(`no Read for ${sid}`);
      }
      return problems;
    },
  },
  {
    id: 'configure-crm',
    computer: COMPUTER,
    inputs: {},
    services: ['MSCRMAsyncService$maintenance'],
    converged: (state) => {
      const problems: string[] = [];
      const s2s = state.crm.certificates.filter((c) => c.type === 'S2STokenIssuer');
      if (s2s.length !== 1 || s2s[0]!.data !== renewal().cert.der.toString('base64'))
        problems.push('the S2S certificate is not the new one');
      if (!Object.values(state.crm.orgSettings).some((o) => o.S2STenantId === '11111111-2222-3333-4444-555555555555'))
        problems.push('S2STenantId not set');
      if (state.crm.serverSettings.S2SDefaultAuthorizationServerPrincipalId !== '00000001-0000-0000-c000-000000000000')
        problems.push('ServerSettings not set');
      if (!state.crm.oauthClaims) problems.push('OAuth claims not enabled');
      return problems;
    },
  },
  {
    id: 'configure-adfs',
    computer: ADFS_SERVER,
    inputs: { 'organization-id': ORGANIZATION_ID },
    services: ['adfssrv'],
    converged: (state) => {
      const problems: string[] = [];
      const clients = state.adfs.clients.filter((c) => c.clientId === ORGANIZATION_ID);
      if (clients.length !== 1) problems.push(`${clients.length} App for Outlook clients`);
      else if (!clients[0]!.redirectUri.includes('https://crm.contoso.com/crmmailapp/code_auth.aspx'))
        problems.push('wrong redirect URI');
      if (!state.adfs.permissions.some((p) => p.client === ORGANIZATION_ID)) problems.push('no application permission');
      if (!state.adfs.intranet.includes('FormsAuthentication')) problems.push('forms authentication not on');
      return problems;
    },
  },
];

describe('PowerShell steps: every Windows phase × every fault', () => {
  /** Services not running after each phase's rerun. */
  const stoppedAfterRerun = new Map<string, string[]>();
  let world: World;
  let scratch: string;
  let fakePwsh: string;
  let defaultState: string;

  before(async () => {
    world = await startWorld();
    scratch = mkdtempSync(join(tmpdir(), 'd365-reliability-ps-'));
    fakePwsh = join(scratch, 'fake-pwsh');
    writeFileSync(fakePwsh, FAKE_PWSH);
    chmodSync(fakePwsh, 0o755);
    // The fake Windows server as it starts (what the fake module writes when it is first imported), made once.
    const initial = join(scratch, 'initial.json');
    const pwsh = resolvePowerShell();
    const made = spawnSync(
      pwsh.command,
      [...pwsh.prefixArgs, '-NoProfile', '-NonInteractive', '-Command', `Import-Module '${fakeModule}'`],
      { env: { ...process.env, FAKE_WINDOWS_STATE_FILE: initial }, encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    defaultState = readFileSync(initial, 'utf8');
  });
  after(async () => {
    await world?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  function context(c: WindowsPhaseCase, stateFile: string, options: { mode?: string; timeoutMs?: number } = {}) {
    const host = new TestHost();
    const env = {
      ...process.env,
      FAKE_WINDOWS_STATE_FILE: stateFile,
      ...(options.mode ? { FAKE_PWSH_MODE: options.mode } : {}),
    };
    const windows = createWindowsServices(host, env, {
      modulePath: FAKE_SERVER_MODULE_PATH,
      computerName: c.computer,
      timeoutMs: options.timeoutMs ?? 180_000,
      tempRoot: scratch,
      ...(options.mode ? { pwshPath: fakePwsh } : {}),
    });
    const ctx: PhaseContext = {
      config: ConfigSchema.parse(world.configDocument()),
      host,
      inputs: c.inputs,
      now: new Date(),
      certificate: { pfx: renewal().pfx, password: PFX_PASSWORD, source: 'the renewal certificate' },
      services: { windows },
    };
    return ctx;
  }

  const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as FakeServerState;
  const edit = (file: string, change: (state: FakeServerState) => void) => {
    const state = read(file);
    change(state);
    writeFileSync(file, JSON.stringify(state));
  };

  for (const c of WINDOWS_PHASES) {
    it(`${c.id}: a failing step, a dying, a hanging and a garbling process fail clean; the rerun converges`, async () => {
      const stateFile = join(scratch, `${c.id}.json`);
      writeFileSync(stateFile, defaultState);
      const untouched = readFileSync(stateFile, 'utf8');

      for (const [fault, expected] of [
        ['reset', /was killed \(SIGKILL\)/],
        ['timeout', /did not finish within 1500 ms; its process tree was killed/],
        ['malformed', /result|JSON/i],
      ] as const) {
        const result = await run(c.id, context(c, stateFile, { mode: fault, timeoutMs: 1_500 }));
        assertClean(result, `${c.id} × ${fault}`);
        assert.match(result.record.error!, expected);
        assert.equal(readFileSync(stateFile, 'utf8'), untouched, `${c.id} × ${fault} changed the server`);
        report.powershell.record(c.id, fault, 'clean fail');
      }
      // Leftovers of the killed and timed-out processes: none (the invoker removes its folder in every outcome).
      assert.deepEqual(
        readdirSync(scratch).filter((name) => name.startsWith('d365-exo-sync-ps-')),
        [],
      );

      edit(stateFile, (state) => {
        for (const service of state.services) if (c.services.includes(service.name)) service.failRestart = true;
      });
      const failing = await run(c.id, context(c, stateFile));
      assertClean(failing, `${c.id} × failing step`);
      assert.match(failing.record.error!, /did not come back after the restart/);
      for (const fault of ['429', '503'] as const) report.powershell.record(c.id, fault, 'clean fail');

      edit(stateFile, (state) => {
        for (const service of state.services) delete service.failRestart;
      });
      const rerun = await run(c.id, context(c, stateFile));
      assert.equal(rerun.record.status, 'succeeded', rerun.record.error);
      assert.deepEqual(c.converged(read(stateFile)), [], `${c.id}: the rerun did not converge`);
      stoppedAfterRerun.set(
        c.id,
        read(stateFile)
          .services.filter((service) => service.status !== 'Running')
          .map((service) => service.name),
      );
    });
  }

  it('after a restart that failed, the rerun brings the services back', () => {
    assert.equal(stoppedAfterRerun.size, WINDOWS_PHASES.length);
    for (const [phaseId, stopped] of stoppedAfterRerun) assert.deepEqual(stopped, [], phaseId);
  });
});

// The webapi step (auth: windows): the TypeScript side retries what PowerShell reports, so the matrix runs the
// WindowsTransport with a stand-in for the PowerShell process that reports what the real script reports (status and
// headers; no status when there was no answer); one real pwsh run then shows the script reports each fault so.
describe('PowerShell step webapi (auth: windows): every fault', { concurrency: 5 }, () => {
  async function windowsCell(fault: FaultKind, times: number) {
    const emulator = await startD365Emulator({
      tls,
      auth: { mode: 'negotiate' },
      mailboxes: 4,
      testAndEnable: { delayMs: 0 },
      faults: [d365Fault(D365_CALLS[1]!, fault, times)],
    });
    try {
      const processes: number[] = [];
      const invoke: PowerShellWebApiInvoker = async (requests) => {
        processes.push(requests.length);
        const answers = [];
        for (const [index, req] of requests.entries()) {
          let res;
          try {
            res = await sendWithRetry(
              {
                method: req.method as 'GET',
                url: req.url,
                headers: { ...req.headers, authorization: `Negotiate ${emulator.negotiateToken}` },
                body: req.body,
              },
              { ca: tls.caPem, maxAttempts: 1, timeoutMs: TIMEOUT_MS },
            );
          } catch (error) {
            // What createWebApiInvoker does with an answer the script reports without a status.
            throw new Error(
              `Web API request ${index + 1} (${req.method} ${req.url}) got no response: ${(error as Error).message}`,
              { cause: error },
            );
          }
          answers.push({ status: res.status, headers: res.headers, body: res.body });
        }
        return answers;
      };
      const config = ConfigSchema.parse({
        ...d365Config(emulator),
        deployment: { ...d365Config(emulator).deployment, webApi: { auth: 'windows', url: emulator.url } },
      });
      const delays: number[] = [];
      const context = (): PhaseContext => {
        const host = new TestHost();
        const crm = createCrmServices(
          config,
          host,
          {},
          {
            powershell: invoke,
            clock: fakeClock(),
            retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 60_000, sleep: async (ms) => void delays.push(ms) },
          },
        );
        return { config, host, inputs: {}, now: new Date(), services: { crm } };
      };
      const first = await run('configure-mailboxes', context());
      const hits = emulator.requests.faultsFired;
      let rerun: PhaseRun | undefined;
      if (first.record.status !== 'succeeded') {
        assertClean(first, `webapi × ${fault}`);
        emulator.faults.clear();
        rerun = await run('configure-mailboxes', context());
      }
      assert.equal((rerun ?? first).record.status, 'succeeded', (rerun ?? first).record.error);
      assert.deepEqual(d365Problems(emulator, true), []);
      return { first, hits, delays };
    } finally {
      await emulator.close();
    }
  }

  for (const fault of FAULTS) {
    it(`webapi (GET WhoAmI through PowerShell) × ${fault}`, async () => {
      const once = await windowsCell(fault, 1);
      assert.equal(once.hits, 1);
      if (fault === '429' && once.first.record.status === 'succeeded')
        assert.ok(once.delays.includes(RETRY_AFTER_SECONDS * 1000), `Retry-After not honoured: ${once.delays}`);
      const always = await windowsCell(fault, 1_000);
      report.powershell.record(
        'webapi (auth: windows)',
        fault,
        `${once.first.record.status === 'succeeded' ? 'retried' : 'clean fail'} · ${always.first.record.status === 'succeeded' ? 'survived' : 'clean fail'}`,
      );
    });
  }

  it('the real script reports each fault as the stand-in does: the status and Retry-After, no status without an answer', async () => {
    const serverTls = makeSandboxTls(['localhost'], ['127.0.0.1']);
    const dir = mkdtempSync(join(tmpdir(), 'd365-reliability-webapi-'));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, serverTls.caPem);
    const held: Socket[] = [];
    const server = createHttpsServer({ key: serverTls.keyPem, cert: serverTls.certPem }, (req, res) => {
      const body = JSON.stringify({ '@odata.context': 'x', value: [] });
      if (req.url === '/429')
        res
          .writeHead(429, { 'retry-after': String(RETRY_AFTER_SECONDS), 'content-type': 'application/json' })
          .end('{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}');
      else if (req.url === '/503')
        res.writeHead(503, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>');
      else if (req.url === '/reset') req.socket.destroy();
      else if (req.url === '/timeout') held.push(req.socket);
      else res.writeHead(200, { 'content-type': 'application/json; odata.metadata=minimal' }).end(body.slice(0, 12));
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const result = await invokePowerShellPhase(
        {
          phase: 'webapi',
          mode: 'apply',
          parameters: {
            requests: FAULTS.map((fault, index) => ({
              id: String(index + 1),
              method: 'GET',
              url: `${base}/${fault}`,
              headers: { Accept: 'application/json' },
            })),
            timeoutSec: 1,
          },
          timeoutMs: 120_000,
        },
        {
          env: { ...process.env, SSL_CERT_FILE: caFile },
          onLine: () => undefined,
          mask: (text) => text,
          tempRoot: dir,
        },
      );
      const responses = result.evidence.responses as Array<{
        status: number;
        headers: Record<string, unknown>;
        body: unknown;
        error?: string;
      }>;
      const byFault = Object.fromEntries(FAULTS.map((fault, index) => [fault, responses[index]!]));
      assert.equal(byFault['429']!.status, 429);
      const headers = Object.fromEntries(
        Object.entries(byFault['429']!.headers).map(([k, v]) => [k.toLowerCase(), String(v)]),
      );
      assert.equal(headers['retry-after'], String(RETRY_AFTER_SECONDS));
      assert.equal(byFault['503']!.status, 503);
      for (const fault of ['reset', 'timeout'] as const) {
        assert.equal(byFault[fault]!.status, 0, `${fault}: ${JSON.stringify(byFault[fault])}`);
        assert.ok(byFault[fault]!.error, `${fault}: no error text`);
      }
      assert.equal(byFault.malformed!.status, 200);
      assert.equal(String(byFault.malformed!.body), JSON.stringify({ '@odata.context': 'x', value: [] }).slice(0, 12));
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((done) => server.close(done));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------ killed in the middle of a phase

describe('killed in the middle of a phase (the CLI bundle as a process), then rerun', () => {
  let world: World;
  before(() => void builtCli());
  after(() => world?.close());

  const pfx = () => ['--pfx', world.pfxFile, '--password-env', PFX_PASSWORD_ENV];
  const cliRun = (phaseId: string, extra: string[] = []) => [
    'run',
    '--config',
    world.configFile,
    '--phase',
    phaseId,
    '--json',
    ...extra,
  ];

  it('register-entra: killed after Graph applied the PATCH, before its answer came back: the rerun converges', async () => {
    world = await startWorld();
    world.entra.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: theirs.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const theirsKey = structuredClone(world.entra.state.dynamics().keyCredentials[0]);
    world.entra.faults.add({ endpoint: 'sp-patch', kind: 'slow', delayMs: 5_000, afterHandling: true });
    const child = spawnCli(cliRun('register-entra', pfx()), world.env, world.dir);
    await waitFor(() => world.entra.state.dynamics().keyCredentials.length === 2, 'the PATCH to land');
    child.child.kill('SIGKILL');
    assert.equal((await child.exited).signal, 'SIGKILL');
    assert.deepEqual(entraProblems(world.entra, theirsKey, false), []);
    world.entra.faults.clear();
    const rerun = await world.cli(cliRun('register-entra', pfx()));
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.deepEqual(entraProblems(world.entra, theirsKey, true), []);
    const steps = (JSON.parse(rerun.stdout) as { steps: { id: string; status: string }[] }).steps;
    assert.equal(steps.find((step) => step.id === 'entra.key-credential')?.status, 'unchanged');
    await world.close();
  });

  it('retire-previous: killed after Graph removed the superseded key: the rerun converges, the current key stays', async () => {
    world = await startWorld();
    world.entra.state.addKeyCredential(DYNAMICS_APP_ID, {
      certificate: theirs.x509,
      displayName: 'CN=crm.contoso.com',
    });
    const theirsKey = structuredClone(world.entra.state.dynamics().keyCredentials[0]);
    const previous = makeLeaf({
      keySlot: 'reliability-renewal',
      notBefore: new Date(Date.now() - 100 * 86_400_000),
      notAfter: new Date(Date.now() + 60 * 86_400_000),
    });
    const previousFile = join(world.dir, 'previous.pfx');
    writeFileSync(previousFile, makePfx(previous, { password: PFX_PASSWORD, encoding: 'forge-3des' }));
    for (const file of [previousFile, world.pfxFile]) {
      const added = await world.cli(cliRun('register-entra', ['--pfx', file, '--password-env', PFX_PASSWORD_ENV]));
      assert.equal(added.code, 0, added.stdout + added.stderr);
    }
    assert.equal(world.entra.state.dynamics().keyCredentials.length, 3);
    world.entra.faults.add({ endpoint: 'sp-patch', kind: 'slow', delayMs: 5_000, afterHandling: true });
    const child = spawnCli(cliRun('retire-previous', [...pfx(), '--set', 'verified=true']), world.env, world.dir);
    await waitFor(() => world.entra.state.dynamics().keyCredentials.length === 2, 'the removal to land');
    child.child.kill('SIGKILL');
    await child.exited;
    assert.deepEqual(entraProblems(world.entra, theirsKey, true), []);
    world.entra.faults.clear();
    const rerun = await world.cli(cliRun('retire-previous', [...pfx(), '--set', 'verified=true']));
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.deepEqual(entraProblems(world.entra, theirsKey, true), []);
    const keys = world.entra.state.dynamics().keyCredentials;
    assert.ok(!keys.some((k) => k.key === previous.der.toString('base64')), 'the superseded key came back');
    await world.close();
  });

  it('configure-mailboxes: killed between two $batch requests: the rerun converges', async () => {
    world = await startWorld({ mailboxes: 6 });
    const doc = world.configDocument();
    doc.deployment.webApi.batchSize = 1;
    const config = world.writeConfig('batch-of-one.yml', doc);
    world.d365.faults.add({
      kind: 'slow',
      delayMs: 5_000,
      afterProcessing: true,
      skip: 2,
      match: { method: 'POST', path: /^\$batch/ },
    });
    const child = spawnCli(['run', '--config', config, '--phase', 'configure-mailboxes'], world.env, world.dir);
    await waitFor(() => world.d365.requests.faultsFired === 1, 'the third $batch');
    child.child.kill('SIGKILL');
    await child.exited;
    assert.deepEqual(d365Problems(world.d365, false), []);
    assert.ok(d365Problems(world.d365, true).length > 0, 'the kill came after the phase was done');
    world.d365.faults.clear();
    const rerun = await world.cli(['run', '--config', config, '--phase', 'configure-mailboxes']);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.deepEqual(d365Problems(world.d365, true), []);
    await world.close();
  });

  it('install-certificate: the CLI and its PowerShell process killed in the middle: the rerun converges', async () => {
    world = await startWorld();
    const temp = mkdtempSync(join(tmpdir(), 'd365-reliability-kill-'));
    try {
      const child = spawnCli(cliRun('install-certificate', pfx()), { ...world.env, TMPDIR: temp }, world.dir);
      let pwshPid: number | undefined;
      await waitFor(() => {
        pwshPid = Number(/PowerShell process (\d+) started/.exec(child.stderr())?.[1]) || undefined;
        return pwshPid !== undefined;
      }, 'PowerShell to start');
      // The fake server keeps its state in a JSON file it rewrites after each cmdlet; a kill in the middle of that
      // write leaves half a file, which a real certificate store (transactional per operation) never does. The
      // last complete state seen stands in for the server after the kill.
      let lastComplete = '';
      await waitFor(() => {
        try {
          const text = readFileSync(world.windowsState, 'utf8');
          JSON.parse(text);
          lastComplete = text;
        } catch {
          // not there yet, or being written
        }
        return /"Add-D365MachineCertificate"/.test(lastComplete) || !alive(pwshPid);
      }, 'the certificate import');
      for (const pid of [pwshPid, child.child.pid]) {
        try {
          process.kill(pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await child.exited;
      await waitFor(() => !alive(pwshPid), 'PowerShell to be gone');
      try {
        JSON.parse(readFileSync(world.windowsState, 'utf8'));
      } catch {
        writeFileSync(world.windowsState, lastComplete);
      }
      const rerun = await world.cli(cliRun('install-certificate', pfx()));
      assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
      assert.deepEqual(
        WINDOWS_PHASES[0]!.converged(JSON.parse(readFileSync(world.windowsState, 'utf8')) as FakeServerState),
        [],
      );
    } finally {
      rmSync(temp, { recursive: true, force: true });
      await world.close();
    }
  });
});
