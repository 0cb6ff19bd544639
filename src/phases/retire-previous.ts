// retire-previous: after a passing verify, removes the key credentials this toolkit added for
// certificates other than the current one (and, with retire.expiredKeys, expired keys of others) from
// the Dynamics CRM service principal. Keys added by anyone else and still valid are never touched.
// It refuses to remove anything unless the current certificate's key is on the service principal and
// valid now, so the service principal is never left without a valid key. The plan lists exactly the
// keys that would go and why; apply removes exactly those and reads the list back.
//
// Inputs (the outputs of earlier phases):
//   thumbprint           the current certificate (register-entra's output); default: the run's PFX
//   verified             "true" only when the verify phase passed (its output `verified`)
//   verified-thumbprint  optional: the certificate verify checked (its output); must equal thumbprint
import { DYNAMICS_APP_ID } from '../config/schema.js';
import { keyThumbprint, type KeyCredential, type RetirePlan } from '../graph/key-credentials.js';
import type { Phase, PhaseContext, PhaseOutcome, Step, StepResult } from './phase.js';
import {
  configuredTenant,
  errorText,
  failedReadStep,
  newCertificate,
  normalizeThumbprint,
  readBackUntil,
  readCloudState,
  skipped,
  summaries,
  type CloudState,
} from './entra/common.js';
import { requireEntra } from './phase-services.js';
import { keysPresent, patchKeyCredentials, type ResendForm } from './entra/patch-keys.js';
import { diffRetirePrevious, verifyGate, type RetireWanted } from './entra/retire-diff.js';

const PHASE_ID = 'retire-previous';
const STEP = { id: 'entra.retire-keys', title: 'Remove superseded key credentials' } as const;
const TENANT_STEP = { id: 'entra.tenant', title: 'Check the Entra tenant' } as const;

/** The current certificate's thumbprint: the input, else the run's PFX; an error text when neither. */
function currentThumbprint(ctx: PhaseContext): { thumbprint?: string; problem?: string } {
  const raw = ctx.inputs.thumbprint;
  if (raw) {
    const thumbprint = normalizeThumbprint(raw);
    return thumbprint ? { thumbprint } : { problem: `thumbprint ${raw} is not a SHA-1 thumbprint (40 hex characters)` };
  }
  try {
    const cert = newCertificate(ctx);
    if (cert) return { thumbprint: cert.thumbprint };
  } catch (error) {
    return { problem: errorText(error) };
  }
  return {
    problem: 'retire-previous needs the current certificate: pass thumbprint=<register-entra output> (or the PFX)',
  };
}

/** What the run asks for: the current certificate, verify's outputs, and retire.expiredKeys. */
function wantedOf(ctx: PhaseContext, thumbprint: string): RetireWanted {
  return {
    thumbprint,
    verified: ctx.inputs.verified,
    verifiedThumbprint: ctx.inputs['verified-thumbprint'],
    expiredKeysOfOthers: ctx.config.retire.expiredKeys,
  };
}

const spTarget = (state: CloudState) => `service principal ${state.servicePrincipal.id} (appId ${DYNAMICS_APP_ID})`;

function describePlan(plan: RetirePlan): { remove: unknown[]; keep: unknown[] } {
  const line = (d: { key: KeyCredential; reason: string }) => ({
    keyId: d.key.keyId,
    thumbprint: keyThumbprint(d.key).thumbprint ?? null,
    end: d.key.endDateTime,
    displayName: d.key.displayName,
    reason: d.reason,
  });
  return { remove: plan.remove.map(line), keep: plan.keep.map(line) };
}

function tenantStep(ctx: PhaseContext, state: CloudState) {
  return {
    ...TENANT_STEP,
    target: `tenant ${state.organization.id}`,
    before: { configured: configuredTenant(ctx.config) },
    after: { tenantId: state.organization.id },
  };
}

function planWords(plan: RetirePlan): string {
  if (plan.refused) return plan.refused;
  if (!plan.remove.length) return 'nothing to remove';
  return `removes ${plan.remove.map((d) => `${d.key.keyId} (${d.reason})`).join('; ')}; keeps ${plan.keep.length}`;
}

async function plan(ctx: PhaseContext): Promise<Step[]> {
  const entra = requireEntra(ctx, PHASE_ID);
  const current = currentThumbprint(ctx);
  if (!current.thumbprint) throw new Error(current.problem);
  const state = await readCloudState(ctx, entra);
  const { gate, retire } = diffRetirePrevious(state.keys, wantedOf(ctx, current.thumbprint), ctx.now);
  const before = summaries(state.keys, ctx.now);
  const after = summaries(retire.refused ? state.keys : retire.keep.map((d) => d.key), ctx.now);
  return [
    { ...tenantStep(ctx, state), action: 'check' },
    {
      ...STEP,
      target: spTarget(state),
      action: retire.refused || !retire.remove.length ? 'none' : 'delete',
      before,
      after,
      note: `${planWords(retire)}${gate ? ` — apply: ${gate}` : ''}`,
    },
  ];
}

async function retireKeys(ctx: PhaseContext): Promise<PhaseOutcome> {
  const entra = requireEntra(ctx, PHASE_ID);
  const results: StepResult[] = [];
  const current = currentThumbprint(ctx);
  if (!current.thumbprint) {
    return {
      results: [
        { ...STEP, target: 'current certificate', status: 'failed', before: null, after: null, error: current.problem },
      ],
      outputs: {},
    };
  }
  const thumbprint = current.thumbprint;
  // verify's verdict is known before anything is read: without it nothing is read or removed.
  const gate = verifyGate(wantedOf(ctx, thumbprint));
  if (gate)
    return {
      results: [
        {
          ...STEP,
          target: `current certificate ${thumbprint}`,
          status: 'failed',
          before: null,
          after: null,
          error: gate,
        },
      ],
      outputs: {},
    };

  let state: CloudState;
  try {
    state = await readCloudState(ctx, entra);
  } catch (error) {
    const target = `tenant ${configuredTenant(ctx.config)}`;
    if (failedReadStep(error) === TENANT_STEP.id) {
      results.push({ ...TENANT_STEP, target, status: 'failed', before: null, after: null, error: errorText(error) });
      results.push(skipped(STEP.id, STEP.title, target, `${TENANT_STEP.title} failed`));
    } else {
      results.push({ ...STEP, target, status: 'failed', before: null, after: null, error: errorText(error) });
    }
    return { results, outputs: {} };
  }
  results.push({ ...tenantStep(ctx, state), status: 'unchanged' });
  const target = spTarget(state);
  const before = summaries(state.keys, ctx.now);
  const { retire } = diffRetirePrevious(state.keys, wantedOf(ctx, thumbprint), ctx.now);
  const decisions = describePlan(retire);
  if (retire.refused) {
    results.push({
      ...STEP,
      target,
      status: 'failed',
      before,
      after: before,
      evidence: decisions,
      error: retire.refused,
    });
    return { results, outputs: {} };
  }
  if (!retire.remove.length) {
    ctx.host.log.info('Entra ID: no superseded key credential to remove');
    results.push({ ...STEP, target, status: 'unchanged', before, after: before, evidence: decisions });
    return { results, outputs: { 'removed-key-ids': '', thumbprint } };
  }
  ctx.host.log.info(`Entra ID: ${planWords(retire)}`);
  const spId = state.servicePrincipal.id;
  let form: ResendForm;
  try {
    ({ form } = await patchKeyCredentials(entra, spId, retire.payload!, ctx.host.log));
  } catch (error) {
    let after: unknown;
    try {
      after = summaries(await entra.graph.getKeyCredentials(spId), ctx.now);
    } catch (readError) {
      after = `could not read the keys after the failure: ${errorText(readError)}`;
    }
    results.push({ ...STEP, target, status: 'failed', before, after, evidence: decisions, error: errorText(error) });
    return { results, outputs: {} };
  }
  const removedIds = retire.remove.map((d) => d.key.keyId.toLowerCase());
  const kept = retire.keep.map((d) => d.key);
  const check = await readBackUntil(entra, spId, (keys) => {
    const ids = keys.map((k) => k.keyId.toLowerCase());
    const removedGone =
      form === 'keyId'
        ? removedIds.every((id) => !ids.includes(id))
        : retire.remove.every((d) => !keysPresent(keys, [d.key], form) || keysPresent(kept, [d.key], form));
    return removedGone && keysPresent(keys, kept, form);
  });
  const after = summaries(check.keys, ctx.now);
  const evidence = {
    ...decisions,
    verifiedBy: `GET /v1.0/servicePrincipals/${spId}?$select=keyCredentials`,
    reads: check.reads,
    existingKeysResentBy: form === 'keyId' ? 'keyId' : 'key bytes (Graph refused the keyId form)',
  };
  if (!check.ok) {
    results.push({
      ...STEP,
      target,
      status: 'failed',
      before,
      after,
      evidence,
      error: `Graph accepted the PATCH, but after ${check.reads} read(s) the key list is not the one sent`,
    });
    return { results, outputs: {} };
  }
  results.push({ ...STEP, target, status: 'changed', before, after, evidence });
  return { results, outputs: { 'removed-key-ids': retire.remove.map((d) => d.key.keyId).join(','), thumbprint } };
}

/**
 * retire.serverCertificates is accepted (the config file is a public contract) but does nothing: install-certificate
 * already removes the previous certificate when it has the new one's subject (deployment.removeSameSubject), because
 * CRM finds its certificate by subject, and a certificate with another subject stays until an admin removes it.
 */
export const SERVER_CERTIFICATES_IGNORED =
  'retire.serverCertificates has no effect: retire-previous changes only Entra ID. install-certificate removes the previous certificate from LocalMachine\\My when it has the same subject (deployment.removeSameSubject); one with another subject stays until you remove it. Remove the key from the config to silence this warning';

async function apply(ctx: PhaseContext): Promise<PhaseOutcome> {
  const outcome = await retireKeys(ctx);
  if (!ctx.config.retire.serverCertificates) return outcome;
  ctx.host.log.warn(SERVER_CERTIFICATES_IGNORED);
  return {
    ...outcome,
    results: outcome.results.map((result) =>
      result.id === STEP.id
        ? { ...result, warnings: [...(result.warnings ?? []), SERVER_CERTIFICATES_IGNORED] }
        : result,
    ),
  };
}

export const retirePreviousPhase: Phase = {
  id: 'retire-previous',
  title: 'Retire superseded key credentials',
  runsOn: 'anywhere with Microsoft Graph access',
  signsInToEntra: true,
  changes:
    'Entra ID: removes key credentials of the Dynamics CRM service principal that this toolkit added for earlier certificates',
  inputs: [
    {
      name: 'thumbprint',
      description: "SHA-1 thumbprint of the current certificate (register-entra's output); default: the run's PFX",
    },
    {
      name: 'verified',
      description: '"true" when the verify phase passed (its output `verified`); nothing is removed otherwise',
    },
    {
      name: 'verified-thumbprint',
      description: 'The certificate verify checked (its output); when given it must equal thumbprint',
    },
  ],
  outputs: [
    { name: 'removed-key-ids', description: 'keyIds removed, comma-separated (empty when none)' },
    { name: 'thumbprint', description: 'SHA-1 thumbprint of the current certificate, whose key stays' },
  ],
  plan,
  apply,
};
