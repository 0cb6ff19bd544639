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

/** The Entra service of a run, or a clear error naming the phase that needs it. */
export function requireEntra(ctx: PhaseContext, phaseId: string): EntraServices {
  const entra = ctx.services.entra;
  if (!entra) {
    throw new Error(
      `${phaseId} needs the Entra ID service (Microsoft Graph), but this run was started without it: ` +
        'the runner must build it with createEntraServices(config, host, env) from the tenant section of the config',
    );
  }
  return entra;
}

/** The Exchange Online service of a run, or a clear error naming the phase that needs it. */
export function requireExchange(ctx: PhaseContext, phaseId: string): ExchangeServices {
  const exchange = ctx.services.exchange;
  if (!exchange) {
    throw new Error(
      `${phaseId} needs the Exchange Online service, but this run was started without it: ` +
        'the runner must build it with createExchangeServices(config, host, env)',
    );
  }
  return exchange;
}

/** The PowerShell service of a run, or a clear error naming the phase that needs it. */
export function requireWindows(ctx: PhaseContext, phaseId: string): WindowsServices {
  const windows = ctx.services.windows;
  if (!windows) {
    throw new Error(
      `${phaseId} runs the PowerShell module on this server, but this run was started without the PowerShell service: ` +
        'the runner must build it with createWindowsServices(host, env)',
    );
  }
  return windows;
}

/** The D365 Web API client of a run, or a clear error naming the phase that needs it. */
export function requireCrm(ctx: PhaseContext, phase: string): CrmServices {
  if (!ctx.services.crm) {
    throw new Error(
      `${phase} talks to the D365 Web API, but this run has no D365 client: the runner must pass services.crm = createCrmServices(config, host, process.env)`,
    );
  }
  return ctx.services.crm;
}
