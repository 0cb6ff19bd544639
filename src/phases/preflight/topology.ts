// Which machine runs which job, from the config alone: preflight outputs these (in plan mode too) so the
// pipelines fan out their later jobs from them.
import type { Config } from '../../config/schema.js';
import type { OutputDefinition } from '../../hosts/host.js';

/** Which machine runs which job, from the config: the pipelines fan out their jobs from these. */
export const TOPOLOGY_OUTPUTS: OutputDefinition[] = [
  {
    name: 'install-servers',
    description:
      'JSON array of the machines install-certificate runs on: every D365 server, plus the AD FS server when adfs.updateSslCertificate is on (set in plan mode too)',
  },
  {
    name: 'deployment-tools-server',
    description: 'The D365 server with the deployment-tools role, where configure-crm runs (set in plan mode too)',
  },
  {
    name: 'adfs-server',
    description:
      'adfs.server, where configure-adfs runs; empty when the config has no adfs section (set in plan mode too)',
  },
];

export function topologyOutputs(config: Config): Record<string, string> {
  const servers = config.deployment.servers.map((s) => s.name);
  const adfs = config.adfs;
  const install =
    adfs?.updateSslCertificate && !servers.some((s) => s.toLowerCase() === adfs.server.toLowerCase())
      ? [...servers, adfs.server]
      : servers;
  return {
    'install-servers': JSON.stringify(install),
    'deployment-tools-server': config.deployment.servers.find((s) => s.roles.includes('deployment-tools'))?.name ?? '',
    'adfs-server': adfs?.server ?? '',
  };
}
