// Filters on lists of values, sized so that every request stays within IIS's limits. IIS request filtering
// (requestLimits maxQueryString) and ASP.NET (httpRuntime maxQueryStringLength) both default to 2,048 bytes and
// answer 404.15 before D365 sees a longer query ("Configure IIS request filtering", "httpRuntime element",
// Microsoft Learn). Lists are therefore split by their encoded length, not by a count of values. The budget
// leaves room for the $skiptoken D365 appends to the query in @odata.nextLink when a read has more pages.
import { odataString } from './entities.js';

/** Bytes of query string a first request may use (2,048 minus room for the paging cookie of later pages). */
export const QUERY_STRING_BUDGET = 1536;

/**
 * A filter that matches any of `values` on `attribute` (its logical name). Plain values go into one
 * Microsoft.Dynamics.CRM.In call; values with an apostrophe become `eq` clauses with OData's doubled quote,
 * because In's PropertyValues is a collection literal whose quoting differs from an OData string literal.
 */
export function anyOf(attribute: string, values: string[]): string {
  if (values.length === 0) throw new Error('anyOf needs at least one value');
  const plain = values.filter((value) => !value.includes("'"));
  const quoted = values.filter((value) => value.includes("'"));
  const clauses = [
    ...(plain.length
      ? [
          `Microsoft.Dynamics.CRM.In(PropertyName=${odataString(attribute)},PropertyValues=[${plain.map(odataString).join(',')}])`,
        ]
      : []),
    ...quoted.map((value) => `${attribute} eq ${odataString(value)}`),
  ];
  return clauses.length === 1 ? clauses[0]! : `(${clauses.join(' or ')})`;
}

/** Bytes of the query string of a path (after "?"). */
export function queryBytes(path: string): number {
  const at = path.indexOf('?');
  return at < 0 ? 0 : Buffer.byteLength(path.slice(at + 1));
}

export class QueryTooLongError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryTooLongError';
  }
}

/**
 * Splits `values` into as few request paths as fit the budget: `build(filterOf(group))` is the path of one
 * group. Values keep their order. A single value that does not fit is an error naming it.
 */
export function chunkedPaths(
  values: string[],
  filterOf: (group: string[]) => string,
  build: (filter: string) => string,
  budget = QUERY_STRING_BUDGET,
): string[] {
  const paths: string[] = [];
  let group: string[] = [];
  let path = '';
  for (const value of values) {
    const candidate = build(filterOf([...group, value]));
    if (queryBytes(candidate) <= budget) {
      group.push(value);
      path = candidate;
      continue;
    }
    if (group.length === 0) {
      throw new QueryTooLongError(
        `the value ${value.slice(0, 80)} alone makes a query string of ${queryBytes(candidate)} bytes, over the ${budget} bytes a request may use`,
      );
    }
    paths.push(path);
    group = [value];
    path = build(filterOf(group));
    if (queryBytes(path) > budget) {
      throw new QueryTooLongError(
        `the value ${value.slice(0, 80)} alone makes a query string of ${queryBytes(path)} bytes, over the ${budget} bytes a request may use`,
      );
    }
  }
  if (group.length) paths.push(path);
  return paths;
}
