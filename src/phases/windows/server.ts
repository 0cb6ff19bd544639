// Which server a Windows phase runs for. The phases run ON the server (a self-hosted runner there): by default the
// server is this computer's name, matched case-insensitively against the config; the input `server` names it when
// the computer name differs from the configured one. A server the config does not know is refused before any
// PowerShell starts, with the fix.
import type { Config } from '../../config/schema.js';
import type { InputDefinition } from '../../hosts/host.js';
import type { PhaseContext } from '../phase.js';
import type { WindowsServices } from './powershell-service.js';

export type ServerConfig = Config['deployment']['servers'][number];

export const SERVER_INPUT: InputDefinition = {
  name: 'server',
  description:
    "The server this step runs on, as named in the config. Default: this computer's name (COMPUTERNAME), compared case-insensitively.",
};

export interface ChosenServer {
  /** As given or as the computer is called, upper-case. */
  name: string;
  /** "input server" or "this computer's name", for messages. */
  source: string;
}

export function chosenServer(ctx: PhaseContext, windows: WindowsServices): ChosenServer {
  const given = ctx.inputs.server?.trim();
  if (given) return { name: given.toUpperCase(), source: 'the input server' };
  return { name: windows.computerName, source: "this computer's name" };
}

const sameName = (a: string, b: string) => a.toUpperCase() === b.toUpperCase();

const setServerFix =
  'or, when this computer is that server under another name, set the input server (CLI: --set server=NAME)';

/** Where install-certificate runs: a D365 server, or the AD FS server when it gets the certificate too. */
export type InstallTarget = { kind: 'd365'; name: string; server: ServerConfig } | { kind: 'adfs'; name: string };

/**
 * The server install-certificate runs for: an entry of deployment.servers, or adfs.server when
 * adfs.updateSslCertificate makes the certificate AD FS's too (configure-adfs needs it in that server's store).
 */
export function installTarget(ctx: PhaseContext, windows: WindowsServices, phaseId: string): InstallTarget {
  const chosen = chosenServer(ctx, windows);
  const servers = ctx.config.deployment.servers;
  const server = servers.find((s) => sameName(s.name, chosen.name));
  if (server) return { kind: 'd365', name: server.name, server };
  const adfs = ctx.config.adfs;
  if (adfs && sameName(adfs.server, chosen.name)) {
    if (adfs.updateSslCertificate) return { kind: 'adfs', name: adfs.server };
    throw new Error(
      `${phaseId}: ${adfs.server} is the AD FS server, which needs the certificate only with adfs.updateSslCertificate: true; ` +
        'nothing to install there',
    );
  }
  const where = adfs?.updateSslCertificate ? ` and on the AD FS server ${adfs.server}` : '';
  throw new Error(
    `${phaseId} runs on each D365 server of deployment.servers (${servers.map((s) => s.name).join(', ')})${where}, ` +
      `but ${chosen.name} (${chosen.source}) is not one of them: run it on one of those servers, add ${chosen.name} ` +
      `to deployment.servers with its roles, ${setServerFix}`,
  );
}

/** The Deployment Tools server this run is for (configure-crm). */
export function deploymentToolsServer(ctx: PhaseContext, windows: WindowsServices, phaseId: string): ServerConfig {
  const chosen = chosenServer(ctx, windows);
  const servers = ctx.config.deployment.servers;
  const tools = servers.filter((s) => s.roles.includes('deployment-tools'));
  const names = tools.map((s) => s.name).join(', ');
  const server = servers.find((s) => sameName(s.name, chosen.name));
  if (!server) {
    throw new Error(
      `${phaseId} runs on the server with the deployment-tools role (${names}), ` +
        `but ${chosen.name} (${chosen.source}) is not in deployment.servers: run it on ${names}, ${setServerFix}`,
    );
  }
  if (!server.roles.includes('deployment-tools')) {
    throw new Error(
      `${phaseId} runs on the server with the deployment-tools role (${names}); ${server.name} has the role(s) ` +
        `${server.roles.join(', ')}: run it on ${names} (the CRM cmdlets and CertificateReconfiguration.ps1 are there)`,
    );
  }
  return server;
}

/** The AD FS server this run is for (configure-adfs), or undefined when the config has no adfs section. */
export function adfsServer(
  ctx: PhaseContext,
  windows: WindowsServices,
  phaseId: string,
): { name: string; adfs: NonNullable<Config['adfs']> } | undefined {
  const adfs = ctx.config.adfs;
  if (!adfs) return undefined;
  const chosen = chosenServer(ctx, windows);
  if (!sameName(adfs.server, chosen.name)) {
    throw new Error(
      `${phaseId} runs on the AD FS server of the config (adfs.server: ${adfs.server}), but ${chosen.name} ` +
        `(${chosen.source}) is not it: run it on ${adfs.server} (the primary AD FS server), ${setServerFix}`,
    );
  }
  return { name: adfs.server, adfs };
}
