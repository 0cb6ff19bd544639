// Values copied from a web page or a chat carry characters that look right and break everything:
// typographic quotes, non-breaking and zero-width spaces, stray whitespace at either end. The manual
// procedure is known for exactly this failure, so every string in the config is checked for them. Line breaks and
// other control characters inside a value are caught too: no config value spans lines, and one that does carries
// whatever was pasted after it (a command, say) to wherever the value goes.

const SUSPECT_CHARACTERS: Record<string, string> = {
  '\u2018': 'LEFT SINGLE QUOTATION MARK ‘',
  '\u2019': 'RIGHT SINGLE QUOTATION MARK ’',
  '\u201C': 'LEFT DOUBLE QUOTATION MARK “',
  '\u201D': 'RIGHT DOUBLE QUOTATION MARK ”',
  '\u00A0': 'NO-BREAK SPACE',
  '\u202F': 'NARROW NO-BREAK SPACE',
  '\u200B': 'ZERO WIDTH SPACE',
  '\u200C': 'ZERO WIDTH NON-JOINER',
  '\u200D': 'ZERO WIDTH JOINER',
  '\u2060': 'WORD JOINER',
  '\uFEFF': 'ZERO WIDTH NO-BREAK SPACE (BOM)',
};

const codePoint = (ch: string) => 'U+' + ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');

/** Describes what is wrong with a pasted value, or returns undefined when it is clean. */
export function pastedCharacterProblem(value: string): string | undefined {
  for (const [index, ch] of [...value].entries()) {
    const name = SUSPECT_CHARACTERS[ch];
    if (name) {
      const fix =
        ch in { '\u2018': 1, '\u2019': 1, '\u201C': 1, '\u201D': 1 }
          ? 'retype it as a plain \' or " (or remove it): it was probably pasted from a web page'
          : 'delete it and retype a plain space if one belongs there: it was probably pasted from a web page';
      return `contains ${codePoint(ch)} ${name} at character ${index + 1}: ${fix}`;
    }
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
  const control = /[\u0000-\u001F\u007F]/.exec(value);
  if (control) {
    const what = control[0] === '\n' || control[0] === '\r' ? 'a line break' : 'a control character';
    return `contains ${what} (${codePoint(control[0])}) at character ${control.index + 1}: a config value is one line; remove it (a value with a line break was pasted along with whatever followed it)`;
  }
  if (value !== value.trim()) {
    return 'has leading or trailing whitespace: remove it (it was probably pasted along with the value)';
  }
  return undefined;
}

export interface PathProblem {
  path: string;
  message: string;
  /** The path as keys and indexes, to find the problem in the file. */
  at?: (string | number)[];
}

/** Walks a parsed document and reports every key and string value with pasted characters. */
export function findPastedCharacters(node: unknown, path: (string | number)[] = []): PathProblem[] {
  const problems: PathProblem[] = [];
  if (typeof node === 'string') {
    const problem = pastedCharacterProblem(node);
    if (problem) problems.push({ path: path.join('.'), message: problem, at: path });
  } else if (Array.isArray(node)) {
    node.forEach((item, index) => problems.push(...findPastedCharacters(item, [...path, index])));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      const keyProblem = pastedCharacterProblem(key);
      if (keyProblem) problems.push({ path: [...path, key].join('.'), message: `the key ${keyProblem}` });
      problems.push(...findPastedCharacters(value, [...path, key]));
    }
  }
  return problems;
}
