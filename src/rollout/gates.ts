/**
 * What must say yes before traffic moves on, besides the metrics: the plan's pre-traffic
 * `evaluation:` before the first weight change, a stage's `checks:` commands, and a pause
 * stage's gate (a person at the terminal, `canary promote`, or a flag that answers it).
 */
import type { Evaluation } from '../analysis/types.js';
import type { StagePlan } from '../domain/plan.js';
import { CanaryError, ExitCode } from '../errors.js';
import type { EvaluationReport } from '../evaluation/types.js';
import type { StageBake } from './bake-state.js';
import { Finish, type RolloutRun, type Wake } from './run.js';
import { message } from './summaries.js';
import type { GateDecision, RolloutDeps } from './types.js';

/**
 * The plan's `evaluation:` before the first weight change. Skipped, and journaled as such, on
 * `--skip-evaluation` or when the run starts where traffic has already moved; a failed one
 * ends the run with nothing moved (outcome rejected, exit 3).
 */
export async function preTrafficEvaluation(run: RolloutRun): Promise<void> {
  const skip = (reason: 'flag' | 'resumed', detail: string) =>
    run.emit({ type: 'prompt_eval_skipped', at: run.clock.now(), reason, detail });
  if (run.options.skipEvaluation) {
    return skip('flag', 'skipped with --skip-evaluation: traffic moves without the pre-traffic evaluation');
  }
  if (run.reached !== null) {
    return skip('resumed', `resuming at ${run.stageLabel(run.reached)}: the canary already carries traffic`);
  }
  const evaluate = run.deps.preTraffic as NonNullable<RolloutDeps['preTraffic']>; // checked in checkInputs() (engine.ts)
  let report: EvaluationReport;
  try {
    report = await evaluate({ emit: run.emit, signal: run.signal });
  } catch (error) {
    if (run.signal?.aborted || !(error instanceof CanaryError)) throw error;
    // A broken judge or prompt is the plan's problem (exit 2); a relay that cannot be pinned, 5.
    const code = error.exitCode === ExitCode.BadInput ? ExitCode.BadInput : ExitCode.Aborted;
    const result = run.leftInPlace(
      'aborted',
      code,
      `the pre-traffic evaluation stopped: ${error.message}`,
      'evaluation',
    );
    throw new Finish({ ...result, next: error.hint ?? result.next });
  }
  if (run.signal?.aborted) throw run.signal.reason;
  if (report.verdict === 'pass') return;
  const traffic = run.confirmed?.rules ?? null;
  throw new Finish({
    outcome: 'rejected',
    exitCode: ExitCode.RolledBack,
    traffic,
    summary: `the pre-traffic evaluation failed: ${report.summary}; no traffic was moved (${run.describeTraffic(traffic)})`,
    next: 'fix the canary (or the prompt set) and run the plan again; in an emergency, --skip-evaluation moves traffic without it',
    cause: 'evaluation',
    stage: null,
  });
}

/** Runs the stage's checks once; a failing one rolls back like a failed health check. */
export async function runStageChecks(run: RolloutRun, stage: StagePlan): Promise<void> {
  if (run.checkedStages.has(stage.index)) return;
  run.checkedStages.add(stage.index);
  const checks = [...(run.plan.checks ?? []), ...(stage.checks ?? [])];
  if (checks.length === 0) return;
  if (!run.deps.stageChecks) {
    throw new CanaryError(
      'this plan has checks but the engine was given no runner for them.',
      ExitCode.Internal,
    );
  }
  run.emit({
    type: 'log',
    at: run.clock.now(),
    level: 'info',
    message: `${run.stageLabel(stage.index)}: running check${checks.length === 1 ? '' : 's'} ${checks.map((c) => c.name).join(', ')}`,
  });
  const results = await run.deps.stageChecks({
    stage: stage.index,
    stageCount: run.stageCount,
    weight: stage.weight,
    checks,
    signal: run.signal,
  });
  if (run.signal?.aborted) throw run.signal.reason;
  for (const check of results) {
    run.emit({ type: 'stage_check', at: run.clock.now(), stage: stage.index, check });
  }
  const failed = results.find((r) => r.status === 'fail');
  if (failed) {
    const how = failed.timedOut
      ? 'timed out'
      : failed.exitCode === null
        ? 'could not run'
        : `failed with exit code ${failed.exitCode}`;
    const last = failed.output.trimEnd().split('\n').pop()?.trim();
    await run.rollback(
      stage.index,
      'health',
      `stage check '${failed.name}' ${how}${last ? `: ${last.slice(0, 200)}` : ''}`,
    );
  }
}

/** Asks the stage's gate; its answer wakes the bake (src/rollout/operator.ts waits for it). */
export function openGate(run: RolloutRun, bake: StageBake, evaluation: Evaluation): void {
  const ask = run.deps.gate;
  if (!ask) throw new CanaryError('pause stage reached without a gate', ExitCode.Internal);
  const { stage, gate } = bake;
  const signal = run.signal ? AbortSignal.any([run.signal, gate.controller.signal]) : gate.controller.signal;
  run.emit({ type: 'paused', at: run.clock.now(), stage: stage.index, weight: stage.weight });
  gate.state = 'pending';
  gate.promise = Promise.resolve()
    .then(() =>
      ask({ stage: stage.index, stageCount: run.stageCount, weight: stage.weight, evaluation, signal }),
    )
    .then(
      (decision): Wake => ({ kind: 'gate', decision }),
      (error): Wake => ({ kind: 'gate_error', error }),
    );
}

/** The error that ends the run when the gate itself failed (a closed terminal, a broken channel). */
export function gateFailed(run: RolloutRun, bake: StageBake, error: unknown): unknown {
  if (run.signal?.aborted) return error;
  return new CanaryError(
    `the gate at ${run.stageLabel(bake.stage.index)} failed: ${message(error)}`,
    ExitCode.Aborted,
  );
}

/**
 * Acts on the gate's answer: `rollback` rolls back, `hold` stops with traffic at this stage,
 * `promote` approves. Returns whether the stage may be left now.
 */
export async function answerGate(run: RolloutRun, bake: StageBake, decision: GateDecision): Promise<boolean> {
  const { stage } = bake;
  run.emit({ type: 'gate_decision', at: run.clock.now(), stage: stage.index, decision, by: 'operator' });
  if (decision === 'rollback') {
    await run.rollback(stage.index, 'operator', 'the operator chose it at the manual gate');
  }
  if (decision === 'hold') {
    throw new Finish(
      run.leftInPlace(
        'held',
        ExitCode.Ok,
        `held at ${run.stageLabel(stage.index)} by the operator`,
        'gate_hold',
      ),
    );
  }
  bake.gate.state = 'approved';
  if (bake.canLeave()) return true;
  // Promoted while the latest read lacked a pass: the stage still needs one, within the
  // grace the plan gives a stage beyond its bake.
  bake.extendDeadline();
  return false;
}
