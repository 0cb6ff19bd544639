// configure-exchange end to end: the Exchange Online token from the Entra emulator (the same app and client secret as
// the Graph phases), the module under pwsh with the fake Exchange Online tenant, plan, apply and a rerun through the
// runner, the token only in the child's environment, and the refusals (no Exchange.ManageAsApp, after 2027-04-01).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema, type Config } from '../../../src/config/schema.js';
import type { PhaseContext, StepResult } from '../../../src/phases/phase.js';
import { configureExchangePhase } from '../../../src/phases/configure-exchange.js';
import { createExchangeServices } from '../../../src/graph/exchange-service.js';
import { createWindowsServices } from '../../../src/phases/windows/powershell-service.js';
import { runPhase } from '../../../src/phases/runner.js';
import type { SpawnInfo } from '../../../src/powershell/types.js';
import type { EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import type { FakeExchangeTenant } from '@d365-exo-sync/sandbox/demo/sandbox';
import { FAKE_SERVER_MODULE_PATH } from '@d365-exo-sync/sandbox';
import { TestHost } from '../../support/test-host.js';
import { suiteOptions } from '../powershell/helpers.js';
import {
  CLIENT_SECRET,
  FAST_HTTP,
  FULL_ROLES,
  SECRET_ENV,
  sandboxConfig,
  sandboxTls,
  startSandbox,
} from '../entra/sandbox.js';

const DYNAMICS = '00000007-0000-0000-c000-000000000000';
const OTHER = '4a5b6c7d-1111-4222-8333-944455556666';
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./;

describe('configure-exchange with the fake Exchange Online tenant', suiteOptions(), () => {
  let emulator: EntraEmulator;
  let work: string;
  let stateFile: string;
  let config: Config;
  const spawned: SpawnInfo[] = [];

  const tenant = () => JSON.parse(readFileSync(stateFile, 'utf8')) as FakeExchangeTenant;
  const context = (host: TestHost, now = new Date(), cfg = config): PhaseContext => ({
    config: cfg,
    host,
    inputs: {},
    now,
    services: {
      exchange: createExchangeServices(
        cfg,
        host,
        { [SECRET_ENV]: CLIENT_SECRET },
        { ca: sandboxTls().caPem, http: FAST_HTTP },
      ),
      windows: createWindowsServices(
        host,
        { ...process.env, FAKE_EXCHANGE_STATE_FILE: stateFile },
        {
          computerName: 'RUNNER01',
          modulePath: FAKE_SERVER_MODULE_PATH,
          timeoutMs: 120_000,
          onSpawn: (s) => spawned.push(s),
        },
      ),
    },
  });
  const run = (ctx: PhaseContext, mode: 'plan' | 'apply') =>
    runPhase(configureExchangePhase, ctx, { mode, configHash: 'sha256:test', recordDir: join(work, 'records') });
  const step = (steps: unknown[], id: string) => (steps as StepResult[]).find((s) => s.id === id)!;

  before(async () => {
    emulator = await startSandbox({ roles: [...FULL_ROLES, 'Exchange.ManageAsApp'] });
    work = mkdtempSync(join(tmpdir(), 'configure-exchange-'));
    stateFile = join(work, 'tenant.json');
    const tenantState: FakeExchangeTenant = {
      organization: 'contoso.onmicrosoft.com',
      ewsEnabled: true,
      allowedAppIds: OTHER,
      policy: null,
      allowList: [],
      blockList: [],
      mailboxes: [
        { primary: 'anna@contoso.com', proxies: ['SMTP:anna@contoso.com'], ewsEnabled: true },
        { primary: 'ben@contoso.com', proxies: ['SMTP:ben@contoso.com'], ewsEnabled: false },
      ],
      calls: [],
    };
    writeFileSync(stateFile, JSON.stringify(tenantState));
    const base = sandboxConfig(emulator);
    config = ConfigSchema.parse({
      ...base,
      exchange: { organization: 'contoso.onmicrosoft.com' },
      email: { mailboxes: { select: 'addresses', addresses: ['anna@contoso.com', 'ben@contoso.com'] } },
    });
  });

  after(async () => {
    await emulator.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('plan reads the tenant through the module and changes nothing', async () => {
    const host = new TestHost();
    const { record } = await run(context(host), 'plan');
    assert.equal(record.status, 'succeeded', record.error);
    const allowed = step(record.steps, 'exchange.allowed-app-ids') as unknown as { action: string; after: string[] };
    assert.equal(allowed.action, 'update');
    assert.deepEqual(allowed.after, [OTHER, DYNAMICS]);
    assert.equal(tenant().allowedAppIds, OTHER);
    assert.deepEqual(
      tenant()
        .calls.map((c) => c.name)
        .filter((n) => n.startsWith('Set-')),
      [],
    );
  });

  it('apply adds the Dynamics app id keeping the other, reports the blocked mailbox, and says when it is in effect', async () => {
    const host = new TestHost();
    const { record } = await run(context(host), 'apply');
    assert.equal(record.status, 'succeeded', record.error);
    assert.equal(step(record.steps, 'exchange.allowed-app-ids').status, 'changed');
    assert.equal(tenant().allowedAppIds, `${OTHER},${DYNAMICS}`);
    const mailboxes = step(record.steps, 'exchange.mailboxes');
    assert.equal(mailboxes.status, 'skipped');
    assert.match(JSON.stringify(mailboxes.evidence), /ben@contoso\.com.*exchange\.ews\.enableMailboxes/);
    assert.match(record.outputs['ews-effective-after']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const hours = (Date.parse(record.outputs['ews-effective-after']!) - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `${hours} hours`);
    assert.match(
      record.outputs['ews-state']!,
      /lists the Dynamics app \(2 ids\).*1 synchronized mailbox with EWS off: D365 allowed/,
    );
    assert.match(JSON.stringify(record.steps[0]), /up to 24 hours/);
  });

  it('a rerun changes nothing', async () => {
    const host = new TestHost();
    const before = tenant().calls.length;
    const { record } = await run(context(host), 'apply');
    assert.equal(record.status, 'succeeded', record.error);
    assert.deepEqual(
      (record.steps as StepResult[]).filter((s) => s.status === 'changed').map((s) => s.id),
      [],
    );
    assert.equal(record.outputs['ews-effective-after'], '');
    const calls = tenant()
      .calls.slice(before)
      .map((c) => c.name);
    assert.ok(!calls.some((n) => n.startsWith('Set-')), calls.join(', '));
  });

  it("the token goes to PowerShell only through its environment: not in argv, records, log or the tenant's call log", () => {
    assert.ok(spawned.length >= 3);
    for (const s of spawned) assert.doesNotMatch(s.args.join(' '), JWT);
    const connects = tenant().calls.filter((c) => c.name === 'Connect-ExchangeOnline');
    assert.ok(connects.length >= 3);
    for (const c of connects) {
      assert.equal(c.args.AccessToken, '<token>');
      assert.equal(c.args.Organization, 'contoso.onmicrosoft.com');
    }
    const records = join(work, 'records');
    const files = readdirSync(records).map((name) => join(records, name));
    assert.ok(files.length >= 3);
    for (const file of files) assert.doesNotMatch(readFileSync(file, 'utf8'), JWT, file);
  });

  it('an app without Exchange.ManageAsApp fails at sign-in with what to grant, and changes nothing', async () => {
    emulator.state.setRoles(config.tenant.auth.clientId, FULL_ROLES);
    try {
      writeFileSync(stateFile, JSON.stringify({ ...tenant(), allowedAppIds: OTHER }));
      const host = new TestHost();
      const { record } = await run(context(host), 'apply');
      assert.equal(record.status, 'failed');
      assert.match(record.error ?? '', /Exchange\.ManageAsApp/);
      assert.equal(tenant().allowedAppIds, OTHER);
    } finally {
      emulator.state.setRoles(config.tenant.auth.clientId, [...FULL_ROLES, 'Exchange.ManageAsApp']);
    }
  });

  it('after 2027-04-01 it refuses in plan and apply without starting PowerShell, naming the supported paths', async () => {
    const count = spawned.length;
    for (const mode of ['plan', 'apply'] as const) {
      const { record } = await run(context(new TestHost(), new Date('2027-04-02T08:00:00Z')), mode);
      assert.equal(record.status, 'failed');
      assert.match(record.error ?? '', /shut down on 2027-04-01.*Dynamics 365 \(online\).*Exchange Server on-premises/);
    }
    assert.equal(spawned.length, count);
  });
});
