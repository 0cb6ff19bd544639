// config.schema.json is derived from the zod schema, so editors and the docs never drift from it.
import * as z from 'zod';
import { ConfigSchema } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'd365-exo-sync config',
    description:
      'Config of d365-exo-sync: the D365 deployment, the Entra ID tenant, the certificate checks, AD FS and server-side sync. Generated from src/config/schema.ts: do not edit.',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}

export function configJsonSchemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}
