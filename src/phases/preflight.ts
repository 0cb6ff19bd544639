// preflight: read-only checks of everything reachable before anything changes. Each area (config
// and certificate, Entra ID, the D365 Web API) contributes a PreflightCheck.
import type { Phase, StepResult } from './phase.js';
import type { PreflightCheck } from './preflight-check.js';
import type { Config } from '../config/schema.js';
import type { OutputDefinition } from '../hosts/host.js';

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

export function createPreflightPhase(checks: PreflightCheck[]): Phase {
  return {
    id: 'preflight',
    title: 'Preflight checks',
    runsOn: 'anywhere',
    changes: 'nothing',
    signsInToEntra: true,
    inputs: [],
    outputs: [
      { name: 'thumbprint', description: 'SHA-1 thumbprint of the new certificate (upper-case hex)' },
      { name: 'tenant-id', description: 'Entra tenant id read from Microsoft Graph' },
      { name: 'organization-id', description: 'D365 organization id (the App for Outlook AD FS client id)' },
      ...TOPOLOGY_OUTPUTS,
    ],
    configOutputs: topologyOutputs,
    async plan(ctx) {
      return checks.filter((c) => c.applies(ctx)).flatMap((c) => c.plan(ctx));
    },
    async apply(ctx) {
      const results: StepResult[] = [];
      const outputs: Record<string, string> = {};
      for (const check of checks.filter((c) => c.applies(ctx))) {
        try {
          const outcome = await check.run(ctx);
          results.push(...outcome.results);
          Object.assign(outputs, outcome.outputs);
        } catch (error) {
          // One area failing must not hide the others' findings.
          results.push({
            id: `${check.id}.error`,
            title: `${check.id} checks`,
            target: check.id,
            status: 'failed',
            before: null,
            after: null,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      return { results, outputs };
    },
  };
}
