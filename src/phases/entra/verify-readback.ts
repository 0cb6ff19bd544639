// The Entra ID part of verify: the current certificate is a valid Verify key of the Dynamics CRM
// service principal, and the service principal names are there. Read-only; verify runs it through
// services.verifyReadbacks.
import { DYNAMICS_APP_ID } from '../../config/schema.js';
import type { StepResult } from '../phase.js';
import type { VerifyReadback } from '../verify.js';
import { errorText, failedReadStep, newCertificate, normalizeThumbprint, readCloudState } from './common.js';
import { requireEntra } from '../phase-services.js';
import { evaluateCurrentKey, evaluateServicePrincipalNames } from './verify-evaluate.js';

export const entraReadback: VerifyReadback = {
  id: 'entra',
  title: 'Entra ID: the certificate on the Dynamics CRM service principal',
  async collect(ctx) {
    const entra = requireEntra(ctx, 'verify (Entra ID readback)');
    const thumbprint = normalizeThumbprint(ctx.inputs.thumbprint) ?? newCertificate(ctx)?.thumbprint;
    const target = `service principal of appId ${DYNAMICS_APP_ID}`;
    if (!thumbprint) {
      return [
        {
          id: 'entra.key-present',
          title: 'The current certificate is a key credential',
          target,
          // Without a certificate there is nothing to look for; verify then names no verified-thumbprint,
          // so retire-previous cannot act on this run.
          status: 'skipped',
          before: null,
          after: null,
          evidence: 'no current certificate to look for: pass thumbprint=<register-entra output> (or the PFX)',
        },
      ];
    }
    let state;
    try {
      state = await readCloudState(ctx, entra);
    } catch (error) {
      return [
        {
          id: failedReadStep(error),
          title: 'Read the service principal',
          target,
          status: 'failed',
          before: null,
          after: null,
          error: errorText(error),
        },
      ];
    }
    const results: StepResult[] = [];
    const { servicePrincipal } = state;
    results.push({
      id: 'entra.key-present',
      title: 'The current certificate is a key credential',
      target: `service principal ${servicePrincipal.id}`,
      before: null,
      evidence: { thumbprint, tenantId: state.organization.id },
      ...evaluateCurrentKey(state.keys, thumbprint, ctx.now),
    });
    results.push({
      id: 'entra.service-principal-names',
      title: 'The service principal names are there',
      target: `service principal ${servicePrincipal.id}`,
      before: null,
      ...evaluateServicePrincipalNames(servicePrincipal.servicePrincipalNames, {
        appId: DYNAMICS_APP_ID,
        ...ctx.config.tenant,
      }),
    });
    return results;
  },
};
