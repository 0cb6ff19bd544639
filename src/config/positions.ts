// Where a config problem is in the file: line and column from the YAML parser's own positions (JSON is
// YAML too, so a .json config gets them the same way), the offending line quoted with a caret under the
// column, and for an unknown key the closest names that are valid there.
import { isMap, isPair, isScalar, LineCounter, type Document, type Node } from 'yaml';
import { configJsonSchema } from './json-schema.js';

export interface Position {
  line: number;
  column: number;
  /** The line of the file, as it is (for quoting with a caret). */
  source: string;
}

export function positionAt(text: string, lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  const source = text.split(/\r?\n/)[line - 1] ?? '';
  return { line, column: col, source };
}

/** The node a problem's path names, or the nearest ancestor that exists (a missing key: its parent map). */
function nodeAt(doc: Document, path: (string | number)[]): { node: Node | null; depth: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : (doc.getIn(path.slice(0, depth), true) as Node | undefined);
    if (node && typeof node === 'object' && 'range' in node) return { node, depth };
  }
  return { node: null, depth: 0 };
}

/** The key node of `key` in the map at path, for an unknown key (its own line, not the map's). */
function keyNode(doc: Document, path: (string | number)[], key: string): Node | undefined {
  const map = path.length ? doc.getIn(path, true) : doc.contents;
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === key);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}

/** Position of the thing at `path` (with `key`: of that key in the map at path). */
export function locate(
  doc: Document,
  text: string,
  lineCounter: LineCounter,
  path: (string | number)[],
  key?: string,
): Position | undefined {
  const named = key !== undefined ? keyNode(doc, path, key) : undefined;
  if (named?.range) return positionAt(text, lineCounter, named.range[0]);
  const { node, depth } = nodeAt(doc, path);
  if (!node?.range) return undefined;
  // Nothing of the path is in the file (a missing top-level section): no line to point at.
  if (depth === 0) return path.length ? undefined : positionAt(text, lineCounter, node.range[0]);
  // Point at the key of the deepest part that exists ("deployment:" for a key missing under it), or at the value
  // itself when the path names a plain value.
  const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
  if (isMap(parent)) {
    const pair = parent.items.find(
      (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(path[depth - 1]),
    );
    if (depth === path.length && isScalar(node)) return positionAt(text, lineCounter, node.range[0]);
    if (pair && isScalar(pair.key) && pair.key.range) return positionAt(text, lineCounter, pair.key.range[0]);
  }
  return positionAt(text, lineCounter, node.range[0]);
}

/** The offending line and a caret under the column, for the terminal. */
export function quoteLine(position: Position, width = Infinity): string {
  const gutter = `${position.line} | `;
  const room = Number.isFinite(width) ? Math.max(20, width - gutter.length - 2) : Infinity;
  let source = position.source.replace(/\t/g, ' ');
  let column = position.column;
  // A long line is shown from a little before the column, so the caret stays on screen.
  if (source.length > room) {
    const start = Math.max(0, Math.min(column - 1 - Math.floor(room / 3), source.length - room + 1));
    source = (start ? '…' : '') + source.slice(start, start + room - (start ? 2 : 1)) + '…';
    column = column - start + (start ? 1 : 0);
  }
  return `  ${gutter}${source}\n  ${' '.repeat(gutter.length - 2)}| ${' '.repeat(Math.max(0, column - 1))}^\n`;
}

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
};

let rootSchema: JsonSchema | undefined;

function resolveRef(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace(/^#\/(\$defs|definitions)\//, '');
  return rootSchema?.$defs?.[name] ?? rootSchema?.definitions?.[name] ?? schema;
}

/** The schemas a path can lead to (a union has several). */
function schemasAt(path: (string | number)[]): JsonSchema[] {
  rootSchema ??= configJsonSchema() as JsonSchema;
  let current: JsonSchema[] = [rootSchema];
  for (const part of path) {
    const next: JsonSchema[] = [];
    const visit = (schema: JsonSchema) => {
      const s = resolveRef(schema);
      for (const alternative of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) visit(alternative);
      if (typeof part === 'number' && s.items) next.push(resolveRef(s.items));
      else if (typeof part === 'string' && s.properties?.[part]) next.push(resolveRef(s.properties[part]));
    };
    current.forEach(visit);
    current = next;
  }
  return current;
}

/** The key names the schema allows in the object at path. */
export function allowedKeys(path: (string | number)[]): string[] {
  const keys = new Set<string>();
  const collect = (schema: JsonSchema) => {
    const s = resolveRef(schema);
    for (const key of Object.keys(s.properties ?? {})) keys.add(key);
    for (const alternative of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) collect(alternative);
  };
  schemasAt(path).forEach(collect);
  return [...keys];
}

/** Edit distance (insert, delete, replace, swap two neighbours), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[x.length]![y.length]!;
}

/** The valid names closest to a misspelt one (at most 3, within a third of its length), closest first. */
export function closestNames(name: string, candidates: string[]): string[] {
  const limit = Math.max(2, Math.ceil(name.length / 3));
  return candidates
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .filter(({ distance }) => distance <= limit)
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, 3)
    .map(({ candidate }) => candidate);
}
