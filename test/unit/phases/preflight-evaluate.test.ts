// Preflight's Entra ID and D365 findings from a read state, without Graph or the Web API.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema, type Config } from '../../../src/config/schema.js';
import { certificateFacts } from '../../../src/graph/key-credentials.js';
import type { CallerInfo } from '../../../src/phases/mailboxes/caller.js';
import { evaluateD365Preflight } from '../../../src/phases/preflight/d365-evaluate.js';
import { neededPrivileges } from '../../../src/phases/mailboxes/caller.js';
import {
  evaluateEntraPreflight,
  SIGN_IN_FAILED,
  type EntraPreflightState,
} from '../../../src/phases/preflight/entra-evaluate.js';
import type { Finding } from '../../../src/phases/preflight/check.js';
import { makeLeaf } from '../../support/certs.js';
import { storedKey as stored } from '../support/key-credentials.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T10:00:00Z');
const at = (days: number) => new Date(NOW.getTime() + days * DAY);
const APP = '00000007-0000-0000-c000-000000000000';
const TENANT = '11111111-2222-3333-4444-555555555555';

const config: Config = ConfigSchema.parse({
  deployment: {
    url: 'https://crm.contoso.com/contoso',
    organization: 'contoso',
    servers: [{ name: 'CRMAPP01', roles: ['web', 'async', 'deployment-tools'] }],
    serviceAccounts: { async: 'CONTOSO\\svc-crm-async', web: 'CONTOSO\\svc-crm-web' },
  },
  tenant: {
    id: TENANT,
    rootDomain: 'contoso.com',
    auth: { method: 'client-secret', clientId: '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a', secretEnv: 'SECRET' },
  },
});

const inUse = makeLeaf({ notBefore: at(-300), notAfter: at(20) });
const later = makeLeaf({ notBefore: at(-10), notAfter: at(10) });
const fresh = makeLeaf({ notBefore: at(-1), notAfter: at(365) });

function state(overrides: Partial<EntraPreflightState> = {}): EntraPreflightState {
  return {
    clientId: 'client',
    signIn: {
      value: { appId: 'client', tenantId: TENANT, roles: ['Application.ReadWrite.All', 'Organization.Read.All'] },
    },
    organization: { value: { id: TENANT, displayName: 'Contoso', verifiedDomains: [{ name: 'contoso.com' }] } },
    servicePrincipal: {
      value: {
        servicePrincipal: {
          id: 'sp',
          appId: APP,
          displayName: 'Dynamics CRM',
          servicePrincipalNames: [APP],
          keyCredentials: [],
        },
        keys: [stored(inUse), stored(later)],
      },
    },
    certificate: { value: certificateFacts(fresh.x509) },
    policy: { notRead: 'no Policy.Read.All' },
    ...overrides,
  };
}

const wanted = { config, appId: APP };
const finding = (findings: [string, Finding][], name: string) => findings.find(([n]) => n === name)![1];

describe('preflight evaluation: Entra ID', () => {
  it('passes a signed-in app with the roles in the right tenant, and hands on the tenant id', () => {
    const { findings, outputs } = evaluateEntraPreflight(state(), wanted, NOW);
    assert.deepEqual(
      findings.map(([name, f]) => [name, f.status]),
      [
        ['signIn', 'unchanged'],
        ['permissions', 'unchanged'],
        ['tenant', 'unchanged'],
        ['servicePrincipal', 'unchanged'],
        ['expiry', 'unchanged'],
        ['policy', 'not-checked'],
      ],
    );
    assert.deepEqual(outputs, { 'tenant-id': TENANT });
    // The names register-entra would add are a warning here, not a failure.
    assert.match(
      finding(findings, 'servicePrincipal').warnings![0]!,
      /\/\*\.contoso\.com missing: register-entra adds them/,
    );
  });

  it('names the missing application permissions', () => {
    const { findings } = evaluateEntraPreflight(
      state({ signIn: { value: { appId: 'client', roles: ['Organization.Read.All'] } } }),
      wanted,
      NOW,
    );
    assert.match(
      finding(findings, 'permissions').error!,
      /lacks the application permission\(s\) Application\.ReadWrite\.All/,
    );
  });

  it('fails another tenant and gives no tenant id', () => {
    const { findings, outputs } = evaluateEntraPreflight(
      state({ organization: { value: { id: 'other', displayName: null, verifiedDomains: [] } } }),
      wanted,
      NOW,
    );
    assert.match(finding(findings, 'tenant').error!, /wrong tenant/);
    assert.deepEqual(outputs, {});
  });

  it('after a failed sign-in, lists the other checks as not checked with the reason', () => {
    const { findings } = evaluateEntraPreflight(
      {
        clientId: 'client',
        signIn: { error: 'AADSTS7000215' },
        certificate: { value: undefined },
        policy: { notRead: SIGN_IN_FAILED },
      },
      wanted,
      NOW,
    );
    assert.deepEqual(
      findings.map(([name, f]) => [name, f.status, f.reason ?? f.error]),
      [
        ['signIn', 'failed', 'AADSTS7000215'],
        ['permissions', 'not-checked', SIGN_IN_FAILED],
        ['tenant', 'not-checked', SIGN_IN_FAILED],
        ['servicePrincipal', 'not-checked', SIGN_IN_FAILED],
        ['expiry', 'not-checked', SIGN_IN_FAILED],
        ['policy', 'not-checked', SIGN_IN_FAILED],
      ],
    );
  });

  it('takes the valid key that ends last as the one in use, or the one of the thumbprint input', () => {
    const chosen = (thumbprint?: string) =>
      (
        finding(evaluateEntraPreflight(state(), { ...wanted, thumbprint }, NOW).findings, 'expiry').after as {
          currentKey: { thumbprint: string; chosenBy: string; daysLeft: number };
        }
      ).currentKey;
    assert.equal(chosen().thumbprint, inUse.thumbprint);
    assert.equal(chosen().chosenBy, 'valid key ending last');
    assert.equal(chosen(later.thumbprint).thumbprint, later.thumbprint);
    assert.equal(chosen(later.thumbprint).chosenBy, 'thumbprint input');
  });

  it('warns when the key in use has under 30 days left, and fails an expired new certificate', () => {
    const expiry = finding(evaluateEntraPreflight(state(), wanted, NOW).findings, 'expiry');
    assert.match(expiry.warnings![0]!, /the current key .* expires in 20 days/);
    const expired = finding(evaluateEntraPreflight(state(), wanted, at(400)).findings, 'expiry');
    assert.equal(expired.status, 'failed');
    assert.match(expired.error!, /the new certificate .* expired on/);
  });

  it('says the expiry is not checked when the keys could not be read', () => {
    const expiry = finding(
      evaluateEntraPreflight(state({ servicePrincipal: { error: '403 Forbidden' } }), wanted, NOW).findings,
      'expiry',
    );
    assert.equal(expiry.status, 'not-checked');
    assert.match(expiry.reason!, /could not be read/);
  });

  it('names what the tenant default app management policy would refuse about the new key', () => {
    const policy = {
      value: {
        isEnabled: true,
        applicationKeyRestrictions: [],
        servicePrincipalKeyRestrictions: [{ restrictionType: 'asymmetricKeyLifetime', maxLifetime: 'P90D' }],
      },
    };
    const result = finding(evaluateEntraPreflight(state({ policy }), wanted, NOW).findings, 'policy');
    assert.equal(result.status, 'unchanged');
    assert.match(result.warnings![0]!, /certificates may live at most P90D, the new one lives 366 days/);
  });
});

describe('preflight evaluation: D365', () => {
  const caller: CallerInfo = {
    userId: 'u1',
    organizationId: 'org1',
    businessUnitId: 'bu1',
    systemAdministrator: true,
    roles: ['System Administrator'],
    privileges: {},
    missing: [],
    depths: {},
    shallow: [],
  };
  const where = { apiBase: 'https://crm.contoso.com/contoso/api/data/v9.1/', transport: 'windows' };
  const settings = { organizationDefault: true, approve: true };

  it('passes an administrator holding the privileges, and hands on the organization id', () => {
    const { findings, outputs } = evaluateD365Preflight({ caller, ...where }, settings);
    assert.deepEqual(
      findings.map(([, f]) => f.status),
      ['unchanged', 'unchanged', 'unchanged', 'unchanged'],
    );
    assert.deepEqual(outputs, { 'organization-id': 'org1' });
  });

  it('needs prvWriteOrganization and the approval privilege only when the config uses them', () => {
    assert.equal(neededPrivileges(settings).includes('prvWriteOrganization'), true);
    const lean = neededPrivileges({ organizationDefault: false, approve: false });
    assert.equal(lean.includes('prvWriteOrganization'), false);
    assert.equal(
      lean.some((p) => /Approve/i.test(p)),
      false,
    );
  });

  it('needs Append on the mailbox and Append To on the profile whatever the config (binding a mailbox to its profile)', () => {
    for (const needed of [
      neededPrivileges(settings),
      neededPrivileges({ organizationDefault: false, approve: false }),
    ]) {
      assert.ok(needed.includes('prvAppendMailbox'));
      assert.ok(needed.includes('prvAppendToEmailServerProfile'));
    }
  });

  it('finds a missing Append To privilege in preflight, as configure-mailboxes would', () => {
    const { findings } = evaluateD365Preflight(
      {
        caller: {
          ...caller,
          missing: [{ name: 'prvAppendToEmailServerProfile', label: 'Append To on Email Server Profile' }],
        },
        ...where,
      },
      settings,
    );
    assert.equal(findings[2]![1].error, 'missing: prvAppendToEmailServerProfile (Append To on Email Server Profile)');
  });

  it('fails a missing role and a missing privilege that is needed, ignoring one that is not', () => {
    const lacking: CallerInfo = {
      ...caller,
      systemAdministrator: false,
      missing: [
        { name: 'prvWriteMailbox', label: 'Mailbox: Write' },
        { name: 'prvWriteOrganization', label: 'Organization: Write' },
      ],
    };
    const { findings } = evaluateD365Preflight(
      { caller: lacking, ...where },
      { organizationDefault: false, approve: true },
    );
    assert.match(findings[1]![1].error!, /System Administrator role/);
    assert.equal(findings[2]![1].error, 'missing: prvWriteMailbox (Mailbox: Write)');
  });

  it('after a failed WhoAmI, says where it went and lists the rest as not checked', () => {
    const { findings, outputs } = evaluateD365Preflight(
      { error: 'ECONNREFUSED', unreachable: true, ...where },
      settings,
    );
    assert.match(findings[0]![1].error!, /ECONNREFUSED \(Web API .*, transport windows\)/);
    assert.match(findings[0]![1].warnings![0]!, /could not be reached/);
    assert.deepEqual(
      findings.slice(1).map(([, f]) => f.status),
      ['not-checked', 'not-checked', 'not-checked'],
    );
    assert.equal(outputs, undefined);
    const answered = evaluateD365Preflight({ error: '401', unreachable: false, ...where }, settings);
    assert.equal(answered.findings[0]![1].warnings, undefined);
  });
});
