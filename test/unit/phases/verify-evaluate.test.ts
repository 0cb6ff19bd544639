// verify's D365 decisions without the Web API: the findings on the profile, the organization default and each
// mailbox, and which mailboxes are re-tested.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EmailServerProfileRow } from '../../../src/crm/entities.js';
import { wantedProfile } from '../../../src/phases/mailboxes/profile.js';
import { mailbox, PROFILE, settings, TENANT } from '../support/mailboxes.js';
import {
  evaluateOrganizationDefault,
  evaluateProfile,
  mailboxVerdict,
  retestTargets,
  setupProblems,
} from '../../../src/phases/mailboxes/verify-evaluate.js';

const profileRow = (overrides: Partial<EmailServerProfileRow> = {}) =>
  ({
    emailserverprofileid: PROFILE,
    name: settings.profileName,
    exchangeonlinetenantid: TENANT,
    ...(wantedProfile(settings) as Partial<EmailServerProfileRow>),
    ...overrides,
  }) as EmailServerProfileRow;

describe('verify evaluation: the profile and the organization default', () => {
  it('passes a profile as configure-mailboxes leaves it, and fails one that differs, naming the fields', () => {
    const ok = evaluateProfile(settings, [profileRow()], TENANT);
    assert.equal(ok.profileId, PROFILE);
    assert.equal(ok.finding.status, 'unchanged');
    const differs = evaluateProfile(settings, [profileRow({ incomingusessl: false })], TENANT);
    assert.equal(differs.finding.status, 'failed');
    assert.match(differs.finding.error!, /differs from the configuration in incomingusessl: run configure-mailboxes/);
  });

  it('fails when there is no profile, and when two share the name; warns on another tenant', () => {
    assert.match(evaluateProfile(settings, [], TENANT).finding.error!, /there is no such profile/);
    const two = evaluateProfile(settings, [profileRow(), profileRow({ emailserverprofileid: 'x' })], TENANT);
    assert.equal(two.profileId, undefined);
    assert.match(two.finding.error!, /2 email server profiles are named/);
    const other = evaluateProfile(settings, [profileRow()], 'ffffffff-0000-0000-0000-000000000000');
    assert.equal(other.finding.status, 'unchanged');
    assert.match(other.finding.warnings![0]!, /not the tenant/);
  });

  it('fails an organization default that is another profile', () => {
    assert.equal(evaluateOrganizationDefault(PROFILE.toUpperCase(), PROFILE, settings).status, 'unchanged');
    assert.match(evaluateOrganizationDefault(null, PROFILE, settings).error!, /default profile is not/);
  });
});

describe('verify evaluation: the mailboxes', () => {
  it('finds nothing on a mailbox configure-mailboxes has set up', () => {
    assert.deepEqual(setupProblems(mailbox(), PROFILE, settings), []);
  });

  it('names each thing configure-mailboxes would still change', () => {
    const problems = setupProblems(mailbox({ incoming: 1, act: 0, profileId: null, approval: 2 }), PROFILE, settings);
    assert.deepEqual(problems, [
      'incoming email is not on server-side synchronization',
      'appointments, contacts and tasks are not on server-side synchronization',
      `the mailbox does not use the profile "${settings.profileName}"`,
      'the email address is not approved',
    ]);
    assert.deepEqual(setupProblems(mailbox(), undefined, settings), [
      `the mailbox does not use the profile "${settings.profileName}"`,
    ]);
  });

  it('ignores ACT for queues and approval when approving is off', () => {
    const queue = mailbox({ ownerType: 'queue', act: 0, approval: 0 });
    assert.deepEqual(setupProblems(queue, PROFILE, { ...settings, approve: false }), []);
  });

  it('re-tests only the mailboxes that are set up, and none when retest or Test & Enable is off', () => {
    const records = [mailbox({ id: 'a' }), mailbox({ id: 'b', outgoing: 0 })];
    const problems = new Map(records.map((r) => [r.id, setupProblems(r, PROFILE, settings)]));
    assert.deepEqual(
      retestTargets(records, problems, true, settings).map((r) => r.id),
      ['a'],
    );
    assert.deepEqual(retestTargets(records, problems, false, settings), []);
    assert.deepEqual(retestTargets(records, problems, true, { ...settings, testAndEnable: false }), []);
  });

  it('judges a re-tested mailbox by the new result, one not re-tested by its last result', () => {
    const failedNow = mailbox({ incomingStatus: 2 });
    const base = { setupProblems: [], timedOut: false };
    assert.equal(mailboxVerdict(failedNow, { ...base, tested: true }, settings).failed, true);
    assert.equal(mailboxVerdict(failedNow, { ...base, tested: false }, settings).failed, true);
    assert.equal(mailboxVerdict(mailbox(), { ...base, tested: false }, settings).failed, false);
    assert.equal(mailboxVerdict(mailbox(), { ...base, tested: true, timedOut: true }, settings).failed, true);
  });

  it('fails a mailbox that is not set up, or whose re-test could not be scheduled, with the error to show', () => {
    const notSetUp = mailboxVerdict(mailbox(), { setupProblems: ['x'], tested: false, timedOut: false }, settings);
    assert.deepEqual(notSetUp, { failed: true, writeError: 'not set up: x — run configure-mailboxes' });
    const refused = mailboxVerdict(
      mailbox(),
      { setupProblems: [], scheduleError: 'Principal user is missing prvWriteMailbox', tested: false, timedOut: false },
      settings,
    );
    assert.deepEqual(refused, { failed: true, writeError: 'Principal user is missing prvWriteMailbox' });
  });
});
