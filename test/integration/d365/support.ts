// Shared set-up of the D365 integration tests: a config pointing at the emulator, a clock whose sleep
// only moves time on (no test waits for real poll intervals), and the D365 services for a TestHost.
import { ConfigSchema, type Config, type ConfigInput } from '../../../src/config/schema.js';
import { createCrmServices, type Clock, type CrmServices } from '../../../src/crm/client-factory.js';
import { sandboxWindowsTransport, type D365Emulator } from '@d365-exo-sync/sandbox/d365';
import type { PhaseContext } from '../../../src/phases/phase.js';
import { TestHost } from '../../support/test-host.js';

export interface FakeClock extends Clock {
  sleeps: number[];
}

export function fakeClock(start = Date.now()): FakeClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(now),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

type EmailInput = NonNullable<ConfigInput['email']>;

export function configFor(
  emulator: D365Emulator,
  options: {
    webApi?: Record<string, unknown>;
    email?: { profile?: EmailInput['profile']; mailboxes?: Record<string, unknown> };
    tenantId?: string | null;
  } = {},
): Config {
  const input = {
    deployment: {
      url: 'https://crm.contoso.com/contoso',
      organization: 'contoso',
      servers: [{ name: 'CRMAPP01', roles: ['web', 'async', 'deployment-tools'] }],
      serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
      webApi: { auth: 'windows', url: emulator.url, ...options.webApi },
    },
    tenant: {
      ...(options.tenantId === null
        ? { domain: 'contoso.onmicrosoft.com' }
        : { id: options.tenantId ?? '11111111-2222-3333-4444-555555555555' }),
      rootDomain: 'contoso.com',
      auth: { method: 'workload-identity', clientId: '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a' },
    },
    email: {
      profile: options.email?.profile ?? { name: 'Exchange Online (Hybrid)', autodiscover: true },
      mailboxes: { poll: { intervalSeconds: 30, timeoutMinutes: 30 }, ...options.email?.mailboxes },
    },
  };
  return ConfigSchema.parse(input);
}

export function windowsServices(emulator: D365Emulator, config: Config, host: TestHost, clock: Clock): CrmServices {
  return createCrmServices(
    config,
    host,
    {},
    {
      clock,
      transport: sandboxWindowsTransport(emulator, {
        timeoutMs: 10_000,
        retry: { sleep: clock.sleep, baseDelayMs: 10 },
      }),
    },
  );
}

export function contextFor(
  config: Config,
  host: TestHost,
  crm: CrmServices | undefined,
  inputs: Record<string, string> = {},
): PhaseContext {
  return { config, host, inputs, now: new Date(), services: crm ? { crm } : {} };
}
