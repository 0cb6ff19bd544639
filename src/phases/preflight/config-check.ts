// Preflight's config part: by the time a phase runs the config has passed its schema, so this
// records what was checked (deployment, servers, tenant).
import type { PreflightCheck } from './check.js';

export const configCheck: PreflightCheck = {
  id: 'config',
  applies: () => true,
  plan: (ctx) => [
    {
      id: 'config.valid',
      title: 'Validate the config',
      target: ctx.config.deployment.url,
      action: 'check',
      before: null,
      after: 'schema and cross-field checks pass',
    },
  ],
  async run(ctx) {
    const { deployment, tenant } = ctx.config;
    return {
      results: [
        {
          id: 'config.valid',
          title: 'Validate the config',
          target: deployment.url,
          status: 'unchanged',
          before: null,
          after: {
            organization: deployment.organization,
            servers: deployment.servers.map((s) => `${s.name} (${s.roles.join(', ')})`),
            tenant: tenant.id ?? tenant.domain,
            cloud: tenant.cloud,
          },
        },
      ],
    };
  },
};
