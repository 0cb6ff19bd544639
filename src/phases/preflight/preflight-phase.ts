// preflight: read-only checks of everything reachable before anything changes. Each area (config
// and certificate, Entra ID, the D365 Web API) contributes a PreflightCheck.
import type { Phase, StepResult } from '../phase.js';
import type { PreflightCheck } from './check.js';
import { TOPOLOGY_OUTPUTS, topologyOutputs } from './topology.js';

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
