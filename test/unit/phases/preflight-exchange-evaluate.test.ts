// Preflight's Exchange Online finding without PowerShell: from configure-exchange's read-only result, or its failure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exchangeResult as result, step } from '../support/exchange-results.js';
import { evaluateExchangeRead, evaluateExchangeReadFailure } from '../../../src/phases/preflight/exchange-evaluate.js';

const NOW = new Date('2026-11-26T10:00:00Z');
const LINE = 'EWS: 126 days left';

describe('preflight evaluation: Exchange Online', () => {
  it('passes a tenant that already lets D365 in, with the countdown line and what was read', () => {
    const finding = evaluateExchangeRead(
      result([
        step('read-organization', 'unchanged', { after: { EwsEnabled: true } }),
        step('allowed-app-ids', 'unchanged'),
      ]),
      LINE,
    );
    assert.equal(finding.status, 'unchanged');
    assert.deepEqual(finding.after, { EwsEnabled: true });
    assert.deepEqual(finding.warnings, [LINE]);
  });

  it('reports what configure-exchange would change as findings, not as a failure', () => {
    const finding = evaluateExchangeRead(
      result(
        [step('allowed-app-ids', 'would-change', { title: 'Allow the Dynamics app', message: 'adds 1 app id' })],
        ['w'],
      ),
      LINE,
    );
    assert.equal(finding.status, 'unchanged');
    assert.deepEqual(finding.warnings, [
      LINE,
      'configure-exchange would change: Allow the Dynamics app (adds 1 app id)',
      'w',
    ]);
  });

  it('fails when apply would refuse, with configure-exchange’s words', () => {
    const message = 'apply refuses: EwsEnabled is False; set exchange.ews.enableOrganization';
    const finding = evaluateExchangeRead(result([step('organization', 'would-change', { message })]), LINE);
    assert.equal(finding.status, 'failed');
    assert.equal(finding.error, message);
  });

  it('is not checked when the tenant could not be read, and says why in the line', () => {
    const finding = evaluateExchangeReadFailure('ExchangeOnlineManagement is not installed', NOW);
    assert.equal(finding.status, 'not-checked');
    assert.equal(finding.reason, 'ExchangeOnlineManagement is not installed');
    assert.match(finding.warnings![0]!, /ExchangeOnlineManagement is not installed/);
  });

  it('fails when the read itself says apply would refuse', () => {
    const finding = evaluateExchangeReadFailure('EwsEnabled of the organization is False', NOW);
    assert.equal(finding.status, 'failed');
    assert.match(finding.warnings![0]!, /see the error/);
  });
});
