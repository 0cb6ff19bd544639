import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateFilter, parseFilter, ODataQueryError } from '@d365-exo-sync/sandbox/d365/odata-filter';
import { inFilter, odataString } from '../../../src/crm/entities.js';

const columns = new Set(['name', 'statecode', 'isdisabled', 'emailaddress', 'createdon', '_regardingobjectid_value']);
const parse = (text: string) => parseFilter(text, (c) => columns.has(c), 'mailbox');

test('the emulator’s $filter: comparisons, and/or/not, null, strings without case, dates, In()', () => {
  const row = {
    name: "O'Brien (Hybrid)",
    statecode: 0,
    isdisabled: false,
    emailaddress: 'Anna@Contoso.com',
    createdon: '2026-11-26T10:00:00.000Z',
    _regardingobjectid_value: 'abcdef01-0000-4000-8000-000000000001',
  };
  const yes = (text: string) => assert.equal(evaluateFilter(parse(text), row), true, text);
  const no = (text: string) => assert.equal(evaluateFilter(parse(text), row), false, text);
  yes(`name eq ${odataString("O'Brien (Hybrid)")}`);
  yes("emailaddress eq 'anna@contoso.com'");
  yes('statecode eq 0 and isdisabled eq false');
  no('statecode eq 1 or isdisabled eq true');
  yes('not (statecode eq 1)');
  yes('emailaddress ne null');
  yes('createdon ge 2026-11-26T09:45:00.000Z');
  no('createdon gt 2026-11-26T10:00:00Z');
  yes("contains(name,'hybrid') and startswith(emailaddress,'anna')");
  yes(inFilter('emailaddress', ['x@contoso.com', 'ANNA@contoso.com']));
  yes(inFilter('_regardingobjectid_value', ['ABCDEF01-0000-4000-8000-000000000001']));
  no(`Microsoft.Dynamics.CRM.NotIn(PropertyName='statecode',PropertyValues=['0'])`);
  yes('_regardingobjectid_value eq abcdef01-0000-4000-8000-000000000001');
});

test('unknown columns fail as D365 fails them; syntax errors say where', () => {
  assert.throws(
    () => parse("nosuchcolumn eq 'x'"),
    (e: unknown) =>
      e instanceof ODataQueryError &&
      e.code === '0x80060888' &&
      /Could not find a property named 'nosuchcolumn' on type 'Microsoft.Dynamics.CRM.mailbox'/.test(e.message),
  );
  assert.throws(() => parse('statecode eq'), /Syntax error at position/);
  assert.throws(() => parse("Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=[])"), /cannot be empty/);
});
