import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ewsCountdownLine,
  ewsShutdownReason,
  organizationAllows,
  tenantEwsState,
} from '../../../src/phases/exchange/countdown.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { exchangeOrganization } from '../../../src/graph/exchange-service.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { PHASES } from '../../../src/phases/registry.js';

const DYNAMICS = '00000007-0000-0000-c000-000000000000';
const OTHER = '4a5b6c7d-1111-4222-8333-944455556666';

test('the countdown line: days left until 2027-04-01 and the tenant state, or why the state was not read', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  const blocked = ewsCountdownLine(now, {
    state: { ewsEnabled: true, ewsAllowedAppIds: [OTHER], ewsApplicationAccessPolicy: null },
    appIds: [DYNAMICS],
    blockedMailboxes: 0,
  });
  assert.equal(
    blocked,
    'EWS in Exchange Online: 114 days left until 2027-04-01 (shutdown, no exceptions); tenant EwsEnabled true, ' +
      'EwsAllowedAppIDs lacks the Dynamics app (1 other id), no user-agent policy, 0 synchronized mailboxes with EWS off: D365 BLOCKED',
  );
  assert.match(
    ewsCountdownLine(now, {
      state: { ewsEnabled: true, ewsAllowedAppIds: [OTHER, DYNAMICS.toUpperCase()], ewsApplicationAccessPolicy: null },
      appIds: [DYNAMICS],
    }),
    /lists the Dynamics app \(2 ids\), no user-agent policy: D365 allowed$/,
  );
  assert.match(
    ewsCountdownLine(now, {
      state: { ewsEnabled: null, ewsAllowedAppIds: [], ewsApplicationAccessPolicy: 'EnforceAllowList' },
      appIds: [DYNAMICS],
    }),
    /EwsEnabled unset \(being switched to blocked\), EwsAllowedAppIDs empty \(no app-id restriction\), user-agent policy EnforceAllowList: D365 BLOCKED/,
  );
  assert.equal(
    ewsCountdownLine(new Date('2027-04-03T00:00:00Z'), { notRead: 'no module' }),
    'EWS in Exchange Online was shut down on 2027-04-01 (2 days ago); tenant EWS state not read (no module)',
  );
});

test('the organization lets D365 through only with EwsEnabled True and the app on a non-empty list (an empty list restricts nothing)', () => {
  const state = (ewsEnabled: boolean | null, ids: string[]) => ({
    ewsEnabled,
    ewsAllowedAppIds: ids,
    ewsApplicationAccessPolicy: null,
  });
  assert.equal(organizationAllows(state(true, []), [DYNAMICS]), true);
  assert.equal(organizationAllows(state(true, [OTHER]), [DYNAMICS]), false);
  assert.equal(organizationAllows(state(true, [OTHER, DYNAMICS]), [DYNAMICS]), true);
  assert.equal(organizationAllows(state(false, [DYNAMICS]), [DYNAMICS]), false);
  assert.equal(organizationAllows(state(null, []), [DYNAMICS]), false);
  // From the PowerShell result: a single id comes as a string, an unset EwsEnabled as null.
  assert.deepEqual(tenantEwsState({ ewsEnabled: null, ewsAllowedAppIds: OTHER, ewsApplicationAccessPolicy: null }), {
    ewsEnabled: null,
    ewsAllowedAppIds: [OTHER],
    ewsApplicationAccessPolicy: null,
    ewsAllowList: [],
    ewsBlockList: [],
  });
  assert.equal(tenantEwsState({ something: 1 }), undefined);
});

test('after 2027-04-01 every EWS phase refuses, saying why and what the supported paths are; the others do not', () => {
  const after = new Date('2027-04-01T00:00:01Z');
  // The runner asks ewsShutdownReason of the phases that declare writes.ews, and of no other.
  assert.deepEqual(
    PHASES.filter((p) => p.writes?.ews).map((p) => p.id),
    ['configure-exchange', 'configure-mailboxes', 'verify'],
  );
  for (const phase of ['configure-exchange', 'configure-mailboxes', 'verify']) {
    const reason = ewsShutdownReason(phase, after);
    assert.match(
      reason ?? '',
      new RegExp(`^${phase} needs EWS in Exchange Online, which Microsoft shut down on 2027-04-01`),
    );
    assert.match(reason ?? '', /Dynamics 365 \(online\).*Exchange Server on-premises/);
    assert.equal(ewsShutdownReason(phase, new Date('2027-03-31T23:59:59Z')), undefined);
  }
});

test('exchange.* is additive: defaults without the section, the organization from tenant.domain, a non-onmicrosoft domain refused', () => {
  const base = {
    deployment: {
      url: 'https://crm.contoso.com/contoso',
      organization: 'contoso',
      servers: [{ name: 'CRMAPP01', roles: ['web', 'async', 'deployment-tools'] }],
      serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
    },
    tenant: {
      domain: 'contoso.onmicrosoft.com',
      rootDomain: 'contoso.com',
      auth: { method: 'client-secret', clientId: '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a', secretEnv: 'S' },
    },
  };
  const config = ConfigSchema.parse(base);
  assert.deepEqual(config.exchange, {
    ews: { appIds: [DYNAMICS], enableOrganization: false, userAgents: [], enableMailboxes: false },
  });
  assert.equal(exchangeOrganization(config), 'contoso.onmicrosoft.com');
  const bad = ConfigSchema.safeParse({
    ...base,
    exchange: { organization: 'contoso.com', ews: { appIds: ['Dynamics'] } },
  });
  assert.equal(bad.success, false);
  const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.ok(
    messages.some((m) => /^exchange\.organization: must be the tenant's primary \.onmicrosoft\.com domain/.test(m)),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => /^exchange\.ews\.appIds\.0: must be a GUID/.test(m)),
    messages.join('\n'),
  );
  const pasted = ConfigSchema.safeParse({ ...base, exchange: { ews: { userAgents: ['CRM/*; Remove-Item'] } } });
  assert.equal(pasted.success, false);
});

test('the example config is valid and names the Exchange organization', () => {
  const loaded = loadConfigFile('examples/contoso.yml');
  assert.deepEqual(loaded.problems, []);
  assert.equal(loaded.config!.exchange.organization, 'contoso.onmicrosoft.com');
});
