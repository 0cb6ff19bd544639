// docs/bad-input.md, generated from the bad-input catalogue (support/bad-inputs.ts). bad-input.test.ts fails when
// the file is not what this renders; rewrite it with:
//   node --import tsx test/reliability/support/bad-input-doc.ts --write
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CATALOGUE, WARNINGS, type Area } from './bad-inputs.js';

export const DOC_PATH = join(fileURLToPath(new URL('../../..', import.meta.url)), 'docs', 'bad-input.md');

const AREAS: Area[] = [
  'certificate content',
  'certificate file',
  'secret',
  'injection',
  'config',
  'config (unit catalogue)',
  'command line',
];

/** A table cell: pipes escaped, code spans kept closed (a lone backtick would swallow the rest of the row). */
function cell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/`/g, '\\`')
    .replace(/\r?\n/g, ' ')
    .replace(/</g, '&lt;');
}

export function badInputMarkdown(): string {
  const lines: string[] = [
    '# Bad input',
    '',
    '<!-- Generated from test/reliability/support/bad-inputs.ts: node --import tsx test/reliability/support/bad-input-doc.ts --write -->',
    '',
    'Every input below is refused, and `test/reliability/bad-input.test.ts` proves it on each run of `npm test`: the',
    'command runs in-process against the Entra ID and D365 emulators (with a key already on the Dynamics service',
    'principal and the mailboxes already configured) and must',
    '',
    '- exit non-zero (1: refused, 2: usage error),',
    '- name the field, option, input or variable in its error (the **error names** column),',
    '- leave everything as it was: the Entra key list and service principal names, every D365 table (mailboxes,',
    '  email server profiles, the organization) and the fake Windows server, whose cmdlet call log must not even exist',
    '  afterwards (no PowerShell process was started),',
    '- and write none of the secrets of the run.',
    '',
    'Injection attempts (`;`, `$(…)`, backticks, line breaks, quotes that close an OData string or parenthesis) are',
    'stopped where they enter: the config schema, the certificate and secret readers, the phase inputs. Values that',
    "are legitimate but carry a quote (an address like `o'brien@contoso.com`, a profile name with an apostrophe) are not bad",
    "input: they reach OData escaped (`''`), which the same test file checks.",
    '',
    `${CATALOGUE.length} inputs are refused:`,
    '',
    '| area | inputs |',
    '| --- | ---: |',
    ...AREAS.map((area) => `| ${area} | ${CATALOGUE.filter((c) => c.area === area).length} |`),
    '',
    'The "config (unit catalogue)" rows are the bad configs of `test/unit/config/bad-configs.ts`, run here end to end.',
    '',
  ];
  for (const area of AREAS) {
    const cases = CATALOGUE.filter((c) => c.area === area);
    lines.push(`## ${area[0]!.toUpperCase()}${area.slice(1)}`, '');
    lines.push('| id | bad input | through | error names | exit |', '| --- | --- | --- | --- | ---: |');
    for (const c of cases) {
      lines.push(`| ${cell(c.id)} | ${cell(c.input)} | ${cell(c.command)} | ${cell(c.names)} | ${c.exit} |`);
    }
    lines.push('');
  }
  lines.push(
    '## Warnings',
    '',
    'These certificate problems only warn: `cert inspect` exits 0 by its public contract and names the code.',
    '',
    '| id | input | code |',
    '| --- | --- | --- |',
    ...WARNINGS.map((w) => `| ${cell(w.id)} | ${cell(w.input)} | ${w.code} |`),
    '',
  );
  return lines.join('\n');
}

if (process.argv.includes('--write') && import.meta.url === pathToFileURL(process.argv[1]!).href) {
  writeFileSync(DOC_PATH, badInputMarkdown());
  console.log(`wrote ${DOC_PATH} (${CATALOGUE.length} inputs)`);
}
