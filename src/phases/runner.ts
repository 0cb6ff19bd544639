// Runs one phase on a Host: plan or apply, the run record written and rendered, outputs set, and the
// result reported. A failed step fails the run with the underlying error, never a green step.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Phase, PhaseContext, Step, StepResult } from './phase.js';
import { RUN_RECORD_SCHEMA, type RunRecord } from '../report/run-record.js';
import { recordMarkdown } from '../report/markdown.js';
import { TOOL_VERSION } from '../version.js';
import { inspectPfx } from '../cert/index.js';
import { requiredHosts } from './preflight/certificate-check.js';
import { ewsShutdownReason } from './exchange/countdown.js';

/**
 * Why the run's certificate must not be written, or undefined when it is usable (or there is none, or the phase does
 * not write it). What preflight refuses (key too small, SHA-1, not yet valid, expiring, not covering the hosts, ...)
 * every phase that writes the certificate refuses too, before it changes anything: otherwise a run without preflight,
 * or a rerun with another PFX, would register or install it.
 */
function unusableCertificate(phase: Phase, ctx: PhaseContext): string | undefined {
  if (!phase.writes?.certificate || !ctx.certificate) return undefined;
  const { report } = inspectPfx(ctx.certificate.pfx, ctx.certificate.password, {
    hosts: requiredHosts(ctx.config),
    minDays: ctx.config.certificate.minDaysRemaining,
    now: ctx.now,
  });
  const errors = report.problems.filter((p) => p.severity === 'error');
  if (!errors.length) return undefined;
  return (
    `the certificate (${ctx.certificate.source}) is not usable, so ${phase.id} changed nothing: ` +
    errors.map((p) => `${p.code}: ${p.message}`).join('; ')
  );
}

export interface PhaseRunOptions {
  mode: 'plan' | 'apply';
  configHash: string;
  /** Folder for the run record; default: <host temp>/records. */
  recordDir?: string;
}

export interface PhaseRun {
  record: RunRecord;
  recordFile: string;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export async function runPhase(phase: Phase, ctx: PhaseContext, options: PhaseRunOptions): Promise<PhaseRun> {
  const { host } = ctx;
  const identity = host.identity();
  const startedAt = new Date().toISOString();
  let steps: (Step | StepResult)[] = [];
  let outputs: Record<string, string> = {};
  let error: string | undefined;
  await host.group(`${phase.id} (${options.mode})`, async () => {
    try {
      // After 2027-04-01 the EWS phases refuse in plan and apply alike, saying why and what the supported paths are.
      const shutdown = phase.writes?.ews ? ewsShutdownReason(phase.id, ctx.now) : undefined;
      if (shutdown) throw new Error(shutdown);
      outputs = { ...phase.configOutputs?.(ctx.config) };
      if (options.mode === 'plan') {
        steps = await phase.plan(ctx);
      } else {
        const refused = unusableCertificate(phase, ctx);
        if (refused) throw new Error(refused);
        const outcome = await phase.apply(ctx);
        steps = outcome.results;
        outputs = { ...outputs, ...outcome.outputs };
      }
    } catch (caught) {
      error = errorText(caught);
    }
  });
  const failed = steps.filter((s): s is StepResult => 'status' in s && s.status === 'failed');
  if (!error && failed.length) {
    error = failed.map((s) => `${s.title} (${s.target}): ${s.error ?? 'failed'}`).join('; ');
  }
  const record: RunRecord = {
    schema: RUN_RECORD_SCHEMA,
    tool: { name: 'd365-exo-sync', version: TOOL_VERSION },
    phase: phase.id,
    mode: options.mode,
    status: error ? 'failed' : 'succeeded',
    host: host.kind,
    actor: identity.actor,
    machine: identity.machine,
    runId: identity.runId,
    ...(identity.runUrl ? { runUrl: identity.runUrl } : {}),
    startedAt,
    finishedAt: new Date().toISOString(),
    configHash: options.configHash,
    steps,
    outputs,
    ...(error ? { error } : {}),
  };
  // The record goes through the mask as a whole: no secret reaches a file, whatever a step put in it.
  const masked = JSON.parse(host.mask(JSON.stringify(record))) as RunRecord;
  const dir = options.recordDir ?? join(host.tempDir(), 'records');
  mkdirSync(dir, { recursive: true });
  const recordFile = join(dir, `${masked.phase}-${masked.mode}-${masked.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(recordFile, JSON.stringify(masked, null, 2) + '\n', { mode: 0o600 });
  for (const [name, value] of Object.entries(masked.outputs)) host.setOutput(name, value);
  await host.writeSummary(recordMarkdown(masked));
  if (masked.error) host.setResult('failed', `${phase.id} failed: ${masked.error}`);
  else host.setResult('succeeded', `${phase.id} ${options.mode} succeeded`);
  return { record: masked, recordFile };
}
