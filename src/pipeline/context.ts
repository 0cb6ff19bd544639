// The PhaseContext every front end builds the same way (the CLI, the GitHub Action, the Azure DevOps
// task): config, host, earlier outputs, the certificate, and the lazily built service clients.
import type { Config } from '../config/schema.js';
import type { Host } from '../hosts/host.js';
import type { CertificateInput, PhaseContext } from '../phases/phase.js';
import { createServices } from '../phases/create-services.js';

export interface PhaseContextParts {
  config: Config;
  host: Host;
  env: NodeJS.ProcessEnv;
  /** Outputs of earlier phases (tenant-id, thumbprint, organization-id, ...). */
  inputs: Record<string, string | undefined>;
  certificate?: CertificateInput;
  now?: Date;
}

export function buildPhaseContext(parts: PhaseContextParts): PhaseContext {
  return {
    config: parts.config,
    host: parts.host,
    inputs: parts.inputs,
    now: parts.now ?? new Date(),
    ...(parts.certificate ? { certificate: parts.certificate } : {}),
    services: createServices(parts.config, parts.host, parts.env),
  };
}
