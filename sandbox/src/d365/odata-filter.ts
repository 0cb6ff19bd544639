// The part of OData $filter the emulator understands: eq/ne/gt/ge/lt/le, and/or/not, parentheses,
// contains/startswith/endswith, and D365's Microsoft.Dynamics.CRM.In/NotIn. Strings compare without
// regard to case, as D365's SQL collation does. Unknown columns fail as D365 fails them. Query functions
// such as In take the attribute's logical name (regardingobjectid), never the _x_value column name: the
// server resolves PropertyName through the attribute metadata and refuses anything else.

export class ODataQueryError extends Error {
  constructor(
    message: string,
    readonly code = '',
  ) {
    super(message);
    this.name = 'ODataQueryError';
  }
}

type Literal = {
  kind: 'lit';
  value: string | number | boolean | null;
  type: 'string' | 'number' | 'bool' | 'null' | 'guid' | 'datetime';
};
type Operand = { kind: 'prop'; name: string } | Literal;
export type FilterNode =
  | { op: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { op: 'not'; expr: FilterNode }
  | { op: 'cmp'; cmp: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; left: Operand; right: Operand }
  | { op: 'fn'; name: 'contains' | 'startswith' | 'endswith'; property: string; value: string }
  | { op: 'in'; property: string; values: string[]; negate: boolean };

type Token = { type: 'punct' | 'string' | 'number' | 'ident' | 'guid' | 'datetime'; text: string; pos: number };

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
const DATETIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ('()[],='.includes(c)) {
      tokens.push({ type: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new ODataQueryError(`Unterminated string literal at ${i} in '${text}'.`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      tokens.push({ type: 'string', text: value, pos: i });
      i = j + 1;
      continue;
    }
    const rest = text.slice(i);
    const guid = GUID.exec(rest);
    if (guid) {
      tokens.push({ type: 'guid', text: guid[0], pos: i });
      i += guid[0].length;
      continue;
    }
    const datetime = DATETIME.exec(rest);
    if (datetime && datetime[0].length > 4) {
      tokens.push({ type: 'datetime', text: datetime[0], pos: i });
      i += datetime[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(rest);
    if (number) {
      tokens.push({ type: 'number', text: number[0], pos: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (ident) {
      tokens.push({ type: 'ident', text: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    throw new ODataQueryError(`Syntax error: character '${c}' is not valid at position ${i} in '${text}'.`);
  }
  return tokens;
}

/**
 * Parses a $filter; `isColumn` says whether a name is a column of the entity (else the D365 error), and
 * `attributeColumn` maps an attribute logical name to the column a query function reads (undefined: no such
 * attribute). Without it, a query function accepts what isColumn accepts.
 */
export function parseFilter(
  text: string,
  isColumn: (name: string) => boolean,
  entity: string,
  attributeColumn?: (name: string) => string | undefined,
): FilterNode {
  const tokens = tokenize(text);
  let index = 0;
  const peek = () => tokens[index];
  const syntax = (): never => {
    const at = peek()?.pos ?? text.length;
    throw new ODataQueryError(`Syntax error at position ${at} in '${text}'.`);
  };
  const expect = (punct: string) => {
    const token = peek();
    if (token?.type !== 'punct' || token.text !== punct) syntax();
    index++;
  };
  const keyword = (word: string) => {
    const token = peek();
    if (token?.type === 'ident' && token.text.toLowerCase() === word) {
      index++;
      return true;
    }
    return false;
  };
  const property = (name: string) => {
    if (!isColumn(name)) {
      throw new ODataQueryError(
        `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${entity}'.`,
        '0x80060888',
      );
    }
    return name;
  };
  const functionAttribute = (name: string) => {
    if (!attributeColumn) return property(name);
    const column = attributeColumn(name);
    if (!column) {
      throw new ODataQueryError(
        `'${entity}' entity doesn't contain attribute with Name = '${name}' and NameMapping = 'Logical'.`,
        '0x80041103',
      );
    }
    return column;
  };
  const operand = (): Operand => {
    const token = peek();
    if (!token) return syntax();
    index++;
    switch (token.type) {
      case 'string':
        return { kind: 'lit', value: token.text, type: 'string' };
      case 'number':
        return { kind: 'lit', value: Number(token.text), type: 'number' };
      case 'guid':
        return { kind: 'lit', value: token.text.toLowerCase(), type: 'guid' };
      case 'datetime':
        return { kind: 'lit', value: token.text, type: 'datetime' };
      case 'ident': {
        const word = token.text.toLowerCase();
        if (word === 'null') return { kind: 'lit', value: null, type: 'null' };
        if (word === 'true' || word === 'false') return { kind: 'lit', value: word === 'true', type: 'bool' };
        return { kind: 'prop', name: property(token.text) };
      }
      default:
        return syntax();
    }
  };
  const stringArg = (): string => {
    const token = peek();
    if (token?.type !== 'string') return syntax();
    index++;
    return token.text;
  };
  const primary = (): FilterNode => {
    const token = peek();
    if (!token) return syntax();
    if (token.type === 'punct' && token.text === '(') {
      index++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (token.type === 'ident' && tokens[index + 1]?.text === '(') {
      const name = token.text.toLowerCase();
      if (name === 'contains' || name === 'startswith' || name === 'endswith') {
        index += 2;
        const propToken = peek();
        if (propToken?.type !== 'ident') return syntax();
        index++;
        const prop = property(propToken.text);
        expect(',');
        const value = stringArg();
        expect(')');
        return { op: 'fn', name, property: prop, value };
      }
      if (name === 'microsoft.dynamics.crm.in' || name === 'microsoft.dynamics.crm.notin') {
        index += 2;
        if (!keyword('propertyname')) syntax();
        expect('=');
        const prop = functionAttribute(stringArg());
        expect(',');
        if (!keyword('propertyvalues')) syntax();
        expect('=');
        expect('[');
        const values: string[] = [];
        while (peek()?.type === 'string') {
          const raw = peek()!;
          const value = stringArg();
          // Inside PropertyValues the server reads the list as a collection literal, not as OData string
          // literals: a doubled quote is not an escaped apostrophe there. Use eq clauses for such values.
          if (value.includes("'")) {
            throw new ODataQueryError(
              `The value at position ${raw.pos} of the 'PropertyValues' parameter of the ${token.text} function is not a valid collection element.`,
              '0x80040203',
            );
          }
          values.push(value);
          if (peek()?.text === ',') index++;
        }
        expect(']');
        expect(')');
        if (values.length === 0)
          throw new ODataQueryError("The 'PropertyValues' parameter of the In function cannot be empty.", '0x80040203');
        return { op: 'in', property: prop, values, negate: name.endsWith('notin') };
      }
      throw new ODataQueryError(`An unknown function with name '${token.text}' was found.`);
    }
    const left = operand();
    const opToken = peek();
    const cmp = opToken?.type === 'ident' ? opToken.text.toLowerCase() : '';
    if (!['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(cmp)) return syntax();
    index++;
    const right = operand();
    return { op: 'cmp', cmp: cmp as 'eq', left, right };
  };
  const not = (): FilterNode => (keyword('not') ? { op: 'not', expr: not() } : primary());
  const and = (): FilterNode => {
    let left = not();
    while (keyword('and')) left = { op: 'and', left, right: not() };
    return left;
  };
  const or = (): FilterNode => {
    let left = and();
    while (keyword('or')) left = { op: 'or', left, right: and() };
    return left;
  };
  const node = or();
  if (index !== tokens.length) syntax();
  return node;
}

function comparable(value: unknown): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    if (DATETIME.test(value) && value.length >= 10 && !Number.isNaN(Date.parse(value))) return Date.parse(value);
    return value.toLowerCase();
  }
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value).toLowerCase();
}

function operandValue(operand: Operand, row: Record<string, unknown>): string | number | boolean | null {
  if (operand.kind === 'prop') return comparable(row[operand.name]);
  if (operand.type === 'datetime') return Date.parse(operand.value as string);
  return comparable(operand.value);
}

export function evaluateFilter(node: FilterNode, row: Record<string, unknown>): boolean {
  switch (node.op) {
    case 'and':
      return evaluateFilter(node.left, row) && evaluateFilter(node.right, row);
    case 'or':
      return evaluateFilter(node.left, row) || evaluateFilter(node.right, row);
    case 'not':
      return !evaluateFilter(node.expr, row);
    case 'fn': {
      const value = row[node.property];
      if (typeof value !== 'string') return false;
      const a = value.toLowerCase();
      const b = node.value.toLowerCase();
      return node.name === 'contains' ? a.includes(b) : node.name === 'startswith' ? a.startsWith(b) : a.endsWith(b);
    }
    case 'in': {
      const value = row[node.property];
      const found =
        value !== null &&
        value !== undefined &&
        node.values.some((v) => v.toLowerCase() === String(value).toLowerCase());
      return node.negate ? !found : found;
    }
    case 'cmp': {
      const a = operandValue(node.left, row);
      const b = operandValue(node.right, row);
      if (node.cmp === 'eq') return a === b;
      if (node.cmp === 'ne') return a !== b;
      if (a === null || b === null) return false;
      if (node.cmp === 'gt') return a > b;
      if (node.cmp === 'ge') return a >= b;
      if (node.cmp === 'lt') return a < b;
      return a <= b;
    }
  }
}
