// verify's Exchange Online judgement without PowerShell: from configure-exchange's read-only result.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exchangeResult as result, step } from '../support/exchange-results.js';
import { evaluateExchangeVerify } from '../../../src/phases/exchange/verify-evaluate.js';

const LINE = 'EWS: 115 days left';

describe('verify evaluation: Exchange Online', () => {
  it('passes when configure-exchange would change nothing, with what was read and the countdown line', () => {
    const verdict = evaluateExchangeVerify(
      result([
        step('read-organization', 'unchanged', { after: { ewsEnabled: true } }),
        step('allowed-app-ids', 'unchanged'),
      ]),
      LINE,
    );
    assert.equal(verdict.status, 'unchanged');
    assert.deepEqual(verdict.after, { ewsEnabled: true });
    assert.deepEqual(verdict.warnings, [LINE]);
    assert.equal(verdict.error, undefined);
  });

  it('fails naming every setting configure-exchange would still change, and how to fix it', () => {
    const verdict = evaluateExchangeVerify(
      result([
        step('read-organization', 'unchanged'),
        step('allowed-app-ids', 'would-change', { title: 'Allow the Dynamics app on EwsAllowedAppIDs' }),
        step('ews-enabled', 'would-change', {
          title: 'EwsEnabled',
          message: 'apply refuses without enableOrganization',
        }),
      ]),
      LINE,
    );
    assert.equal(verdict.status, 'failed');
    assert.equal(
      verdict.error,
      'not as configure-exchange leaves it: Allow the Dynamics app on EwsAllowedAppIDs; EwsEnabled (apply refuses without enableOrganization); run configure-exchange',
    );
  });

  it('passes on what configure-exchange only reports, and carries those reports as warnings', () => {
    const verdict = evaluateExchangeVerify(
      result([
        step('read-organization', 'unchanged'),
        step('blocked-mailboxes', 'skipped', { message: '2 mailboxes have EwsEnabled False' }),
      ]),
      LINE,
    );
    assert.equal(verdict.status, 'unchanged');
    assert.deepEqual(verdict.warnings, [LINE, '2 mailboxes have EwsEnabled False']);
    assert.deepEqual(verdict.evidence, {
      steps: [
        { id: 'read-organization', status: 'unchanged' },
        { id: 'blocked-mailboxes', status: 'skipped' },
      ],
    });
  });
});
