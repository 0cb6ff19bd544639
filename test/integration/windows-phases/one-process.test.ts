// One PowerShell process per phase per server, counted with the invoker's onSpawn hook (and, independently, by the
// fake Windows server, which records every process that loads it): a whole renewal's Windows part (install-certificate
// on both D365 servers, configure-crm on the Deployment Tools server, configure-adfs on the AD FS server) through the
// phase runner with the service built by createWindowsServices. The child's environment is read back from /proc: it
// holds a one-time PFX password, never the pipeline's, and that one is masked wherever it could have gone.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../../src/config/load.js';
import type { Phase, PhaseContext } from '../../../src/phases/phase.js';
import { findPhase } from '../../../src/phases/registry.js';
import { runPhase } from '../../../src/phases/runner.js';
import { createWindowsServices } from '../../../src/phases/windows/powershell-service.js';
import type { SpawnInfo } from '../../../src/powershell/types.js';
import { TestHost } from '../../support/test-host.js';
import { FAKE_SERVER_MODULE_PATH } from '@d365-exo-sync/sandbox';
import {
  filesUnder,
  leftoverWorkspaces,
  makeWorkspace,
  newCertificate,
  ORG_ID,
  PFX_PASSWORD,
  requirePwsh,
  suiteOptions,
  TEST_TIMEOUT,
  type Workspace,
} from './support.js';

interface Spawned extends SpawnInfo {
  phase: string;
  server: string;
  /** The child's environment at start (Linux /proc), when readable. */
  environment?: Record<string, string>;
}

function environmentOf(pid: number | undefined): Record<string, string> | undefined {
  const file = `/proc/${pid}/environ`;
  if (pid === undefined || !existsSync(file)) return undefined;
  const entries = readFileSync(file, 'latin1')
    .split('\0')
    .filter((entry) => entry.includes('='))
    .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries);
}

describe('one PowerShell process per phase per server (onSpawn)', suiteOptions(), () => {
  let ws: Workspace;
  const spawned: Spawned[] = [];
  const hosts: TestHost[] = [];

  before(() => {
    requirePwsh();
    ws = makeWorkspace();
  });

  after(() => ws?.remove());

  it(
    'install-certificate on CRMAPP01 and CRMASYNC01, configure-crm on CRMAPP01, configure-adfs on ADFS01',
    { timeout: TEST_TIMEOUT * 2 },
    async (t) => {
      const loaded = loadConfigFile(ws.config('contoso.yml'));
      assert.ok(loaded.config, JSON.stringify(loaded.problems));
      const cert = newCertificate('one-process');
      const pfx = readFileSync(ws.pfx('new.pfx', cert));
      const recordDir = join(ws.dir, 'records-runner');
      mkdirSync(recordDir);

      const run = async (phaseId: string, server: string, inputs: Record<string, string> = {}) => {
        const phase: Phase = findPhase(phaseId)!;
        const host = new TestHost();
        hosts.push(host);
        host.registerSecret(PFX_PASSWORD);
        host.registerSecret(pfx);
        const env = { ...process.env, FAKE_WINDOWS_STATE_FILE: ws.server(server).file };
        const windows = createWindowsServices(host, env, {
          modulePath: FAKE_SERVER_MODULE_PATH,
          computerName: server,
          onSpawn: (info) => spawned.push({ ...info, phase: phaseId, server, environment: environmentOf(info.pid) }),
        });
        const ctx: PhaseContext = {
          config: loaded.config!,
          host,
          inputs,
          now: new Date(),
          certificate: { pfx, password: PFX_PASSWORD, source: 'file new.pfx' },
          services: { windows },
        };
        const { record } = await runPhase(phase, ctx, { mode: 'apply', configHash: 'sha256:test', recordDir });
        assert.equal(record.status, 'succeeded', `${phaseId} on ${server}: ${record.error}`);
        return record;
      };

      await run('install-certificate', 'CRMAPP01');
      await run('install-certificate', 'CRMASYNC01');
      const crm = await run('configure-crm', 'CRMAPP01');
      await run('configure-adfs', 'ADFS01', { 'organization-id': crm.outputs['organization-id']! });
      assert.equal(crm.outputs['organization-id'], ORG_ID);

      const perRun = new Map<string, number>();
      for (const s of spawned) perRun.set(`${s.phase}@${s.server}`, (perRun.get(`${s.phase}@${s.server}`) ?? 0) + 1);
      t.diagnostic(`PowerShell processes per phase@server: ${JSON.stringify(Object.fromEntries(perRun))}`);
      assert.deepEqual(Object.fromEntries(perRun), {
        'install-certificate@CRMAPP01': 1,
        'install-certificate@CRMASYNC01': 1,
        'configure-crm@CRMAPP01': 1,
        'configure-adfs@ADFS01': 1,
      });
      assert.equal(new Set(spawned.map((s) => s.pid)).size, 4, 'four distinct processes');
      // The other side of the count: each fake server saw exactly the processes of its phases.
      assert.deepEqual(
        ['CRMAPP01', 'CRMASYNC01', 'ADFS01'].map((server) => ws.server(server).processes()),
        [2, 1, 1],
      );
      // Each host logged exactly one "started" line: the audit trail of the count.
      for (const host of hosts) {
        assert.equal(host.lines.filter((line) => /^PowerShell process \d+ started: /.test(line)).length, 1);
      }
    },
  );

  it("the child gets a one-time PFX password, never the pipeline's, and neither is anywhere else", (t) => {
    const withPfx = spawned.filter((s) => s.phase !== 'configure-adfs');
    if (!withPfx.every((s) => s.environment)) {
      t.diagnostic("no /proc here: the children's environments could not be read; only the output checks ran");
    } else {
      const oneTime = withPfx.map((s) => {
        const values = Object.entries(s.environment!).filter(([name]) => name.startsWith('D365EXOSYNC_SECRET_'));
        assert.equal(values.length, 1, `${s.phase}@${s.server}: one secret in the environment`);
        assert.ok(
          !Object.values(s.environment!).some((value) => value.includes(PFX_PASSWORD)),
          'pipeline password in the child',
        );
        return values[0]![1];
      });
      assert.equal(new Set(oneTime).size, oneTime.length, 'a new password per process');
      for (const password of oneTime) {
        assert.ok(password.length >= 40);
        for (const host of hosts) assert.ok(!host.allText().includes(password), 'one-time password in a host output');
        for (const file of filesUnder(ws.dir)) {
          assert.ok(!readFileSync(file).includes(Buffer.from(password)), `one-time password in ${file}`);
        }
      }
      // The fake CertificateReconfiguration.ps1 echoed the password it got: masked.
      const crmHost = hosts[2]!;
      assert.ok(crmHost.lines.includes('certutil-like output: -p ***'), crmHost.lines.join('\n'));
    }
    for (const host of hosts) assert.ok(!host.allText().includes(PFX_PASSWORD));
    for (const file of filesUnder(ws.dir)) assert.ok(!readFileSync(file).includes(Buffer.from(PFX_PASSWORD)), file);
    assert.deepEqual(leftoverWorkspaces(ws), []);
  });
});
