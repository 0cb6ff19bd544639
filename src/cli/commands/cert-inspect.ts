// d365-exo-sync cert inspect — the public contract of DESIGN.md: exit 0 usable, 1 not usable, 2 usage error.
import { resolve } from 'node:path';
import { inspectPfx, readPfxFile, type CertificateReport } from '../../cert/index.js';
import { Masker } from '../../secrets/masker.js';
import { EXIT, wholeDays, secretFromEnv, tableWidth, OUTPUT_OPTIONS } from '../usage.js';
import { defineCommand } from '../command.js';
import { DEFAULT_WIDTH, textTable } from '../../text/text-table.js';

export const CERT_INSPECT_HELP = `Usage: d365-exo-sync cert inspect --pfx FILE [--password-env VAR] [--host NAME]... [--min-days N] [--json] [--wide]

Checks a PFX before it is used: readable with its password, RSA 2048+ key matching a certificate,
SHA-256 signature, dates, the host names it must cover, chain and EKU.

  --pfx FILE          the PFX (PKCS#12) file
  --password-env VAR  name of the environment variable holding the PFX password (none: no password)
  --host NAME         a name the certificate must cover; repeat for several
  --min-days N        fewer days left than this is an error (default 14)
  --json              print the report as JSON
  --wide              tables as wide as their cells (default: the terminal's width, COLUMNS or 100)

Exit: 0 usable, 1 not usable, 2 usage error.
`;

export function renderCertificateReport(report: CertificateReport, width = DEFAULT_WIDTH): string {
  const rows: [string, string][] = [
    ['usable', report.usable ? 'yes' : 'NO'],
    ['subject', report.subject ?? '—'],
    ['issuer', report.issuer ?? '—'],
    ['thumbprint', report.thumbprint ?? '—'],
    ['sha256', report.sha256 ?? '—'],
    ['dnsNames', report.dnsNames.join(', ') || '—'],
    ['notBefore', report.notBefore ?? '—'],
    ['notAfter', report.notAfter ?? '—'],
    ['daysRemaining', report.daysRemaining === null ? '—' : String(report.daysRemaining)],
    ['key', report.key ? `${report.key.algorithm} ${report.key.bits ?? ''}`.trim() : '—'],
    ['signature', report.signatureAlgorithm ?? '—'],
    ['chain', report.chain.map((c) => c.subject).join(' <- ') || '—'],
  ];
  let out = textTable(['field', 'value'], rows, { width });
  if (report.problems.length) {
    out +=
      '\n' +
      textTable(
        ['severity', 'code', 'message'],
        report.problems.map((p) => [p.severity, p.code, p.message]),
        { width },
      );
  }
  return out;
}

export const certInspect = defineCommand({
  help: CERT_INSPECT_HELP,
  options: {
    pfx: { type: 'string' },
    'password-env': { type: 'string' },
    host: { type: 'string', multiple: true },
    'min-days': { type: 'string' },
    ...OUTPUT_OPTIONS,
  },
  required: { pfx: '--pfx FILE' },
  async run(values, io) {
    const minDays = wholeDays('--min-days', values['min-days'], 14);
    const masker = new Masker();
    const password = values['password-env'] ? secretFromEnv(io.env, '--password-env', values['password-env']) : '';
    if (password) masker.add(password);
    const pfx = readPfxFile(resolve(io.cwd, values.pfx), '--pfx');
    const { report } = inspectPfx(pfx, password, { hosts: values.host ?? [], minDays, now: new Date() });
    const text = values.json
      ? JSON.stringify(report, null, 2) + '\n'
      : renderCertificateReport(report, tableWidth(io, values.wide));
    io.stdout(masker.mask(text));
    return report.usable ? EXIT.ok : EXIT.failed;
  },
});
