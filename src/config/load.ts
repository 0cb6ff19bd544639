import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type * as z from 'zod';
import { ConfigSchema, type Config } from './schema.js';
import { findPastedCharacters, type PathProblem } from './pasted-characters.js';

export type ConfigProblem = PathProblem;

export interface ConfigLoadResult {
  config?: Config;
  problems: ConfigProblem[];
  /** The file's text, for the config hash in run records. */
  text: string;
}

/** Turns zod's issues into {path, message} with a dotted path and a message that says what is valid. */
export function describeIssues(issues: z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.join(', ');
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}: check the spelling (see config.schema.json for the keys allowed here)`;
      return { path: path || '(top level)', message };
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) message = `is required (${issue.expected})`;
    else if (issue.code === 'invalid_type') message = `must be ${issue.expected}, not ${typeof issue.input}`;
    else if (issue.code === 'invalid_value')
      message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    else if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
      message = `${issue.discriminator} is missing or not one of the allowed values`;
    }
    return { path: path || '(top level)', message };
  });
}

/** Validates an already parsed document (YAML or JSON object). */
export function validateConfig(document: unknown): { config?: Config; problems: ConfigProblem[] } {
  const pasted = findPastedCharacters(document);
  const result = ConfigSchema.safeParse(document);
  const problems = [...pasted, ...(result.success ? [] : describeIssues(result.error.issues))];
  // A pasted character can also fail the format check of the same field: say it once, pasted first.
  const unique = problems.filter(
    (p, i) => !problems.slice(0, i).some((q) => q.path === p.path && pasted.includes(q) && !pasted.includes(p)),
  );
  return problems.length ? { problems: unique } : { config: result.data as Config, problems: [] };
}

/** Parses YAML or JSON text; syntax errors come back as problems with the line. */
export function parseConfigText(text: string, file: string): { document?: unknown; problems: ConfigProblem[] } {
  if (text.trim() === '')
    return { problems: [{ path: '(file)', message: `${file} is empty: start from examples/contoso.yml` }] };
  const isJson = extname(file).toLowerCase() === '.json';
  if (isJson) {
    try {
      return { document: JSON.parse(text), problems: [] };
    } catch (error) {
      return { problems: [{ path: '(file)', message: `${file} is not valid JSON: ${(error as Error).message}` }] };
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    return {
      problems: doc.errors.map((e) => ({
        path: '(file)',
        message: `${file} is not valid YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  return { document: doc.toJS(), problems: [] };
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
  return { ...validateConfig(parsed.document), text };
}
