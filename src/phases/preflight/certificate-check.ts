// Preflight's certificate part: the new PFX is readable with its password, has an RSA key of 2048+
// bits, covers the names D365 is reached under, and has enough days left.
import { inspectPfx } from '../../cert/index.js';
import type { Config } from '../../config/schema.js';
import type { PreflightCheck } from './check.js';

/** The names the certificate must cover: the config's list, or the host of the organization URL. */
export function requiredHosts(config: Config): string[] {
  return config.certificate.hosts ?? [new URL(config.deployment.url).hostname];
}

export const certificateCheck: PreflightCheck = {
  id: 'certificate',
  applies: (ctx) => ctx.certificate !== undefined,
  plan: (ctx) => [
    {
      id: 'certificate.inspect',
      title: 'Check the new certificate',
      target: ctx.certificate?.source ?? 'certificate',
      action: 'check',
      before: null,
      after: {
        hosts: requiredHosts(ctx.config),
        minDaysRemaining: ctx.config.certificate.minDaysRemaining,
        key: 'RSA 2048+ with private key',
      },
    },
  ],
  async run(ctx) {
    const input = ctx.certificate!;
    const { report } = inspectPfx(input.pfx, input.password, {
      hosts: requiredHosts(ctx.config),
      minDays: ctx.config.certificate.minDaysRemaining,
      now: ctx.now,
    });
    const errors = report.problems.filter((p) => p.severity === 'error');
    const warnings = report.problems.filter((p) => p.severity === 'warning').map((p) => `${p.code}: ${p.message}`);
    return {
      results: [
        {
          id: 'certificate.inspect',
          title: 'Check the new certificate',
          target: input.source,
          status: errors.length ? 'failed' : 'unchanged',
          before: null,
          after: report.thumbprint
            ? {
                thumbprint: report.thumbprint,
                subject: report.subject,
                notAfter: report.notAfter,
                daysRemaining: report.daysRemaining,
              }
            : null,
          evidence: report,
          ...(errors.length ? { error: errors.map((p) => `${p.code}: ${p.message}`).join('; ') } : {}),
          ...(warnings.length ? { warnings } : {}),
        },
      ],
      outputs: (report.thumbprint && !errors.length ? { thumbprint: report.thumbprint } : {}) as Record<string, string>,
    };
  },
};
