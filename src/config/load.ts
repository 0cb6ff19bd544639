import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type * as z from 'zod';
import { ConfigSchema, type Config } from './schema.js';
import { findPastedCharacters } from './pasted-characters.js';
import { allowedKeys, closestNames, locate, positionAt, type Position } from './positions.js';

/**
 * One problem of a config file. `path` and `message` are the public contract (config validate --json); the
 * position, the quoted line and the suggestions were added later and are there when the file has them.
 */
export interface ConfigProblem {
  path: string;
  message: string;
  /** 1-based line and column in the file. */
  line?: number;
  column?: number;
  /** The file's line at that position, as it is. */
  source?: string;
  /** For an unknown key: the closest names valid there. */
  suggestions?: string[];
}

export interface ConfigLoadResult {
  config?: Config;
  problems: ConfigProblem[];
  /** The file's text, for the config hash in run records. */
  text: string;
}

/** Finds a path (with `key`: that key of the map at path) in the file; undefined when it cannot. */
export type Locator = (path: (string | number)[], key?: string) => Position | undefined;

const placed = (problem: ConfigProblem, position: Position | undefined): ConfigProblem =>
  position ? { ...problem, line: position.line, column: position.column, source: position.source } : problem;

/** Turns zod's issues into {path, message} with a dotted path and a message that says what is valid. */
export function describeIssues(issues: z.core.$ZodIssue[], locate: Locator = () => undefined): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const parts = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const path = parts.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      // One problem per key: each has its own line and its own closest names.
      const allowed = allowedKeys(parts);
      return issue.keys.map((key) => {
        const suggestions = closestNames(key, allowed);
        const hint = suggestions.length
          ? `did you mean ${suggestions.join(' or ')}?`
          : `the keys allowed here: ${allowed.join(', ') || '(none)'}`;
        return placed(
          {
            path: path || '(top level)',
            message: `unknown key ${key}: ${hint} (config.schema.json lists every key)`,
            ...(suggestions.length ? { suggestions } : {}),
          },
          locate(parts, key),
        );
      });
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) message = `is required (${issue.expected})`;
    else if (issue.code === 'invalid_type') message = `must be ${issue.expected}, not ${typeof issue.input}`;
    else if (issue.code === 'invalid_value')
      message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    else if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
      message = `${issue.discriminator} is missing or not one of the allowed values`;
    }
    return [placed({ path: path || '(top level)', message }, locate(parts))];
  });
}

/** Validates an already parsed document (YAML or JSON object); `locate` adds the line and column. */
export function validateConfig(
  document: unknown,
  locate: Locator = () => undefined,
): { config?: Config; problems: ConfigProblem[] } {
  const pasted = findPastedCharacters(document).map(({ at, ...problem }) => placed(problem, locate(at ?? [])));
  const result = ConfigSchema.safeParse(document);
  const problems = [...pasted, ...(result.success ? [] : describeIssues(result.error.issues, locate))];
  // A pasted character can also fail the format check of the same field: say it once, pasted first.
  const unique = problems.filter(
    (p, i) => !problems.slice(0, i).some((q) => q.path === p.path && pasted.includes(q) && !pasted.includes(p)),
  );
  return problems.length ? { problems: unique } : { config: result.data as Config, problems: [] };
}

/** Parses YAML or JSON text; syntax errors come back as problems with the line, the column and the line quoted. */
export function parseConfigText(
  text: string,
  file: string,
): { document?: unknown; problems: ConfigProblem[]; locate: Locator } {
  const nowhere: Locator = () => undefined;
  if (text.trim() === '')
    return {
      problems: [{ path: '(file)', message: `${file} is empty: start from examples/contoso.yml` }],
      locate: nowhere,
    };
  const isJson = extname(file).toLowerCase() === '.json';
  const lineCounter = new LineCounter();
  if (isJson) {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message;
      // V8 names the position ("at position 12", newer: "(line 2 column 5)").
      const offset = /at position (\d+)/.exec(message);
      const problem: ConfigProblem = { path: '(file)', message: `${file} is not valid JSON: ${message}` };
      if (offset) {
        parseDocument(text, { lineCounter });
        return { problems: [placed(problem, positionAt(text, lineCounter, Number(offset[1])))], locate: nowhere };
      }
      return { problems: [problem], locate: nowhere };
    }
    // JSON is YAML: the YAML parser gives the positions of valid JSON too.
    const doc = parseDocument(text, { lineCounter });
    return { document, problems: [], locate: (path, key) => locate(doc, text, lineCounter, path, key) };
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, lineCounter });
  if (doc.errors.length) {
    return {
      problems: doc.errors.map((e) => {
        // prettyErrors appends " at line L, column C:" and the context lines; they are given as fields instead.
        const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return placed(
          { path: '(file)', message: `${file} is not valid YAML: ${first}` },
          positionAt(text, lineCounter, e.pos[0]),
        );
      }),
      locate: nowhere,
    };
  }
  return { document: doc.toJS(), problems: [], locate: (path, key) => locate(doc, text, lineCounter, path, key) };
}

export function loadConfigFile(file: string): ConfigLoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code})`;
    return {
      problems: [{ path: '(file)', message: `${file} ${why}: pass the path of your config file with --config` }],
      text: '',
    };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // editors on Windows save a BOM
  const parsed = parseConfigText(text, file);
  if (!parsed.document) return { problems: parsed.problems, text };
  return { ...validateConfig(parsed.document, parsed.locate), text };
}
