// Builds the clients the phases use, from the config and the environment. Building is offline:
// nothing signs in or connects until a phase makes its first call.
import type { Config } from '../config/schema.js';
import type { Host } from '../hosts/host.js';
import type { PhaseServices } from './phase.js';
import { createEntraServices } from '../graph/entra-service.js';
import { createExchangeServices } from '../graph/exchange-service.js';
import { createWindowsServices } from './windows/powershell-service.js';
import { createCrmServices } from '../crm/client-factory.js';
import { createWebApiInvoker } from '../powershell/webapi.js';
import { entraReadback } from './entra/verify-readback.js';
import { exchangeReadback } from './exchange/verify-readback.js';

export function createServices(config: Config, host: Host, env: NodeJS.ProcessEnv): PhaseServices {
  return {
    entra: createEntraServices(config, host, env),
    // The same Entra app and credential, for an Exchange Online token (configure-exchange).
    exchange: createExchangeServices(config, host, env),
    windows: createWindowsServices(host, env, { timeoutMs: config.deployment.powershellTimeoutMinutes * 60_000 }),
    crm: createCrmServices(config, host, env, {
      // The windows transport: Invoke-RestMethod -UseDefaultCredentials in one PowerShell process per batch.
      powershell: createWebApiInvoker({ onLine: (line) => host.log.debug(line), mask: (text) => host.mask(text) }),
    }),
    verifyReadbacks: [entraReadback, exchangeReadback],
  };
}
