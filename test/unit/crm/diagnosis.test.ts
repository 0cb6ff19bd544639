import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../../src/phases/mailboxes/diagnosis.js';
import { failureFor, type FailurePreset } from '@d365-exo-sync/sandbox/d365/failures';
import { errorCodeHex } from '../../../src/phases/mailboxes/report.js';

test('EWS blocked by policy is diagnosed as such, names EwsAllowedAppIDs, the Dynamics app id, the user-agent policy, 24 hours, and that it is unconfirmed', () => {
  const d = diagnose(
    'Email Server Error Code: Http server returned Forbidden exception.',
    'HTTP 403 X-EWS-Policy-Reason: EWS is blocked by policy for this user or tenant',
  );
  assert.equal(d?.id, 'ews-blocked');
  assert.match(d!.fix, /configure-exchange/);
  assert.match(d!.fix, /EwsAllowedAppIDs/);
  assert.match(d!.fix, /00000007-0000-0000-c000-000000000000/);
  assert.match(d!.fix, /EwsApplicationAccessPolicy/);
  assert.match(d!.fix, /24 hours/);
  assert.match(d!.unconfirmed ?? '', /not documented/);
});

test('EWS disabled is diagnosed as the EwsEnabled switch of the organization or the mailbox, not the app-id list', () => {
  for (const text of [
    'HTTP 403 X-EWS-Policy-Reason: EWS is disabled for this user or tenant',
    // The policy text alone, without the header name, is enough.
    'The request failed: EWS is disabled for this user or tenant',
  ]) {
    const d = diagnose('Email Server Error Code: Http server returned Forbidden exception.', text);
    assert.equal(d?.id, 'ews-disabled');
    assert.match(d!.fix, /Set-OrganizationConfig -EwsEnabled \$true/);
    assert.match(d!.fix, /Set-CASMailbox -Identity <address> -EwsEnabled \$true/);
    assert.match(d!.fix, /exchange\.ews\.enableOrganization/);
    assert.match(d!.fix, /24 hours/);
    assert.doesNotMatch(d!.fix, /EwsAllowedAppIDs/);
  }
});

test('a 403 without the EWS policy reason points at EwsEnabled and the application access policy', () => {
  assert.equal(diagnose('Email Server Error Code: Http server returned Forbidden exception.')?.id, 'ews-forbidden');
});

test('each emulated alert text (taken from what admins report) gets its own diagnosis', () => {
  const expected: Record<FailurePreset, string> = {
    'ews-blocked': 'ews-blocked',
    'ews-disabled': 'ews-disabled',
    forbidden: 'ews-forbidden',
    unauthorized: 'unauthorized',
    'invalid-token': 'invalid-token',
    location: 'mailbox-location',
    tls: 'secure-connection',
    'not-approved': 'not-approved',
    'o365-approval': 'o365-approval',
    'act-other-org': 'act-other-organization',
    'no-user-claims': 'no-user-claims',
    'owner-privileges': 'owner-privileges',
    'no-licence': 'licence-or-access-mode',
    acs: 'acs-token',
  };
  for (const [preset, id] of Object.entries(expected)) {
    const failure = failureFor(preset as FailurePreset, 'Anna Example');
    assert.equal(diagnose(failure.text, failure.details, errorCodeHex(failure.code ?? null))?.id, id, preset);
  }
});

test('unknown texts are not guessed at; lastsyncerrorcode is shown as the hex code admins search for', () => {
  assert.equal(diagnose('Something nobody has seen before.'), undefined);
  assert.equal(diagnose(undefined, null, ''), undefined);
  assert.equal(errorCodeHex(-2147098023), '8005E259');
  assert.equal(errorCodeHex(0), undefined);
});
