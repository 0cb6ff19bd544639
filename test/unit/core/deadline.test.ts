import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daysUntil, supportDeadlineWarning } from '../../../src/deadlines.js';

test('days left until end of support, counted to the start of 2027-04-01 UTC', () => {
  assert.equal(daysUntil('2027-04-01', new Date('2026-11-26T12:00:00Z')), 125);
  assert.match(
    supportDeadlineWarning(new Date('2026-11-26T12:00:00Z')),
    /^125 days left until 2027-04-01, when Microsoft ends support/,
  );
  assert.match(supportDeadlineWarning(new Date('2026-11-26T12:00:00Z')), /EWS/);
});

test('after the date the warning says support has ended and how long ago', () => {
  assert.match(supportDeadlineWarning(new Date('2027-04-04T00:00:00Z')), /ended on 2027-04-01 \(3 days ago\)/);
});
