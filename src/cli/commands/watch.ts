// d365-exo-sync watch — expiry monitoring for a scheduled pipeline: exit 0 when everything has more
// than --min-days left, 1 otherwise (or when something could not be checked), 2 on a usage error.
import { CliHost } from '../../hosts/cli-host.js';
import { loadExtraCa } from '../../http/extra-ca.js';
import { createEntraServices } from '../../graph/entra-service.js';
import { textTable } from '../../text/text-table.js';
import { buildTimeline, timelineText } from '../../report/timeline.js';
import { defaultWatchUrls, watch, watchRows } from '../../watch/watch.js';
import { createServices } from '../../phases/create-services.js';
import { readEwsState } from '../../phases/configure-exchange.js';
import { loadConfigOrReport } from '../context.js';
import { EXIT, tableWidth, wholeDays, UsageError, OUTPUT_OPTIONS } from '../usage.js';
import { defineCommand } from '../command.js';

export const WATCH_HELP = `Usage: d365-exo-sync watch --config FILE [--min-days N] [--url URL]... [--skip-entra] [--exchange] [--json] [--wide]

Checks how long is left before something expires: the TLS certificate the D365 URL presents (and
AD FS, when adfs.url is configured) and the keys on the Dynamics CRM service principal in Entra ID.

  --config FILE   the config file
  --min-days N    fewer days left than this fails the check (default 30)
  --url URL       check this https URL instead of the configured ones; repeat for several
  --skip-entra    do not sign in to Entra ID (only the TLS certificates)
  --exchange      also read the tenant's EWS state for the Dynamics app (configure-exchange's reads,
                  read-only; needs the ExchangeOnlineManagement module); a tenant that blocks D365 fails
  --json          print the report as JSON
  --wide          tables as wide as their cells (default: the terminal's width, COLUMNS or 100)

Exit: 0 all fine, 1 something expires within --min-days or could not be checked, 2 usage error.
`;

export const watchCommand = defineCommand({
  help: WATCH_HELP,
  options: {
    config: { type: 'string' },
    'min-days': { type: 'string' },
    url: { type: 'string', multiple: true },
    'skip-entra': { type: 'boolean' },
    exchange: { type: 'boolean' },
    ...OUTPUT_OPTIONS,
  },
  required: { config: '--config FILE' },
  async run(values, io) {
    const minDays = wholeDays('--min-days', values['min-days'], 30);
    for (const url of values.url ?? []) {
      if (!URL.canParse(url) || new URL(url).protocol !== 'https:')
        throw new UsageError(`--url ${url}: give an https:// URL`);
    }
    const json = values.json === true;
    const loaded = loadConfigOrReport(values.config, io, json);
    if (!loaded) return EXIT.failed;
    const host = new CliHost(io);
    const ca = loadExtraCa(io.env);
    const now = new Date();
    const report = await watch({
      minDays,
      urls: values.url?.length ? values.url : defaultWatchUrls(loaded.config),
      ...(values['skip-entra'] ? {} : { entra: createEntraServices(loaded.config, host, io.env) }),
      ...(ca ? { ca } : {}),
      now,
      ...(values.exchange
        ? {
            ewsState: () =>
              readEwsState({
                config: loaded.config,
                host,
                inputs: {},
                now,
                services: createServices(loaded.config, host, io.env),
              }),
          }
        : {}),
    });
    if (json) io.stdout(host.mask(JSON.stringify(report, null, 2)) + '\n');
    else {
      const rows = watchRows(report);
      const width = tableWidth(io, values.wide);
      io.stdout(host.mask(textTable(['what', 'days left', 'details'], rows, { width })));
      const timeline = buildTimeline({
        now: new Date(report.checkedAt),
        ...(report.keys ? { keys: report.keys } : {}),
        current: report.certificates
          .filter((c) => c.ok && c.thumbprint && c.notAfter)
          .map((c) => ({ thumbprint: c.thumbprint!, notAfter: c.notAfter! })),
      });
      io.stdout('\n' + host.mask(timelineText(timeline, width)));
      io.stdout(host.mask(`\n${report.ews}\n`));
      io.stdout(
        report.ok
          ? `\nAll fine: more than ${minDays} days left.\n`
          : '\n' + report.problems.map((p) => `problem: ${p}`).join('\n') + '\n',
      );
    }
    return report.ok ? EXIT.ok : EXIT.failed;
  },
});
