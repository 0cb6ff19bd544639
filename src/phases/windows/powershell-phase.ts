// The one skeleton of the PowerShell-backed phases (install-certificate, configure-crm, configure-adfs,
// configure-exchange): prepare what the run needs (refusing bad input before any process starts), run the module's
// phase function once (-WhatIf for plan), and turn its state object into plan Steps or apply StepResults. A phase
// file holds only what is its own: its inputs, the parameters it passes, its skip notes and what it makes of the
// read-back (outputs).
import type { PhaseScriptResult, PowerShellMode } from '../../powershell/types.js';
import type { Phase, PhaseContext, PhaseOutcome, Step, StepResult } from '../phase.js';
import type { WindowsRunRequest, WindowsServices } from './powershell-service.js';
import {
  applyResults,
  failedResults,
  planError,
  planSteps,
  type RunDetails,
  type WindowsPhaseSpec,
} from './step-results.js';

/** What a phase passes to its module function, apart from the phase and the mode. */
export type ModuleCall = Omit<WindowsRunRequest, 'phase' | 'mode'>;

export interface PowerShellPhaseDefinition<P extends { windows: WindowsServices }> {
  /** The module's steps (moduleSteps(phase id)). */
  spec: WindowsPhaseSpec;
  /** Reads and checks the inputs and the config; throws with the fix (nothing was started). */
  prepare(ctx: PhaseContext): P | Promise<P>;
  /** What the run's steps are for in the record and in messages: the server, or "Exchange Online". */
  target(p: P): string;
  /** The parameters (and secrets, PFX) of the module function for this mode. */
  call(ctx: PhaseContext, p: P, mode: PowerShellMode): ModuleCall | Promise<ModuleCall>;
  /** Skip notes and run warnings (result: what the module returned, when it returned). */
  details(ctx: PhaseContext, p: P, result?: PhaseScriptResult): RunDetails;
  /**
   * A plan that could not run the module (prepare or the run failed): the steps to show instead, or undefined for
   * the plan to fail with the error (the default).
   */
  planWithout?(ctx: PhaseContext, error: unknown, started: boolean): Step[] | undefined;
  /** Adds to the plan's steps (notes the module cannot know). */
  planned?(ctx: PhaseContext, p: P, steps: Step[]): Step[];
  /** The outputs from the read-back; may mark a step failed when the read-back is not what was asked for. */
  applied?(ctx: PhaseContext, p: P, result: PhaseScriptResult, results: StepResult[]): PhaseOutcome;
}

/** The module function's run for this phase and mode (one PowerShell process). */
export async function runModule<P extends { windows: WindowsServices }>(
  def: Pick<PowerShellPhaseDefinition<P>, 'spec' | 'call'>,
  ctx: PhaseContext,
  p: P,
  mode: PowerShellMode,
): Promise<PhaseScriptResult> {
  return p.windows.run({ phase: def.spec.phase, mode, ...(await def.call(ctx, p, mode)) });
}

/** plan and apply of a PowerShell-backed phase. */
export function powerShellPhase<P extends { windows: WindowsServices }>(
  def: PowerShellPhaseDefinition<P>,
): Pick<Phase, 'plan' | 'apply'> {
  const { spec } = def;
  return {
    async plan(ctx) {
      let p: P;
      try {
        p = await def.prepare(ctx);
      } catch (error) {
        const steps = def.planWithout?.(ctx, error, false);
        if (steps) return steps;
        throw error;
      }
      let result: PhaseScriptResult;
      try {
        result = await runModule(def, ctx, p, 'plan');
      } catch (error) {
        const steps = def.planWithout?.(ctx, error, true);
        if (steps) return steps;
        throw planError(spec, error, def.target(p));
      }
      const steps = planSteps(spec, result, def.details(ctx, p, result));
      return def.planned ? def.planned(ctx, p, steps) : steps;
    },
    async apply(ctx) {
      const p = await def.prepare(ctx);
      let result: PhaseScriptResult;
      try {
        result = await runModule(def, ctx, p, 'apply');
      } catch (error) {
        return { results: failedResults(spec, error, def.details(ctx, p)), outputs: {} };
      }
      const results = applyResults(spec, result, def.details(ctx, p, result));
      return def.applied ? def.applied(ctx, p, result, results) : { results, outputs: {} };
    },
  };
}
