// register-entra: adds the new certificate as a key credential of the Dynamics CRM service principal
// (appId 00000007-0000-0000-c000-000000000000) next to the keys already there, and ensures its service
// principal names. The tenant id it outputs is read from Graph (GET /organization), and a tenant other
// than the configured one stops the phase before anything changes.
//
// Keys are PATCHed as a whole collection (addKey needs an existing valid key, so it cannot do a first
// setup or recover after expiry): existing keys resent without `key` and `displayName`, the new one
// with its certificate, explicit dates and a displayName marking it as added by this toolkit. A rerun
// with the same certificate finds it (by the SHA-1 of `key`) and sends nothing.
import { DYNAMICS_APP_ID } from '../config/schema.js';
import {
  keysForCertificate,
  mergeServicePrincipalNames,
  planAddKey,
  summarizeKey,
  wantedServicePrincipalNames,
  type CertificateFacts,
  type KeyCredential,
} from '../graph/key-credentials.js';
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
import type { EntraServices } from '../graph/entra-service.js';
import { requireEntra } from './phase-services.js';
import { keysPresent, patchKeyCredentials, type ResendForm } from './entra/patch-keys.js';

const PHASE_ID = 'register-entra';
const STEPS = {
  tenant: { id: 'entra.tenant', title: 'Check the Entra tenant' },
  servicePrincipal: { id: 'entra.service-principal', title: 'Find the Dynamics CRM service principal' },
  key: { id: 'entra.key-credential', title: 'Add the certificate as a key credential' },
  names: { id: 'entra.service-principal-names', title: 'Ensure the service principal names' },
} as const;

const spTarget = (state: CloudState) => `service principal ${state.servicePrincipal.id} (appId ${DYNAMICS_APP_ID})`;

function newKeyNote(cert: CertificateFacts, existing: number): string {
  return (
    `adds ${cert.thumbprint} (${cert.subject}), valid ${cert.notBefore.toISOString()} – ${cert.notAfter.toISOString()}; ` +
    `keeps the ${existing} existing key(s), resent without key and displayName`
  );
}

function certificateProblem(ctx: PhaseContext, cert: CertificateFacts | undefined): string | undefined {
  if (!cert) {
    return 'register-entra needs the new certificate: pass the PFX (--pfx FILE or --pfx-base64-env VAR, with --password-env VAR)';
  }
  if (cert.notAfter.getTime() <= ctx.now.getTime()) {
    return `the certificate ${cert.thumbprint} expired on ${cert.notAfter.toISOString()}: renew it first; nothing was changed`;
  }
  return undefined;
}

async function plan(ctx: PhaseContext): Promise<Step[]> {
  const entra = requireEntra(ctx, PHASE_ID);
  const cert = newCertificate(ctx);
  const problem = certificateProblem(ctx, cert);
  const state = await readCloudState(ctx, entra);
  const target = spTarget(state);
  const steps: Step[] = [
    {
      ...STEPS.tenant,
      target: `tenant ${state.organization.id}`,
      action: 'check',
      before: { configured: configuredTenant(ctx.config) },
      after: { tenantId: state.organization.id, displayName: state.organization.displayName },
    },
    {
      ...STEPS.servicePrincipal,
      target,
      action: 'check',
      before: null,
      after: { id: state.servicePrincipal.id, displayName: state.servicePrincipal.displayName },
    },
  ];
  const before = summaries(state.keys, ctx.now);
  if (problem || !cert) {
    steps.push({ ...STEPS.key, target, action: 'check', before, after: before, note: problem });
  } else {
    const add = planAddKey(state.keys, cert, ctx.now);
    if (add.present) {
      steps.push({
        ...STEPS.key,
        target,
        action: 'none',
        before,
        after: before,
        note: `${cert.thumbprint} is already key ${add.present.keyId}: nothing to send`,
      });
    } else {
      const pending = { ...summarizeKey({ ...add.newKey!, keyId: '(assigned by Graph)' }, ctx.now) };
      steps.push({
        ...STEPS.key,
        target,
        action: 'create',
        before,
        after: [...before, pending],
        note: newKeyNote(cert, state.keys.length),
      });
    }
  }
  const names = mergeServicePrincipalNames(
    state.servicePrincipal.servicePrincipalNames,
    wantedServicePrincipalNames(DYNAMICS_APP_ID, ctx.config.tenant.rootDomain, ctx.config.tenant.ensureDomainSpn),
  );
  steps.push({
    ...STEPS.names,
    target,
    action: names.added.length ? 'update' : 'none',
    before: state.servicePrincipal.servicePrincipalNames,
    after: names.names,
    ...(names.added.length ? { note: `adds ${names.added.join(', ')}` } : {}),
  });
  return steps;
}

interface KeyOutcome {
  result: StepResult;
  keyId?: string;
}

async function addKey(
  ctx: PhaseContext,
  entra: EntraServices,
  state: CloudState,
  cert: CertificateFacts,
): Promise<KeyOutcome> {
  const target = spTarget(state);
  const before = summaries(state.keys, ctx.now);
  const add = planAddKey(state.keys, cert, ctx.now);
  if (add.present) {
    ctx.host.log.info(`Entra ID: ${cert.thumbprint} is already key ${add.present.keyId}; nothing sent`);
    return {
      result: {
        ...STEPS.key,
        target,
        status: 'unchanged',
        before,
        after: before,
        evidence: { keyId: add.present.keyId, thumbprint: cert.thumbprint },
      },
      keyId: add.present.keyId,
    };
  }
  const spId = state.servicePrincipal.id;
  ctx.host.log.info(`Entra ID: ${newKeyNote(cert, state.keys.length)}`);
  let form: ResendForm;
  try {
    ({ form } = await patchKeyCredentials(entra, spId, add.payload!, ctx.host.log));
  } catch (error) {
    return { result: await failedWithKeysRead(ctx, entra, state, errorText(error)) };
  }
  const check = await readBackUntil(
    entra,
    spId,
    (keys) => keysForCertificate(keys, cert.thumbprint).length > 0 && keysPresent(keys, state.keys, form),
  );
  const after = summaries(check.keys, ctx.now);
  const added = keysForCertificate(check.keys, cert.thumbprint)[0];
  const evidence = {
    verifiedBy: `GET /v1.0/servicePrincipals/${spId}?$select=keyCredentials`,
    reads: check.reads,
    existingKeysResentBy: form === 'keyId' ? 'keyId' : 'key bytes (Graph refused the keyId form)',
    ...(added
      ? {
          keyId: added.keyId,
          thumbprint: cert.thumbprint,
          start: added.startDateTime,
          end: added.endDateTime,
          displayName: added.displayName,
        }
      : {}),
  };
  if (!check.ok) {
    const missing = state.keys.filter((k) => !keysPresent(check.keys, [k], form)).map((k) => k.keyId);
    const why = added
      ? `key(s) ${missing.join(', ')} that were there before are gone`
      : `the new key ${cert.thumbprint} is not there`;
    return {
      result: {
        ...STEPS.key,
        target,
        status: 'failed',
        before,
        after,
        evidence,
        error: `Graph accepted the PATCH, but after ${check.reads} read(s) ${why}`,
      },
    };
  }
  ctx.host.log.info(`Entra ID: key ${added!.keyId} added and read back`);
  return { result: { ...STEPS.key, target, status: 'changed', before, after, evidence }, keyId: added!.keyId };
}

/** A failed PATCH: the keys are read again so the record shows whether the list is intact. */
async function failedWithKeysRead(
  ctx: PhaseContext,
  entra: EntraServices,
  state: CloudState,
  error: string,
): Promise<StepResult> {
  const target = spTarget(state);
  const before = summaries(state.keys, ctx.now);
  let after: unknown = null;
  let evidence: unknown;
  try {
    const keys = await entra.graph.getKeyCredentials(state.servicePrincipal.id);
    after = summaries(keys, ctx.now);
    const intact = state.keys.every((k) => keys.some((now) => now.keyId === k.keyId));
    evidence = { keysReadAfterFailure: keys.length, previousKeysIntact: intact };
  } catch (readError) {
    evidence = { keysReadAfterFailure: `could not read: ${errorText(readError)}` };
  }
  return { ...STEPS.key, target, status: 'failed', before, after, evidence, error };
}

async function ensureNames(ctx: PhaseContext, entra: EntraServices, state: CloudState): Promise<StepResult> {
  const target = spTarget(state);
  const current = state.servicePrincipal.servicePrincipalNames;
  const wanted = wantedServicePrincipalNames(
    DYNAMICS_APP_ID,
    ctx.config.tenant.rootDomain,
    ctx.config.tenant.ensureDomainSpn,
  );
  const merged = mergeServicePrincipalNames(current, wanted);
  if (!merged.added.length) return { ...STEPS.names, target, status: 'unchanged', before: current, after: current };
  ctx.host.log.info(`Entra ID: adding service principal name(s) ${merged.added.join(', ')}`);
  try {
    await entra.graph.updateServicePrincipal(state.servicePrincipal.id, { servicePrincipalNames: merged.names });
  } catch (error) {
    return { ...STEPS.names, target, status: 'failed', before: current, after: null, error: errorText(error) };
  }
  let after: string[] = [];
  let reads = 0;
  for (; reads < entra.verifyAttempts;) {
    reads++;
    after = (await entra.graph.getServicePrincipalByAppId(DYNAMICS_APP_ID))?.servicePrincipalNames ?? [];
    if (!mergeServicePrincipalNames(after, wanted).added.length) break;
    if (reads < entra.verifyAttempts) await entra.sleep(entra.verifyDelayMs);
  }
  const missing = mergeServicePrincipalNames(after, wanted).added;
  const evidence = { verifiedBy: `GET /v1.0/servicePrincipals(appId='${DYNAMICS_APP_ID}')`, reads };
  if (missing.length) {
    return {
      ...STEPS.names,
      target,
      status: 'failed',
      before: current,
      after,
      evidence,
      error: `Graph accepted the PATCH, but ${missing.join(', ')} is not among the names after ${reads} read(s)`,
    };
  }
  return { ...STEPS.names, target, status: 'changed', before: current, after, evidence };
}

async function apply(ctx: PhaseContext): Promise<PhaseOutcome> {
  const entra = requireEntra(ctx, PHASE_ID);
  const results: StepResult[] = [];
  const fail = (id: keyof typeof STEPS, target: string, error: string): PhaseOutcome => {
    const order = Object.keys(STEPS) as (keyof typeof STEPS)[];
    for (const step of order.slice(0, order.indexOf(id))) {
      if (!results.some((r) => r.id === STEPS[step].id))
        results.push(skipped(STEPS[step].id, STEPS[step].title, target, 'not reached'));
    }
    results.push({ ...STEPS[id], target, status: 'failed', before: null, after: null, error });
    for (const step of order.slice(order.indexOf(id) + 1))
      results.push(skipped(STEPS[step].id, STEPS[step].title, target, `${STEPS[id].title} failed`));
    return { results, outputs: {} };
  };

  let cert: CertificateFacts | undefined;
  try {
    cert = newCertificate(ctx);
  } catch (error) {
    return fail('key', 'certificate', errorText(error));
  }
  const givenThumbprint = normalizeThumbprint(ctx.inputs.thumbprint);
  const problem = cert || !givenThumbprint ? certificateProblem(ctx, cert) : undefined;
  if (problem) return fail('key', ctx.certificate?.source ?? 'certificate', problem);

  let state: CloudState;
  try {
    state = await readCloudState(ctx, entra);
  } catch (error) {
    const step = failedReadStep(error) === STEPS.tenant.id ? 'tenant' : 'servicePrincipal';
    return fail(step, `tenant ${configuredTenant(ctx.config)}`, errorText(error));
  }
  const target = spTarget(state);
  results.push({
    ...STEPS.tenant,
    target: `tenant ${state.organization.id}`,
    status: 'unchanged',
    before: { configured: configuredTenant(ctx.config) },
    after: { tenantId: state.organization.id, displayName: state.organization.displayName },
  });
  results.push({
    ...STEPS.servicePrincipal,
    target,
    status: 'unchanged',
    before: null,
    after: { id: state.servicePrincipal.id, displayName: state.servicePrincipal.displayName, keys: state.keys.length },
  });

  let outcome: KeyOutcome;
  if (cert) {
    outcome = await addKey(ctx, entra, state, cert);
  } else {
    // No PFX, only the thumbprint of an earlier run: confirm the key is there, add nothing.
    const present: KeyCredential | undefined = keysForCertificate(state.keys, givenThumbprint!)[0];
    const before = summaries(state.keys, ctx.now);
    outcome = present
      ? {
          result: {
            ...STEPS.key,
            target,
            status: 'unchanged',
            before,
            after: before,
            evidence: { keyId: present.keyId, thumbprint: givenThumbprint },
          },
          keyId: present.keyId,
        }
      : {
          result: {
            ...STEPS.key,
            target,
            status: 'failed',
            before,
            after: before,
            error: `${givenThumbprint} is not among the key credentials and no certificate was given to add it: pass the PFX`,
          },
        };
  }
  results.push(outcome.result);
  if (outcome.result.status === 'failed') {
    results.push(skipped(STEPS.names.id, STEPS.names.title, target, `${STEPS.key.title} failed`));
    return { results, outputs: {} };
  }
  results.push(await ensureNames(ctx, entra, state));
  if (results.some((r) => r.status === 'failed')) return { results, outputs: {} };
  return {
    results,
    outputs: {
      'tenant-id': state.organization.id,
      'key-id': outcome.keyId!,
      thumbprint: cert?.thumbprint ?? givenThumbprint!,
    },
  };
}

export const registerEntraPhase: Phase = {
  id: 'register-entra',
  title: 'Register the certificate with Entra ID',
  runsOn: 'anywhere with Microsoft Graph access',
  changes: 'Entra ID: key credentials and names of the Dynamics CRM service principal',
  writes: { certificate: true },
  signsInToEntra: true,
  inputs: [],
  outputs: [
    { name: 'tenant-id', description: 'The Entra tenant id, read from Microsoft Graph (GET /organization)' },
    { name: 'key-id', description: 'keyId of the key credential holding the certificate' },
    { name: 'thumbprint', description: 'SHA-1 thumbprint of the certificate (upper-case hex)' },
  ],
  plan,
  apply,
};
