// install-certificate: on every D365 server (one pipeline job per server), the new certificate into LocalMachine\My
// with its key in a legacy CSP, KeySpec 1, not exportable (a re-import replaces the installed copy in place); the PFX's
// intermediate certificates into LocalMachine\CA; Read on the key for the async and web service accounts
// (and whoever the D365 services run as); the IIS HTTPS binding rebound on web servers when configured; older
// certificates with the same subject removed (CRM finds its certificate by subject); the D365 services restarted
// when something changed. With adfs.updateSslCertificate it also runs on the AD FS server (import and Read for
// NT SERVICE\adfssrv only: configure-adfs switches AD FS to it). All of it in one PowerShell process (powershell/, Install-D365ExoSyncCertificate); plan is
// that function's -WhatIf result. The PFX reaches Windows rebuilt by src/cert (windows/certificate.ts).
//
// Inputs: server (default: this computer's name). Outputs: thumbprint (read back from the store), removed-thumbprints.
import type { Phase, PhaseContext, PhaseOutcome } from './phase.js';
import { assertNotExpired, certificateFacts, windowsPfx, type CertificateFacts } from './windows/certificate.js';
import { installTarget, SERVER_INPUT, type InstallTarget } from './windows/server.js';
import type { WindowsServices } from './windows/powershell-service.js';
import { requireWindows } from './phase-services.js';
import { runWarnings } from './windows/step-results.js';
import { moduleSteps } from './windows/step-catalogue.js';
import { powerShellPhase } from './windows/powershell-phase.js';

const PHASE_ID = 'install-certificate';

const SPEC = moduleSteps(PHASE_ID, {
  certificate: (step) => ((step.before as { present?: boolean } | null)?.present ? 'update' : 'create'),
  'remove-older': () => 'delete',
});

function requireCertificate(ctx: PhaseContext): CertificateFacts {
  const facts = certificateFacts(ctx);
  if (!facts) {
    throw new Error(
      `${PHASE_ID} needs the new certificate: pass the PFX (--pfx FILE or --pfx-base64-env VAR, with --password-env VAR; ` +
        'in a pipeline the pfx-base64 or pfx-file input with pfx-password)',
    );
  }
  assertNotExpired(facts, ctx, PHASE_ID);
  return facts;
}

/** The account AD FS reads its certificates' keys as (Microsoft: grant it Read on the SSL certificate's key). */
const ADFS_SERVICE_ACCOUNT = 'NT SERVICE\\adfssrv';

function moduleParameters(ctx: PhaseContext, target: InstallTarget, cert: CertificateFacts, mode: 'plan' | 'apply') {
  const deployment = ctx.config.deployment;
  const common = {
    thumbprint: cert.thumbprint,
    // Only the plan needs it (to list what would be removed before the import); apply reads it from the store,
    // in the exact form Windows writes it.
    ...(mode === 'plan' ? { subject: cert.subject } : {}),
  };
  if (target.kind === 'adfs') {
    // The AD FS server: AD FS keeps using the old certificate until configure-adfs switches it, so nothing is removed
    // and nothing restarted here; no D365 service accounts or sites exist on it.
    return {
      ...common,
      keyReaders: [ADFS_SERVICE_ACCOUNT],
      includeServiceAccounts: false,
      removeSameSubject: false,
      restart: 'never',
    };
  }
  const rebind = deployment.iis.rebindHttps && target.server.roles.includes('web');
  return {
    ...common,
    keyReaders: [...new Set([deployment.serviceAccounts.async, deployment.serviceAccounts.web])],
    // Two certificates with one subject make CRM's lookup by subject fail ("Private key not found").
    removeSameSubject: deployment.removeSameSubject,
    ...(rebind
      ? {
          iisBinding: {
            site: deployment.iis.siteName,
            port: deployment.iis.port,
            ...(deployment.iis.hostHeader ? { hostHeader: deployment.iis.hostHeader } : {}),
          },
        }
      : {}),
    restart: deployment.restartServices ? 'when-changed' : 'never',
  };
}

function skipNotes(ctx: PhaseContext, target: InstallTarget): Record<string, string> {
  if (target.kind === 'adfs') {
    return {
      'iis-binding': 'the AD FS server: configure-adfs makes the certificate the AD FS SSL certificate',
      'remove-older': 'the AD FS server: AD FS uses the older certificate until configure-adfs switches it',
      'restart-services': 'the AD FS server: configure-adfs restarts adfssrv',
    };
  }
  const notes: Record<string, string> = {};
  if (!ctx.config.deployment.iis.rebindHttps)
    notes['iis-binding'] = 'not configured (deployment.iis.rebindHttps: false)';
  else if (!target.server.roles.includes('web'))
    notes['iis-binding'] = `${target.name} has no web role: the HTTPS binding is rebound on the web servers only`;
  if (!ctx.config.deployment.restartServices)
    notes['restart-services'] = 'disabled (deployment.restartServices: false)';
  return notes;
}

interface Prepared {
  windows: WindowsServices;
  target: InstallTarget;
  cert: CertificateFacts;
}

const strings = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === null || value === undefined ? [] : [value]).map(String);

const run = powerShellPhase<Prepared>({
  spec: SPEC,
  prepare(ctx) {
    const windows = requireWindows(ctx, PHASE_ID);
    const target = installTarget(ctx, windows, PHASE_ID);
    return { windows, target, cert: requireCertificate(ctx) };
  },
  target: (p) => p.target.name,
  call(ctx, p, mode) {
    const parameters = moduleParameters(ctx, p.target, p.cert, mode);
    if (mode === 'plan') return { parameters };
    const pfx = windowsPfx(ctx.certificate!, ctx.host);
    return { parameters, secrets: { PfxPassword: pfx.password }, pfx: pfx.pfx };
  },
  details: (ctx, p, result) => ({
    server: p.target.name,
    skipNotes: skipNotes(ctx, p.target),
    warnings: runWarnings(p.target.name, result),
  }),
  applied(_ctx, p, result, results): PhaseOutcome {
    const installed = (result.evidence.certificate as { thumbprint?: string } | undefined)?.thumbprint?.toUpperCase();
    if (installed !== p.cert.thumbprint) {
      const step = results.find((r) => r.id === 'server.certificate');
      const error = `LocalMachine\\My reads back ${installed ?? 'no certificate'}, expected ${p.cert.thumbprint}`;
      if (step) Object.assign(step, { status: 'failed', error });
      return { results, outputs: {} };
    }
    return {
      results,
      outputs: {
        thumbprint: installed,
        'removed-thumbprints': strings(result.evidence.removedThumbprints).join(','),
      },
    };
  },
});

export const installCertificatePhase: Phase = {
  id: PHASE_ID,
  title: 'Install the certificate on a D365 server',
  runsOn: 'every D365 server (one job per server, on that server), and the AD FS server with adfs.updateSslCertificate',
  changes: 'that server: LocalMachine\\My, private key ACL, optionally the IIS HTTPS binding, D365 service restarts',
  writes: { certificate: true },
  inputs: [SERVER_INPUT],
  outputs: [
    {
      name: 'thumbprint',
      description: 'SHA-1 thumbprint of the certificate now in LocalMachine\\My of this server (read back)',
    },
    {
      name: 'removed-thumbprints',
      description: 'Comma-separated thumbprints of the older certificates with the same subject removed from the store',
    },
  ],
  ...run,
};
