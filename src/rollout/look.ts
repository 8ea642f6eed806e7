/**
 * One look at a baking stage: read the route and the window's metrics together, stop on drift,
 * judge the canary against the thresholds and the baseline, and roll back when the verdicts
 * say so (too many failures, a shared incident past its deadline, metrics unreadable).
 */
import { evaluate } from '../analysis/evaluate.js';
import type { Evaluation } from '../analysis/types.js';
import { analyseCustom } from '../custom-metrics/analyse.js';
import type { CustomValues } from '../custom-metrics/types.js';
import type { StagePlan } from '../domain/plan.js';
import type { Route, VersionMetrics } from '../domain/relay.js';
import { formatDuration, formatPlanDuration } from '../format.js';
import type { StageBake } from './bake-state.js';
import { readDeadlineMs } from './deadlines.js';
import type { RolloutRun } from './run.js';
import { message, reasonOf, WEIGHT_TOLERANCE } from './summaries.js';

interface WindowReads {
  route: PromiseSettledResult<Route>;
  canary: PromiseSettledResult<VersionMetrics>;
  baseline: PromiseSettledResult<VersionMetrics | null>;
  customCanary: PromiseSettledResult<CustomValues | null>;
  customBaseline: PromiseSettledResult<CustomValues | null>;
  poolCanary: PromiseSettledResult<VersionMetrics | null>;
  poolBaseline: PromiseSettledResult<VersionMetrics | null>;
  /** The baseline serves traffic at this stage (not at 100 %): comparisons apply. */
  withBaseline: boolean;
  /** Significance is on: the stage so far was read too. */
  pooled: boolean;
}

/**
 * Looks once, at the end of the interval; unwinds with a `Finish` when the look decides the run.
 * `stop`, when given, replaces the run's signal for the reads (it must abort when the run's does):
 * an operator's rollback or quit arriving mid-look aborts the reads in flight, and the look then
 * ends without judging, counting or reporting anything, so the command is applied at once.
 */
export async function look(run: RolloutRun, bake: StageBake, stop?: AbortSignal): Promise<void> {
  const { stage } = bake;
  const { analysis } = run.plan;
  bake.lastPoll = run.clock.now();
  const windowEnd = bake.lastPoll;
  const windowStart = Math.max(windowEnd - analysis.windowMs, bake.stageStart);
  const reads = await readWindow(run, stage, windowStart, windowEnd, bake.stageStart, stop);
  if (stop?.aborted && !run.signal?.aborted) return;

  if (reads.route.status === 'fulfilled') run.checkDrift(reads.route.value, stage.index);
  else if (!run.signal?.aborted && analysis.onMetricErrors === 'rollback') {
    // The route could not be read (after the call's own retries): nothing shows the canary
    // still holds only its stage, and no drift was seen. Restore the baseline. A plan that
    // says `on_metric_errors: hold` asked to ride out relay outages: it is counted below.
    await run.rollback(
      stage.index,
      'relay_error',
      `the route could not be read: ${message(reads.route.reason)}`,
    );
  }
  const failed = [
    reads.route,
    reads.canary,
    reads.baseline,
    reads.customCanary,
    reads.customBaseline,
    reads.poolCanary,
    reads.poolBaseline,
  ].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) return readFailed(run, bake, failed, failed === reads.route);
  bake.readErrors = 0;
  await record(run, bake, judge(run, bake, reads, windowStart, windowEnd));
}

async function readWindow(
  run: RolloutRun,
  stage: StagePlan,
  start: number,
  end: number,
  stageStart: number,
  stop: AbortSignal | undefined,
): Promise<WindowReads> {
  const { plan } = run;
  // Every read ends within its interval plus a small grace (src/rollout/deadlines.ts), so a
  // hung relay cannot hold the next check, or a rollback, for the client's default minute.
  const call = { signal: stop ?? run.signal, deadlineMs: readDeadlineMs(plan.analysis.intervalMs) };
  const withBaseline = 100 - stage.weight > WEIGHT_TOLERANCE;
  const read = (tag: string, from = start) =>
    run.metrics.readMetrics({ versionTag: tag, start: from, end, route: plan.route }, call);
  const custom = run.deps.customMetrics;
  const readCustom = (tag: string) =>
    custom ? custom.read({ versionTag: tag, start, end, route: plan.route }, call) : Promise.resolve(null);
  // With significance on, the stage so far is read too: its pooled counts are what the
  // error-rate comparison and min_requests judge (src/analysis/sequential-evaluate.ts).
  const pooled = plan.analysis.significance !== undefined;
  const none = Promise.resolve(null);
  const [route, canary, baseline, customCanary, customBaseline, poolCanary, poolBaseline] =
    await Promise.allSettled([
      run.deps.relay.getRoute(plan.route, call),
      read(plan.canary.tag),
      withBaseline ? read(plan.baseline.tag) : none,
      readCustom(plan.canary.tag),
      withBaseline ? readCustom(plan.baseline.tag) : none,
      pooled ? read(plan.canary.tag, stageStart) : none,
      pooled && withBaseline ? read(plan.baseline.tag, stageStart) : none,
    ]);
  return {
    route,
    canary,
    baseline,
    customCanary,
    customBaseline,
    poolCanary,
    poolBaseline,
    withBaseline,
    pooled,
  };
}

/** A failed read is "no data": the latest verdict is forgotten, and enough in a row roll back. */
async function readFailed(
  run: RolloutRun,
  bake: StageBake,
  failed: PromiseRejectedResult,
  wasRoute: boolean,
): Promise<void> {
  const { analysis } = run.plan;
  if (run.signal?.aborted) throw run.signal.reason;
  bake.readErrors++;
  bake.latest = null;
  const what = wasRoute ? 'reading the route' : 'reading metrics';
  run.emit({
    type: 'metrics_error',
    at: run.clock.now(),
    stage: bake.stage.index,
    message: `${what} failed: ${message(failed.reason)}`,
    consecutive: bake.readErrors,
    limit: analysis.maxMetricErrors,
  });
  if (bake.readErrors >= analysis.maxMetricErrors && analysis.onMetricErrors === 'rollback') {
    await run.rollback(
      bake.stage.index,
      'metrics_unavailable',
      `metrics unreadable ${bake.readErrors} times in a row (last: ${message(failed.reason)})`,
    );
  }
}

/** The window's verdict: the built-in checks, then `analysis.metrics:` folded into the same verdict. */
function judge(
  run: RolloutRun,
  bake: StageBake,
  reads: WindowReads,
  windowStart: number,
  windowEnd: number,
): Evaluation {
  const { analysis } = run.plan;
  const now = run.clock.now();
  const config = reads.withBaseline ? analysis : { ...analysis, baselineComparison: {} };
  const value = <T>(r: PromiseSettledResult<T>) => (r as PromiseFulfilledResult<T>).value;
  const stage = {
    bakeFraction: (now - bake.stageStart - bake.heldMs) / Math.max(1, bake.stage.bakeMs),
    budget: bake.budget,
  };
  const builtIn = evaluate({
    canary: value(reads.canary),
    baseline: value(reads.baseline),
    config,
    history: bake.history,
    at: now,
    windowStart,
    windowEnd,
    ...(reads.pooled
      ? {
          pool: {
            canary: value(reads.poolCanary),
            baseline: value(reads.poolBaseline),
            reference: reads.withBaseline ? null : run.referenceBaseline,
          },
          stage,
        }
      : {}),
  });
  // analysis.metrics: the same window and error control, folded into the same verdict.
  const evaluation = analyseCustom(builtIn, {
    metrics: analysis.customMetrics,
    canary: value(reads.customCanary),
    baseline: value(reads.customBaseline),
    significance: config.significance,
    history: bake.history,
    stage: reads.pooled ? stage : undefined,
  });
  bake.remember(evaluation);
  if (reads.pooled && reads.withBaseline) run.referenceBaseline = value(reads.poolBaseline);
  return evaluation;
}

/**
 * Counts the verdict, reports it, and rolls back when it decides the stage: the failure limit
 * reached, or both versions degraded past the hold deadline. A `hold` pauses the bake clock.
 */
async function record(run: RolloutRun, bake: StageBake, evaluation: Evaluation): Promise<void> {
  const { clock } = run;
  const { analysis } = run.plan;
  const { stage } = bake;
  if (evaluation.verdict === 'fail') bake.failures++;
  if (evaluation.verdict === 'hold') {
    // Both versions degraded: the time since the last look does not count as bake.
    const paused = clock.now() - bake.previousLook;
    bake.heldMs += paused;
    bake.bakeEnd += paused;
    bake.dataDeadline += paused;
    bake.holdSince ??= bake.previousLook;
  } else {
    bake.holdSince = null;
  }
  bake.previousLook = clock.now();
  const event = {
    type: 'evaluation' as const,
    at: clock.now(),
    stage: stage.index,
    evaluation,
    consecutiveFailures: bake.failures,
    failureLimit: analysis.failureLimit,
    bakeElapsedMs: clock.now() - bake.stageStart,
    bakeMs: stage.bakeMs,
    nextCheckAt: clock.now() + analysis.intervalMs,
  };
  const { failures, holdSince } = bake;
  if (evaluation.verdict === 'fail' && failures >= analysis.failureLimit) {
    const why = `${reasonOf(evaluation)} (${failures} failed evaluation${failures === 1 ? '' : 's'} in this stage)`;
    await run.rollback(stage.index, 'health', why, () => run.emit(event));
  }
  run.emit(event);
  if (holdSince !== null && clock.now() - holdSince >= analysis.holdDeadlineMs) {
    await run.rollback(
      stage.index,
      'shared_incident',
      `both versions degraded for ${formatDuration(clock.now() - holdSince)}, past the hold deadline of ` +
        `${formatPlanDuration(analysis.holdDeadlineMs)} (analysis.hold_deadline): ${reasonOf(evaluation)}`,
    );
  }
  if (evaluation.verdict === 'no_data') {
    run.emit({
      type: 'waiting_for_data',
      at: clock.now(),
      stage: stage.index,
      requests: evaluation.pooled?.canary_requests ?? evaluation.canaryRequests,
      minRequests: evaluation.minRequests,
      deadlineAt: bake.dataDeadline,
      ...(evaluation.waiting_for ? { needs: evaluation.waiting_for } : {}),
    });
  }
}
