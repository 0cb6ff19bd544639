import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../../src/phases/mailboxes/diagnosis.js';
import { failureFor, type FailurePreset } from '../../../src/sandbox/d365/failures.js';
import { errorCodeHex } from '../../../src/phases/mailboxes/report.js';

test('EWS blocked by policy or disabled is diagnosed as such, names EwsAllowedAppIDs, the Dynamics app id, 24 hours, and that it is unconfirmed', () => {
  for (const reason of [
    'EWS is blocked by policy for this user or tenant',
    'EWS is disabled for this user or tenant',
  ]) {
    const d = diagnose(
      'Email Server Error Code: Http server returned Forbidden exception.',
      `HTTP 403 X-EWS-Policy-Reason: ${reason}`,
    );
    assert.equal(d?.id, 'ews-blocked');
    assert.match(d!.fix, /EwsAllowedAppIDs/);
    assert.match(d!.fix, /00000007-0000-0000-c000-000000000000/);
    assert.match(d!.fix, /24 hours/);
    assert.match(d!.unconfirmed ?? '', /not documented/);
  }
  // The policy text alone, without the header name, is enough.
  assert.equal(diagnose('The request failed: EWS is disabled for this user or tenant')?.id, 'ews-blocked');
});

test('a 403 without the EWS policy reason points at EwsEnabled and the application access policy', () => {
  assert.equal(diagnose('Email Server Error Code: Http server returned Forbidden exception.')?.id, 'ews-forbidden');
});

test('each emulated alert text (taken from what admins report) gets its own diagnosis', () => {
  const expected: Record<FailurePreset, string> = {
    'ews-blocked': 'ews-blocked',
    'ews-disabled': 'ews-blocked',
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
