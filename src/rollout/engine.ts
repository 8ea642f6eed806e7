/**
 * The stage engine: moves a route's weights stage by stage, judges each stage's metrics,
 * and rolls back the moment the checks say so. Pure: it talks to the world only through
 * the clock, the relay port, the metrics source, the gate and `emit`, so a day-long
 * rollout runs in milliseconds under a fake clock.
 *
 * Decisions worth knowing (each one errs towards the baseline):
 * - Metrics windows start no earlier than the stage did, so a stage is judged on traffic
 *   at its own weight, not diluted by the previous stage's.
 * - A pass resets the consecutive-failure count; "no data" neither counts nor resets it, so
 *   a lull in traffic cannot launder a failing canary.
 * - A failed metrics read is "no data" too: the latest verdict is forgotten, the stage
 *   cannot be left on a stale pass, and the data deadline keeps running (also under the
 *   `hold` policy, which only spares the rollback that `maxMetricErrors` would trigger).
 * - At a 100 % stage the baseline serves nothing, so baseline comparisons are skipped and
 *   thresholds alone decide.
 * - While a pause gate is open the data deadline is suspended (someone is deciding); a
 *   failed check still rolls back and cancels the gate.
 *
 * This file is the stage loop and how a run ends. The rest, one concern a file: run.ts (the
 * state every part shares, rollback, drift), preflight.ts, bake.ts (a stage's bake) with
 * look.ts (one look at the metrics), operator.ts (commands), gates.ts (evaluation, checks,
 * pause gates), summaries.ts (the words), types.ts (what callers hand in and get back).
 */

import type { Plan, StagePlan } from '../domain/plan.js';
import { CanaryError, ExitCode, RelayError } from '../errors.js';
import { sameWeights } from '../relay/compare.js';
import { bake } from './bake.js';
import { changeDeadlineMs, readDeadlineMs } from './deadlines.js';
import { preTrafficEvaluation, runStageChecks } from './gates.js';
import { preflight } from './preflight.js';
import { abortReason, Finish, RolloutRun } from './run.js';
import { changeWeights } from './stage-writes.js';
import { message, WEIGHT_TOLERANCE } from './summaries.js';
import type { RolloutDeps, RolloutOptions, RolloutResult } from './types.js';

export type {
  FinishCause,
  GateContext,
  GateDecision,
  OperatorCommand,
  OperatorControls,
  OperatorRequest,
  PreTrafficContext,
  RolloutAbortReason,
  RolloutDeps,
  RolloutOptions,
  RolloutResult,
  StageChecksContext,
} from './types.js';

export async function runRollout(
  plan: Plan,
  deps: RolloutDeps,
  options: RolloutOptions = {},
): Promise<RolloutResult> {
  return execute(new RolloutRun(plan, deps, options));
}

async function execute(run: RolloutRun): Promise<RolloutResult> {
  const { plan, options } = run;
  const { startIndex, untilIndex } = checkInputs(run);
  run.emit({
    type: 'rollout_started',
    at: run.clock.now(),
    route: plan.route,
    baseline: plan.baseline.tag,
    canary: plan.canary.tag,
    stages: plan.stages.map((s) => ({ weight: s.weight, bakeMs: s.bakeMs, pause: s.pause })),
    relay: run.deps.relayUrl ?? '',
    metricsSource: run.metrics.name,
    startStage: startIndex,
  });

  try {
    await preflight(run, startIndex);
  } catch (error) {
    if (run.signal?.aborted) {
      // A resumed run owns the stage the route was found at, whether or not this process
      // wrote it: the abort policy applies to it as to any stage (startStage came from the route).
      if (options.startStage !== undefined && run.reached === null) {
        run.reached = startIndex;
      }
      return run.finish(await onAbort(run, 'during pre-flight'));
    }
    throw error;
  }

  try {
    if (plan.evaluation) await preTrafficEvaluation(run);
    for (let index = startIndex; index < run.stageCount; index++) {
      const stage = plan.stages[index] as StagePlan;
      const stopsHere = index === untilIndex && index < run.stageCount - 1;
      await enterStage(run, stage);
      await bake(run, stage, stopsHere);
      await runStageChecks(run, stage);
      run.emit({ type: 'stage_passed', at: run.clock.now(), stage: index, weight: stage.weight });
      if (stopsHere) {
        return run.finish(
          run.leftInPlace(
            'held',
            ExitCode.Ok,
            `held after ${run.stageLabel(index)} passed, as asked`,
            'until_stage',
          ),
        );
      }
    }
    const rules = run.confirmed?.rules ?? [];
    run.emit({ type: 'promoted', at: run.clock.now(), rules });
    return run.finish({
      outcome: 'promoted',
      exitCode: ExitCode.Ok,
      traffic: rules,
      summary: `promoted: ${run.describeTraffic(rules)} on ${plan.route}`,
      stage: run.reached,
    });
  } catch (error) {
    return run.finish(await settle(run, error));
  } finally {
    run.gate?.controller.abort();
    run.stopControls.abort();
  }
}

/**
 * The stage range the options ask for, refused (exit 2) when it is not the plan's; and every
 * port the plan will need, refused (a wiring bug) before anything is touched.
 */
function checkInputs(run: RolloutRun): { startIndex: number; untilIndex: number } {
  const { plan, options, deps, stageCount } = run;
  const startIndex = (options.startStage ?? 1) - 1;
  const untilIndex = options.untilStage === undefined ? stageCount - 1 : options.untilStage - 1;
  if (!Number.isInteger(startIndex) || startIndex < 0 || startIndex >= stageCount) {
    throw new CanaryError(
      `start stage ${options.startStage} is not a stage of this plan (1–${stageCount}).`,
      ExitCode.BadInput,
    );
  }
  if (!Number.isInteger(untilIndex) || untilIndex < startIndex || untilIndex >= stageCount) {
    throw new CanaryError(
      `until stage ${options.untilStage} is not a stage from ${startIndex + 1} to ${stageCount}.`,
      ExitCode.BadInput,
    );
  }
  // A gate at the until-stage is never reached (the run stops before it), so it needs no answerer.
  const gated = plan.stages.some((s) => s.pause && s.index >= startIndex && s.index < untilIndex);
  const hasChecks = (plan.checks?.length ?? 0) > 0 || plan.stages.some((s) => (s.checks?.length ?? 0) > 0);
  const missing = (what: string, port: string) =>
    new CanaryError(`this plan has ${what} but the engine was given no ${port}.`, ExitCode.Internal);
  if (hasChecks && !deps.stageChecks) throw missing('checks', 'runner for them');
  if ((plan.analysis.customMetrics?.length ?? 0) > 0 && !deps.customMetrics) {
    throw missing('analysis.metrics', 'reader for them');
  }
  if (plan.evaluation && !options.skipEvaluation && !deps.preTraffic)
    throw missing('an evaluation', 'runner for it');
  if (gated && !deps.gate) throw missing('a pause: true stage', 'gate to ask');
  return { startIndex, untilIndex };
}

/** Sets the stage's weights (unless the route already has them) and confirms them by a read. */
async function enterStage(run: RolloutRun, stage: StagePlan): Promise<void> {
  const { relay } = run.deps;
  const { plan } = run;
  const callMs = readDeadlineMs(plan.analysis.intervalMs);
  const current = await relay.getRoute(plan.route, { signal: run.signal, deadlineMs: callMs });
  run.checkDrift(current, stage.index);
  const target = run.stageRules(current.route_rules, stage.weight);
  if (!sameWeights(current.route_rules, target)) {
    // Counted as reached before the write: the canary may hold this weight from here on.
    run.reached = stage.index;
    run.changedWeights = true;
    // No signal: a weight change cut off mid-flight would leave the route's state unknown.
    // A failure that survives the re-sends and read-backs (src/rollout/stage-writes.ts) is a
    // relay error while this run owns the traffic: settle() rolls back.
    const change = await changeWeights({
      relay,
      clock: run.clock,
      route: plan.route,
      target,
      previous: { rules: current.route_rules, revision: current.revision },
      deadlineMs: changeDeadlineMs(plan.analysis.intervalMs, plan.rollback.deadlineMs),
      callDeadlineMs: callMs,
    });
    if (change.kind === 'drift') run.checkDrift(change.route, stage.index, true);
    else run.confirmed = { rules: change.rules, revision: change.revision };
  }
  run.reached = stage.index;
  // The weights must hold, and the revision must be the one this change made: another run
  // writing the same weights at the same moment shows up here as a revision that moved.
  const back = await relay.getRoute(plan.route, { deadlineMs: callMs });
  run.checkDrift(back, stage.index);
  run.confirmed = { rules: back.route_rules, revision: back.revision ?? run.confirmed?.revision };
  const at = run.clock.now();
  run.emit({
    type: 'stage_started',
    at,
    stage: stage.index,
    stageCount: run.stageCount,
    weight: stage.weight,
    bakeMs: stage.bakeMs,
    pause: stage.pause,
    rules: back.route_rules,
  });
  run.emit({ type: 'weights_set', at, stage: stage.index, rules: back.route_rules, revision: back.revision });
  if (100 - stage.weight <= WEIGHT_TOLERANCE && Object.keys(plan.analysis.baselineComparison).length > 0) {
    run.emit({
      type: 'log',
      at,
      level: 'info',
      message: `${run.stageLabel(stage.index)} sends no traffic to the baseline: baseline comparisons are skipped, thresholds alone decide`,
    });
  }
}

/** Turns whatever stopped the stage loop into a result. */
async function settle(run: RolloutRun, error: unknown): Promise<RolloutResult> {
  if (error instanceof Finish) return error.result;
  if (run.signal?.aborted) return onAbort(run);
  const where = run.reached === null ? 'the start' : run.stageLabel(run.reached);
  if (error instanceof RelayError && run.ownsTraffic) {
    // The relay failed while this run owns the canary's traffic: nobody would be watching it
    // once this run ends, so the baseline goes back (and the exit says it was the relay, 5).
    try {
      await run.rollback(
        run.reached ?? 0,
        'relay_error',
        `a relay call failed at ${where}: ${error.message}`,
      );
    } catch (finish) {
      if (finish instanceof Finish) return finish.result;
      throw finish;
    }
  }
  if (error instanceof CanaryError) {
    const why =
      error instanceof RelayError
        ? `aborted on a relay error at ${where}: ${error.message}`
        : `aborted: ${error.message}`;
    run.emit({
      type: 'aborted',
      at: run.clock.now(),
      stage: run.reached ?? 0,
      reason: why,
      rules: run.confirmed?.rules ?? null,
    });
    return run.leftInPlace('aborted', ExitCode.Aborted, why, 'relay_error');
  }
  // A bug: still say where traffic is before the caller reports the crash.
  const why = `aborted by an internal error: ${message(error)}`;
  run.emit({ type: 'aborted', at: run.clock.now(), stage: run.reached ?? 0, reason: why, rules: null });
  run.finish(run.leftInPlace('aborted', ExitCode.Internal, why, 'relay_error'));
  throw error;
}

/** A signal or the timeout stopped the run: roll back or leave traffic, as the caller asked. */
async function onAbort(run: RolloutRun, when?: string): Promise<RolloutResult> {
  const reason = abortReason(run.signal);
  const exitCode = run.interruptExit(reason);
  const what = `${reason.cause === 'timeout' ? 'timed out' : 'interrupted'}${when ? ` ${when}` : ''}`;
  // The policy applies to the route's state, not to whether this process wrote it: a run that
  // resumed at a stage owns that stage's weights as much as one that set them.
  const owns = run.ownsTraffic;
  if (reason.action === 'leave' || !owns) {
    const why = owns ? `${what}; leaving traffic as it is` : `${what}; nothing was changed`;
    return run.leftInPlace('interrupted', exitCode, why, reason.cause);
  }
  try {
    // The outcome already says "interrupted"/"timed out": the reason says only what triggered it.
    const trigger = reason.why ?? (reason.cause === 'timeout' ? 'the --timeout ran out' : 'an interrupt');
    await run.rollback(run.reached ?? 0, reason.cause, trigger);
  } catch (error) {
    if (error instanceof Finish) {
      const r = error.result;
      return r.outcome === 'rolled_back' ? { ...r, outcome: 'interrupted', exitCode } : r;
    }
    throw error;
  }
  throw new Error('unreachable: rollback always finishes');
}
