// The clients a phase may use, in one interface, and the helpers a phase calls to get the one it needs.
// The entries build them with createServices (create-services.ts); a test or the demo passes its own. Each
// is optional because a run builds only what its host can reach: a phase that needs one it was not given
// fails with a message naming the phase and the factory, before it changes anything.
import type { CrmServices } from '../crm/client-factory.js';
import type { EntraServices } from '../graph/entra-service.js';
import type { ExchangeServices } from '../graph/exchange-service.js';
import type { PhaseContext } from './phase.js';
import type { VerifyReadback } from './verify.js';
import type { WindowsServices } from './windows/powershell-service.js';

export interface PhaseServices {
  /** Entra ID through Microsoft Graph (register-entra, retire-previous, preflight, verify); createEntraServices. */
  entra?: EntraServices;
  /** Exchange Online: an app-only token for the ExchangeOnlineManagement module (configure-exchange); createExchangeServices. */
  exchange?: ExchangeServices;
  /** The static PowerShell module on this Windows server (install-certificate, configure-crm, configure-adfs); createWindowsServices. */
  windows?: WindowsServices;
  /** The D365 Web API client (configure-mailboxes, verify, preflight); createCrmServices. */
  crm?: CrmServices;
  /** Readbacks of the other phases (Entra key, Exchange), run by verify after the D365 checks. */
  verifyReadbacks?: VerifyReadback[];
}

/** The clients a phase asks for by name, and what the message says is missing and how the runner builds it. */
const MISSING: { [K in Exclude<keyof PhaseServices, 'verifyReadbacks'>]: (phaseId: string) => string } = {
  entra: (phaseId) =>
    `${phaseId} needs the Entra ID service (Microsoft Graph), but this run was started without it: ` +
    'the runner must build it with createEntraServices(config, host, env) from the tenant section of the config',
  exchange: (phaseId) =>
    `${phaseId} needs the Exchange Online service, but this run was started without it: ` +
    'the runner must build it with createExchangeServices(config, host, env)',
  windows: (phaseId) =>
    `${phaseId} runs the PowerShell module on this server, but this run was started without the PowerShell service: ` +
    'the runner must build it with createWindowsServices(host, env)',
  crm: (phaseId) =>
    `${phaseId} talks to the D365 Web API, but this run has no D365 client: the runner must pass services.crm = createCrmServices(config, host, process.env)`,
};

/** One client of a run, or a clear error naming the phase that needs it. */
function requireService<K extends keyof typeof MISSING>(
  ctx: PhaseContext,
  name: K,
  phaseId: string,
): NonNullable<PhaseServices[K]> {
  const service = ctx.services[name];
  if (!service) throw new Error(MISSING[name](phaseId));
  return service as NonNullable<PhaseServices[K]>;
}

/** The Entra service of a run, or a clear error naming the phase that needs it. */
export const requireEntra = (ctx: PhaseContext, phaseId: string): EntraServices =>
  requireService(ctx, 'entra', phaseId);

/** The Exchange Online service of a run, or a clear error naming the phase that needs it. */
export const requireExchange = (ctx: PhaseContext, phaseId: string): ExchangeServices =>
  requireService(ctx, 'exchange', phaseId);

/** The PowerShell service of a run, or a clear error naming the phase that needs it. */
export const requireWindows = (ctx: PhaseContext, phaseId: string): WindowsServices =>
  requireService(ctx, 'windows', phaseId);

/** The D365 Web API client of a run, or a clear error naming the phase that needs it. */
export const requireCrm = (ctx: PhaseContext, phaseId: string): CrmServices => requireService(ctx, 'crm', phaseId);
