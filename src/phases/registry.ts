// Every phase the toolkit has, in the zero-downtime renewal order of DESIGN.md.
import type { Phase, PhaseId } from './phase.js';
import { createPreflightPhase } from './preflight/preflight-phase.js';
import { configCheck } from './preflight/config-check.js';
import { certificateCheck } from './preflight/certificate-check.js';
import { deadlineCheck } from './preflight/deadline-check.js';
import { entraCheck } from './preflight/entra-checks.js';
import { d365PreflightCheck } from './preflight/d365-checks.js';
import { exchangeCheck } from './preflight/exchange-check.js';
import { configureMailboxesPhase } from './configure-mailboxes.js';
import { verifyPhase } from './verify.js';
import { registerEntraPhase } from './register-entra.js';
import { configureExchangePhase } from './configure-exchange.js';
import { installCertificatePhase } from './install-certificate.js';
import { configureCrmPhase } from './configure-crm.js';
import { configureAdfsPhase } from './configure-adfs.js';
import { retirePreviousPhase } from './retire-previous.js';

export const PHASES: Phase[] = [
  createPreflightPhase([configCheck, deadlineCheck, certificateCheck, entraCheck, exchangeCheck, d365PreflightCheck]),
  registerEntraPhase,
  configureExchangePhase,
  installCertificatePhase,
  configureCrmPhase,
  configureAdfsPhase,
  configureMailboxesPhase,
  verifyPhase,
  retirePreviousPhase,
];

export function findPhase(id: string): Phase | undefined {
  return PHASES.find((phase) => phase.id === (id as PhaseId));
}
