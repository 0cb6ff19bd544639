// The validity timeline from what runs recorded: the keys of the Dynamics CRM service principal as the last step
// that read them saw them (preflight, register-entra, verify, retire-previous each record them), and the new
// certificate preflight inspected. Records carry no timeline of their own, so older records draw one too.
import type { Step, StepResult } from './step-result.js';
import { buildTimeline, type Timeline, type TimelineCertificate, type TimelineKey } from './timeline.js';

const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value);

function keysIn(value: unknown): TimelineKey[] | undefined {
  if (!isObject(value) || !Array.isArray(value.keys)) return undefined;
  const keys = value.keys.filter(
    (k): k is TimelineKey => isObject(k) && typeof k.keyId === 'string' && 'end' in k && 'start' in k,
  );
  return keys.length || value.keys.length === 0 ? keys : undefined;
}

function certificateIn(value: unknown): TimelineCertificate | undefined {
  const cert = isObject(value) ? value.newCertificate : undefined;
  if (!isObject(cert) || typeof cert.thumbprint !== 'string' || typeof cert.notAfter !== 'string') return undefined;
  return {
    thumbprint: cert.thumbprint,
    notAfter: cert.notAfter,
    ...(typeof cert.notBefore === 'string' ? { notBefore: cert.notBefore } : {}),
  };
}

/** The timeline of these steps (in run order: the last reading of the keys wins); undefined when they show none. */
export function timelineFromSteps(
  steps: (Step | StepResult)[],
  now: Date,
  extra: { next?: TimelineCertificate; current?: TimelineCertificate[] } = {},
): Timeline | undefined {
  let keys: TimelineKey[] | undefined;
  let next = extra.next;
  for (const step of steps) {
    keys = keysIn(step.after) ?? keysIn(step.before) ?? keys;
    next = certificateIn(step.after) ?? next;
  }
  if (!keys && !next && !extra.current?.length) return undefined;
  return buildTimeline({
    now,
    ...(keys ? { keys } : {}),
    ...(next ? { next } : {}),
    ...(extra.current ? { current: extra.current } : {}),
  });
}
