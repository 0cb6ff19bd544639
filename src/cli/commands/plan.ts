// d365-exo-sync plan — validates the config (and certificate, when given) and lists every phase with
// the steps it would take. Phases that cannot read their current state from here say why.
import { CliHost } from '../../hosts/cli-host.js';
import { PHASES } from '../../phases/registry.js';
import type { Step } from '../../phases/phase.js';
import { stepsText } from '../../report/markdown.js';
import { paragraph } from '../../text/text-table.js';
import { timelineFromSteps } from '../../report/record-timeline.js';
import { buildTimeline, timelineText } from '../../report/timeline.js';
import { EXIT, tableWidth, OUTPUT_OPTIONS } from '../usage.js';
import { defineCommand } from '../command.js';
import {
  buildContext,
  CERTIFICATE_OPTIONS,
  loadConfigOrReport,
  parseSets,
  certificateFromFlags,
  settableNames,
} from '../context.js';
import { inspectPfx } from '../../cert/index.js';
import { requiredHosts } from '../../phases/preflight/certificate-check.js';
import { renderCertificateReport } from './cert-inspect.js';

export const PLAN_HELP = `Usage: d365-exo-sync plan --config FILE [--pfx FILE | --pfx-base64-env VAR] [--password-env VAR] [--set name=value]... [--json] [--wide]

Validates the config (and the certificate, when given) and shows, phase by phase in renewal order,
the steps each would take. Changes nothing.

  --config FILE         the config file (YAML or JSON)
  --pfx FILE            the new certificate (PFX)
  --pfx-base64-env VAR  ...or the name of an environment variable holding it as base64
  --password-env VAR    name of the environment variable holding the PFX password
  --set name=value      an output of an earlier phase (tenant-id, thumbprint, organization-id)
  --json                machine-readable output (every value in full)
  --wide                tables as wide as their cells (default: the terminal's width, COLUMNS or 100)

Exit: 0 plan made, 1 config or certificate invalid, 2 usage error.
`;

interface PhasePlan {
  id: string;
  title: string;
  runsOn: string;
  changes: string;
  steps: Step[];
  error?: string;
}

export const plan = defineCommand({
  help: PLAN_HELP,
  options: {
    config: { type: 'string' },
    ...CERTIFICATE_OPTIONS,
    set: { type: 'string', multiple: true },
    ...OUTPUT_OPTIONS,
  },
  required: { config: '--config FILE' },
  async run(values, io) {
    const json = values.json === true;
    const loaded = loadConfigOrReport(values.config, io, json);
    if (!loaded) return EXIT.failed;
    const host = new CliHost(io);
    const certificate = certificateFromFlags(values, io, host);
    const ctx = buildContext(
      loaded.config,
      host,
      io,
      parseSets(values.set, { names: settableNames(PHASES), what: 'any phase' }),
      certificate,
    );

    const phases: PhasePlan[] = [];
    for (const phase of PHASES) {
      const entry: PhasePlan = {
        id: phase.id,
        title: phase.title,
        runsOn: phase.runsOn,
        changes: phase.changes,
        steps: [],
      };
      try {
        entry.steps = await phase.plan(ctx);
      } catch (error) {
        entry.error = host.mask(error instanceof Error ? error.message : String(error));
      }
      phases.push(entry);
    }
    const certificateReport = certificate
      ? inspectPfx(certificate.pfx, certificate.password, {
          hosts: requiredHosts(loaded.config),
          minDays: loaded.config.certificate.minDaysRemaining,
          now: ctx.now,
        }).report
      : null;
    if (json) {
      const document = { valid: true, configHash: loaded.configHash, certificate: certificateReport, phases };
      io.stdout(host.mask(JSON.stringify(document, null, 2)) + '\n');
    } else {
      const width = tableWidth(io, values.wide);
      io.stdout(
        paragraph(`Plan for ${loaded.config.deployment.url} (${loaded.config.deployment.organization})`, width),
      );
      if (certificateReport)
        io.stdout('\nNew certificate\n' + host.mask(renderCertificateReport(certificateReport, width)));
      for (const p of phases) {
        io.stdout('\n' + paragraph(`${p.id} — ${p.title}`, width));
        io.stdout(paragraph(`runs on: ${p.runsOn}; changes: ${p.changes}`, width, '  '));
        if (p.error) io.stdout(host.mask(paragraph(`cannot plan from here: ${p.error}`, width, '  ', '    ')));
        else if (p.steps.length === 0) io.stdout('  nothing to do\n');
        else io.stdout(host.mask(stepsText(p.steps, width, '  ')));
      }
      const next =
        certificateReport?.thumbprint && certificateReport.notAfter
          ? {
              thumbprint: certificateReport.thumbprint,
              notAfter: certificateReport.notAfter,
              ...(certificateReport.notBefore ? { notBefore: certificateReport.notBefore } : {}),
            }
          : undefined;
      // Without keys or a certificate to draw, the dates that bound the renewal still are: today, the CA/B steps, EWS.
      const timeline =
        timelineFromSteps(
          phases.flatMap((p) => p.steps),
          ctx.now,
          next ? { next } : {},
        ) ?? buildTimeline({ now: ctx.now });
      io.stdout('\n' + host.mask(timelineText(timeline, width)));
    }
    return certificateReport && !certificateReport.usable ? EXIT.failed : EXIT.ok;
  },
});
