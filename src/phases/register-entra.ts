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
  summarizeKey,
  type CertificateFacts,
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
import {
  certificateRefusal,
  diffRegisterEntra,
  type KeyChange,
  type NamesChange,
  type RegisterEntraWanted,
} from './entra/register-diff.js';

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

const absentError = (thumbprint: string) =>
  `${thumbprint} is not among the key credentials and no certificate was given to add it: pass the PFX`;

/** What the run asks for: its certificate (or an earlier run's thumbprint) and the configured names. */
function wantedOf(ctx: PhaseContext, certificate: CertificateFacts | undefined): RegisterEntraWanted {
  return {
    certificate,
    thumbprint: normalizeThumbprint(ctx.inputs.thumbprint),
    appId: DYNAMICS_APP_ID,
    rootDomain: ctx.config.tenant.rootDomain,
    ensureDomainSpn: ctx.config.tenant.ensureDomainSpn,
  };
}

/** Read → state → changes: the one decision plan renders and apply executes. */
async function readAndDiff(ctx: PhaseContext, entra: EntraServices, cert: CertificateFacts | undefined) {
  const state = await readCloudState(ctx, entra);
  const changes = diffRegisterEntra(
    { keys: state.keys, servicePrincipalNames: state.servicePrincipal.servicePrincipalNames },
    wantedOf(ctx, cert),
    ctx.now,
  );
  return { state, changes };
}

/** The two read steps (tenant, service principal), without plan's action or apply's status. */
function readSteps(ctx: PhaseContext, state: CloudState) {
  return {
    tenant: {
      ...STEPS.tenant,
      target: `tenant ${state.organization.id}`,
      before: { configured: configuredTenant(ctx.config) },
      after: { tenantId: state.organization.id, displayName: state.organization.displayName },
    },
    servicePrincipal: {
      ...STEPS.servicePrincipal,
      target: spTarget(state),
      before: null,
      after: { id: state.servicePrincipal.id, displayName: state.servicePrincipal.displayName },
    },
  };
}

function planKeyStep(ctx: PhaseContext, state: CloudState, change: KeyChange): Step {
  const before = summaries(state.keys, ctx.now);
  const base = { ...STEPS.key, target: spTarget(state), before };
  switch (change.kind) {
    case 'refuse':
      return { ...base, action: 'check', after: before, note: change.reason };
    case 'absent':
      return { ...base, action: 'check', after: before, note: absentError(change.thumbprint) };
    case 'present':
      return {
        ...base,
        action: 'none',
        after: before,
        note: `${change.thumbprint} is already key ${change.key.keyId}: nothing to send`,
      };
    case 'add': {
      const pending = summarizeKey({ ...change.newKey, keyId: '(assigned by Graph)' }, ctx.now);
      return {
        ...base,
        action: 'create',
        after: [...before, pending],
        note: newKeyNote(change.certificate, state.keys.length),
      };
    }
  }
}

function planNamesStep(state: CloudState, names: NamesChange): Step {
  return {
    ...STEPS.names,
    target: spTarget(state),
    action: names.added.length ? 'update' : 'none',
    before: names.current,
    after: names.names,
    ...(names.added.length ? { note: `adds ${names.added.join(', ')}` } : {}),
  };
}

async function plan(ctx: PhaseContext): Promise<Step[]> {
  const entra = requireEntra(ctx, PHASE_ID);
  const { state, changes } = await readAndDiff(ctx, entra, newCertificate(ctx));
  const read = readSteps(ctx, state);
  return [
    { ...read.tenant, action: 'check' },
    { ...read.servicePrincipal, action: 'check' },
    planKeyStep(ctx, state, changes.key),
    planNamesStep(state, changes.names),
  ];
}

interface KeyOutcome {
  result: StepResult;
  keyId?: string;
}

/** The key step's id, title, target and the keys before, which every outcome of it records. */
type KeyStepBase = Pick<StepResult, 'id' | 'title' | 'target' | 'before'>;

async function applyKeyChange(
  ctx: PhaseContext,
  entra: EntraServices,
  state: CloudState,
  change: KeyChange,
): Promise<KeyOutcome> {
  const before = summaries(state.keys, ctx.now);
  const base: KeyStepBase = { ...STEPS.key, target: spTarget(state), before };
  switch (change.kind) {
    case 'refuse':
      return { result: { ...base, status: 'failed', after: before, error: change.reason } };
    case 'absent':
      return { result: { ...base, status: 'failed', after: before, error: absentError(change.thumbprint) } };
    case 'present':
      ctx.host.log.info(`Entra ID: ${change.thumbprint} is already key ${change.key.keyId}; nothing sent`);
      return {
        result: {
          ...base,
          status: 'unchanged',
          after: before,
          evidence: { keyId: change.key.keyId, thumbprint: change.thumbprint },
        },
        keyId: change.key.keyId,
      };
    case 'add':
      return addKey(ctx, entra, state, change, base);
  }
}

async function addKey(
  ctx: PhaseContext,
  entra: EntraServices,
  state: CloudState,
  change: Extract<KeyChange, { kind: 'add' }>,
  base: KeyStepBase,
): Promise<KeyOutcome> {
  const cert = change.certificate;
  const spId = state.servicePrincipal.id;
  ctx.host.log.info(`Entra ID: ${newKeyNote(cert, state.keys.length)}`);
  let form: ResendForm;
  try {
    ({ form } = await patchKeyCredentials(entra, spId, change.payload, ctx.host.log));
  } catch (error) {
    return { result: await failedWithKeysRead(ctx, entra, state, base, errorText(error)) };
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
        ...base,
        status: 'failed',
        after,
        evidence,
        error: `Graph accepted the PATCH, but after ${check.reads} read(s) ${why}`,
      },
    };
  }
  ctx.host.log.info(`Entra ID: key ${added!.keyId} added and read back`);
  return { result: { ...base, status: 'changed', after, evidence }, keyId: added!.keyId };
}

/** A failed PATCH: the keys are read again so the record shows whether the list is intact. */
async function failedWithKeysRead(
  ctx: PhaseContext,
  entra: EntraServices,
  state: CloudState,
  base: KeyStepBase,
  error: string,
): Promise<StepResult> {
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
  return { ...base, status: 'failed', after, evidence, error };
}

async function applyNamesChange(
  ctx: PhaseContext,
  entra: EntraServices,
  state: CloudState,
  names: NamesChange,
): Promise<StepResult> {
  const target = spTarget(state);
  const current = names.current;
  if (!names.added.length) return { ...STEPS.names, target, status: 'unchanged', before: current, after: current };
  ctx.host.log.info(`Entra ID: adding service principal name(s) ${names.added.join(', ')}`);
  try {
    await entra.graph.updateServicePrincipal(state.servicePrincipal.id, { servicePrincipalNames: names.names });
  } catch (error) {
    return { ...STEPS.names, target, status: 'failed', before: current, after: null, error: errorText(error) };
  }
  // Read back until every wanted name is there (compared without case, as in the diff).
  const stillMissing = (after: string[]) => mergeServicePrincipalNames(after, names.wanted).added;
  let after: string[] = [];
  let reads = 0;
  for (; reads < entra.verifyAttempts;) {
    reads++;
    after = (await entra.graph.getServicePrincipalByAppId(DYNAMICS_APP_ID))?.servicePrincipalNames ?? [];
    if (!stillMissing(after).length) break;
    if (reads < entra.verifyAttempts) await entra.sleep(entra.verifyDelayMs);
  }
  const missing = stillMissing(after);
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
  // A refusal that does not depend on the service principal stops the phase before its first Graph call.
  const refusal = certificateRefusal(wantedOf(ctx, cert), ctx.now);
  if (refusal) return fail('key', ctx.certificate?.source ?? 'certificate', refusal);

  let read: Awaited<ReturnType<typeof readAndDiff>>;
  try {
    read = await readAndDiff(ctx, entra, cert);
  } catch (error) {
    const step = failedReadStep(error) === STEPS.tenant.id ? 'tenant' : 'servicePrincipal';
    return fail(step, `tenant ${configuredTenant(ctx.config)}`, errorText(error));
  }
  const { state, changes } = read;
  const steps = readSteps(ctx, state);
  results.push({ ...steps.tenant, status: 'unchanged' });
  results.push({
    ...steps.servicePrincipal,
    status: 'unchanged',
    after: { ...steps.servicePrincipal.after, keys: state.keys.length },
  });

  const outcome = await applyKeyChange(ctx, entra, state, changes.key);
  results.push(outcome.result);
  if (outcome.result.status === 'failed') {
    results.push(skipped(STEPS.names.id, STEPS.names.title, spTarget(state), `${STEPS.key.title} failed`));
    return { results, outputs: {} };
  }
  results.push(await applyNamesChange(ctx, entra, state, changes.names));
  if (results.some((r) => r.status === 'failed')) return { results, outputs: {} };
  const key = changes.key as Extract<KeyChange, { kind: 'present' | 'add' }>;
  return {
    results,
    outputs: {
      'tenant-id': state.organization.id,
      'key-id': outcome.keyId!,
      thumbprint: key.kind === 'add' ? key.certificate.thumbprint : key.thumbprint,
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
