// configure-crm: once per deployment, on the server with the Deployment Tools role. Checks the caller is a
// Deployment Administrator (and names the account when not), makes the new certificate the S2STokenIssuer
// certificate (CertificateReconfiguration.ps1 -certificateType S2STokenIssuer -updateCrm, run in-process by the
// module with the password from its environment), sets the ServerSettings S2S authorization server (the metadata URL
// follows tenant.cloud), the organization's S2STenantId and OAuthClaimsSettings.Enabled, restarts the async services
// when something changed, and reads every value back. One PowerShell process (Set-D365ExoSyncCrmConfiguration).
//
// Inputs: server (default: this computer's name), thumbprint (when no PFX is given: a run that only checks or
// repairs the settings), tenant-id (register-entra's output; default tenant.id).
// Outputs: what was read back: thumbprint, organization-id, tenant-id.
import type { Phase, PhaseContext, PhaseOutcome } from './phase.js';
import { resolveS2sMetadataUrl } from '../graph/endpoints.js';
import { certificateThumbprint, windowsPfx } from './windows/certificate.js';
import { deploymentToolsServer, SERVER_INPUT, type ServerConfig } from './windows/server.js';
import type { WindowsServices } from './windows/powershell-service.js';
import { requireWindows } from './phase-services.js';
import { GUID_PATTERN } from '../config/formats.js';
import { runWarnings } from './windows/step-results.js';
import { moduleSteps } from './windows/step-catalogue.js';
import { powerShellPhase } from './windows/powershell-phase.js';

const PHASE_ID = 'configure-crm';

const SPEC = moduleSteps(PHASE_ID, {
  's2s-certificate': (step) =>
    ((step.before as { thumbprints?: unknown } | null)?.thumbprints as unknown[] | undefined)?.length
      ? 'update'
      : 'create',
});

export const THUMBPRINT_INPUT = {
  name: 'thumbprint',
  description:
    "SHA-1 thumbprint of the new certificate (register-entra's output). Needed only without the PFX; with the PFX it must match it.",
};

interface Prepared {
  windows: WindowsServices;
  server: ServerConfig;
  thumbprint: string;
  tenantId: string;
}

function thumbprintOf(ctx: PhaseContext): string {
  const thumbprint = certificateThumbprint(ctx, PHASE_ID);
  if (thumbprint) return thumbprint;
  throw new Error(
    `${PHASE_ID} needs the new certificate: pass the PFX (--pfx FILE with --password-env VAR; in a pipeline pfx-base64 ` +
      "or pfx-file with pfx-password), or its thumbprint (register-entra's output) when the S2S certificate is already in place",
  );
}

function tenantIdOf(ctx: PhaseContext): string {
  const raw = ctx.inputs['tenant-id']?.trim();
  const configured = ctx.config.tenant.id;
  if (raw) {
    if (!GUID_PATTERN.test(raw)) throw new Error(`${PHASE_ID}: tenant-id ${raw} is not a GUID`);
    if (configured && configured.toLowerCase() !== raw.toLowerCase()) {
      throw new Error(
        `${PHASE_ID}: the input tenant-id ${raw} is not the configured tenant.id ${configured}: check which tenant register-entra ran against`,
      );
    }
    return raw.toLowerCase();
  }
  if (configured) return configured.toLowerCase();
  throw new Error(
    `${PHASE_ID} needs the Entra tenant id: pass tenant-id (register-entra's output; CLI: --set tenant-id=GUID) ` +
      'or set tenant.id in the config',
  );
}

function moduleParameters(ctx: PhaseContext, p: Prepared) {
  const deployment = ctx.config.deployment;
  return {
    organization: deployment.organization,
    tenantId: p.tenantId,
    thumbprint: p.thumbprint,
    asyncServiceAccount: deployment.serviceAccounts.async,
    metadataUrl: resolveS2sMetadataUrl(ctx.config),
    toolsPath: deployment.toolsPath,
    enableOAuthClaims: true,
    restart: deployment.restartServices ? 'when-changed' : 'never',
  };
}

const first = (value: unknown): string | undefined =>
  Array.isArray(value) ? (value.length === 1 ? String(value[0]) : undefined) : value ? String(value) : undefined;

const run = powerShellPhase<Prepared>({
  spec: SPEC,
  prepare(ctx) {
    const windows = requireWindows(ctx, PHASE_ID);
    const server = deploymentToolsServer(ctx, windows, PHASE_ID);
    return { windows, server, thumbprint: thumbprintOf(ctx), tenantId: tenantIdOf(ctx) };
  },
  target: (p) => p.server.name,
  call(ctx, p, mode) {
    const parameters = moduleParameters(ctx, p);
    const pfx = mode === 'apply' && ctx.certificate ? windowsPfx(ctx.certificate, ctx.host) : undefined;
    return pfx ? { parameters, secrets: { PfxPassword: pfx.password }, pfx: pfx.pfx } : { parameters };
  },
  details: (ctx, p, result) => ({
    server: p.server.name,
    ...(ctx.config.deployment.restartServices
      ? {}
      : { skipNotes: { 'restart-services': 'disabled (deployment.restartServices: false)' } }),
    warnings: runWarnings(p.server.name, result),
  }),
  planned(ctx, _p, steps) {
    const s2s = steps.find((s) => s.id === 'crm.s2s-certificate');
    if (s2s && s2s.action !== 'none' && !ctx.certificate) {
      const need = 'apply needs the PFX of this certificate (CertificateReconfiguration.ps1 imports it)';
      s2s.note = s2s.note ? `${s2s.note}; ${need}` : need;
    }
    return steps;
  },
  applied(_ctx, p, result, results): PhaseOutcome {
    const evidence = result.evidence;
    const thumbprint = first(evidence.s2sCertificates)?.toUpperCase();
    const organizationId = evidence.organizationId ? String(evidence.organizationId).toLowerCase() : undefined;
    const tenantId = evidence.s2sTenantId ? String(evidence.s2sTenantId).toLowerCase() : undefined;
    // The module compares every value after writing it; this is the last look before the outputs go to later phases.
    const wrong = [
      thumbprint === p.thumbprint ? undefined : `S2STokenIssuer certificate ${thumbprint ?? '(none or several)'}`,
      tenantId === p.tenantId ? undefined : `S2STenantId ${tenantId ?? '(none)'}`,
      organizationId && GUID_PATTERN.test(organizationId) ? undefined : 'no organization id',
    ].filter((w): w is string => !!w);
    if (wrong.length) {
      const step = results.find((r) => r.id === 'crm.read-back') ?? results[results.length - 1];
      if (step) Object.assign(step, { status: 'failed', error: `read back: ${wrong.join(', ')}` });
      return { results, outputs: {} };
    }
    return {
      results,
      outputs: { thumbprint: thumbprint!, 'organization-id': organizationId!, 'tenant-id': tenantId! },
    };
  },
});

export const configureCrmPhase: Phase = {
  id: PHASE_ID,
  title: 'Configure D365 for server-to-server authentication with Exchange Online',
  runsOn: 'the D365 server with the deployment-tools role, once per deployment',
  changes:
    'the D365 configuration database: S2STokenIssuer certificate, ServerSettings, S2STenantId, OAuth claims; async service restarts',
  writes: { certificate: true },
  inputs: [
    SERVER_INPUT,
    THUMBPRINT_INPUT,
    {
      name: 'tenant-id',
      description:
        "The Entra tenant id (register-entra's output) for the organization's S2STenantId. Default: tenant.id of the config.",
    },
  ],
  outputs: [
    {
      name: 'thumbprint',
      description: 'Thumbprint of the S2STokenIssuer certificate, read back from the D365 configuration database',
    },
    { name: 'organization-id', description: 'The D365 organization id (Get-CrmOrganization)' },
    { name: 'tenant-id', description: "The organization's S2STenantId, read back" },
  ],
  ...run,
};
