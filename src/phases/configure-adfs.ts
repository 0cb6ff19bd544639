// configure-adfs: on the primary AD FS server. Forms authentication where configured (the provider lists are read,
// merged and written: nothing is removed), the App for Outlook OAuth client (Add-AdfsClient with ClientId = the D365
// organization id and RedirectUri scheme://host[:port]/crmmailapp/code_auth.aspx of deployment.url, as the mail app
// builds it; an existing client with other values is updated),
// Grant-AdfsApplicationPermission on AD FS 2016+ (adfs.serverRoleIdentifier, or the one auth.<domain> relying party
// identifier found), optionally the new certificate as AD FS SSL and service-communications certificate (it must be
// in LocalMachine\My already: install-certificate on the AD FS server), then adfssrv restarted when something
// changed. One PowerShell process (Set-D365ExoSyncAdfsConfiguration). Without an adfs section there is nothing to do.
//
// Inputs: server (default: this computer's name), organization-id (the D365 preflight's or configure-crm's output),
// thumbprint (with adfs.updateSslCertificate and no PFX). Outputs: outlook-client-id, outlook-redirect-uri.
import type { Phase, PhaseContext, PhaseOutcome } from './phase.js';
import { certificateThumbprint } from './windows/certificate.js';
import { adfsServer, SERVER_INPUT } from './windows/server.js';
import type { WindowsServices } from './windows/powershell-service.js';
import { requireWindows } from './phase-services.js';
import { GUID_PATTERN } from '../config/formats.js';
import { runWarnings } from './windows/step-results.js';
import { moduleSteps } from './windows/step-catalogue.js';
import { powerShellPhase } from './windows/powershell-phase.js';
import type { Config } from '../config/schema.js';

/**
 * The App for Outlook redirect URI: AD FS matches it exactly, and the mail app builds it from the server's
 * scheme://host[:port] (URL.host leaves out the scheme's default port) and /crmmailapp/code_auth.aspx.
 */
export function outlookRedirectUri(deploymentUrl: string): string {
  const url = new URL(deploymentUrl);
  return `${url.protocol}//${url.host}/crmmailapp/code_auth.aspx`;
}

const PHASE_ID = 'configure-adfs';

const SPEC = moduleSteps(PHASE_ID, {
  'outlook-client': (step) => (step.before ? 'update' : 'create'),
});

interface Prepared {
  windows: WindowsServices;
  server: string;
  adfs: NonNullable<Config['adfs']>;
  organizationId?: string;
  thumbprint?: string;
}

function organizationIdOf(ctx: PhaseContext, adfs: NonNullable<Config['adfs']>): string | undefined {
  const raw = ctx.inputs['organization-id']?.trim();
  if (raw && !GUID_PATTERN.test(raw)) throw new Error(`${PHASE_ID}: organization-id ${raw} is not a GUID`);
  if (!raw && adfs.outlookApp) {
    throw new Error(
      `${PHASE_ID} needs the D365 organization id: it is the client id of the App for Outlook client. Pass organization-id ` +
        "(the preflight's or configure-crm's output; CLI: --set organization-id=GUID), or set adfs.outlookApp: false",
    );
  }
  return raw?.toLowerCase();
}

function thumbprintOf(ctx: PhaseContext, adfs: NonNullable<Config['adfs']>): string | undefined {
  if (!adfs.updateSslCertificate) return undefined;
  const thumbprint = certificateThumbprint(ctx, PHASE_ID);
  if (thumbprint) return thumbprint;
  throw new Error(
    `${PHASE_ID}: adfs.updateSslCertificate is on, so it needs the certificate: pass thumbprint (install-certificate's ` +
      'output on this server; CLI: --set thumbprint=...) or the PFX',
  );
}

function moduleParameters(ctx: PhaseContext, p: Prepared) {
  const forms = p.adfs.formsAuthentication;
  return {
    organizationUrl: ctx.config.deployment.url,
    ...(p.organizationId ? { organizationId: p.organizationId } : {}),
    outlookApp: p.adfs.outlookApp,
    ...(p.adfs.serverRoleIdentifier ? { serverRoleIdentifier: p.adfs.serverRoleIdentifier } : {}),
    formsAuthentication: { intranet: forms, extranet: forms },
    ...(p.thumbprint ? { certificate: { thumbprint: p.thumbprint, ssl: true, serviceCommunications: true } } : {}),
    restart: ctx.config.deployment.restartServices ? 'when-changed' : 'never',
  };
}

const NOTHING = {
  id: 'adfs.configuration',
  title: 'Configure AD FS',
  target: 'AD FS',
  before: null,
  after: null,
} as const;
const NO_ADFS = 'the config has no adfs section: nothing to configure';

const run = powerShellPhase<Prepared>({
  spec: SPEC,
  prepare(ctx) {
    const windows = requireWindows(ctx, PHASE_ID);
    const target = adfsServer(ctx, windows, PHASE_ID)!;
    const organizationId = organizationIdOf(ctx, target.adfs);
    const thumbprint = thumbprintOf(ctx, target.adfs);
    return {
      windows,
      server: target.name,
      adfs: target.adfs,
      ...(organizationId ? { organizationId } : {}),
      ...(thumbprint ? { thumbprint } : {}),
    };
  },
  target: (p) => p.server,
  call: (ctx, p) => ({ parameters: moduleParameters(ctx, p) }),
  details(ctx, p, result) {
    const skipNotes: Record<string, string> = {};
    if (!p.adfs.outlookApp) {
      skipNotes['outlook-client'] = 'disabled (adfs.outlookApp: false)';
      skipNotes['application-permission'] = 'disabled (adfs.outlookApp: false)';
    }
    if (!p.adfs.updateSslCertificate)
      skipNotes['adfs-certificate'] = 'not configured (adfs.updateSslCertificate: false)';
    if (!ctx.config.deployment.restartServices)
      skipNotes['restart-services'] = 'disabled (deployment.restartServices: false)';
    return { server: p.server, skipNotes, warnings: runWarnings(p.server, result) };
  },
  applied(ctx, _p, result, results) {
    const outputs: Record<string, string> = {};
    const client = result.steps.find((s) => s.id === 'outlook-client');
    if (client && (client.status === 'changed' || client.status === 'unchanged')) {
      const after = client.after as { clientId?: string; redirectUri?: string | string[] } | null;
      const redirect = outlookRedirectUri(ctx.config.deployment.url);
      const uris = Array.isArray(after?.redirectUri)
        ? after.redirectUri
        : after?.redirectUri
          ? [after.redirectUri]
          : [];
      outputs['outlook-client-id'] = String(after?.clientId ?? '');
      outputs['outlook-redirect-uri'] = uris.includes(redirect) ? redirect : '';
    }
    return { results, outputs };
  },
});

// Without an adfs section there is no AD FS server to run on: one step says so, and no PowerShell starts.
const plan: Phase['plan'] = (ctx) =>
  ctx.config.adfs ? run.plan(ctx) : Promise.resolve([{ ...NOTHING, action: 'none', note: NO_ADFS }]);
const apply: Phase['apply'] = (ctx): Promise<PhaseOutcome> =>
  ctx.config.adfs
    ? run.apply(ctx)
    : Promise.resolve({ results: [{ ...NOTHING, status: 'skipped', evidence: { note: NO_ADFS } }], outputs: {} });

export const configureAdfsPhase: Phase = {
  id: PHASE_ID,
  title: 'Configure AD FS for the App for Outlook',
  runsOn: 'the primary AD FS server (adfs.server)',
  changes:
    'AD FS: forms authentication, the App for Outlook client and its permission, optionally the SSL and service-communications certificate',
  writes: { certificate: true },
  inputs: [
    SERVER_INPUT,
    {
      name: 'organization-id',
      description:
        "The D365 organization id (the preflight's or configure-crm's output): the client id of the App for Outlook client. Needed when adfs.outlookApp is on.",
    },
    {
      name: 'thumbprint',
      description:
        "Thumbprint of the certificate for AD FS SSL and service communications (install-certificate's output on this server). Needed with adfs.updateSslCertificate and no PFX.",
    },
  ],
  outputs: [
    {
      name: 'outlook-client-id',
      description: 'Client id of the App for Outlook client in AD FS (the organization id)',
    },
    { name: 'outlook-redirect-uri', description: 'The redirect URI the App for Outlook client has in AD FS' },
  ],
  plan,
  apply,
};
