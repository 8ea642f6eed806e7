/**
 * The evaluation with significance on: one look at a stage, judged on everything the stage
 * has seen so far, with the error control of ./sequential.ts.
 *
 * - Error-rate comparisons pool the stage's counts (one read from the stage's start, so short
 *   windows stay in the pool), and `min_requests` counts the pooled canary requests: a stage
 *   at 1 canary request a second reaches a verdict once its pool holds the evidence.
 * - Latency and cost comparisons pair the stage's non-overlapping windows in time.
 * - Thresholds are judged in the current window (a fresh incident shows at once), the error
 *   rate by an exact test so a handful of requests cannot fail it on noise. When the baseline
 *   breaches the same threshold in the same window, the verdict is `hold`: both versions are
 *   degraded (a shared incident), the canary is not to blame; the engine pauses the bake and
 *   waits. A canary also worse than the baseline is still caught by the comparisons.
 *
 * Each look in named steps: its facts (./sequential-look.ts), one check per threshold
 * (./sequential-thresholds.ts) and per comparison (./sequential-comparisons.ts), then the verdict.
 */

import type { JudgedMetric } from '../domain/metrics.js';
import { FRESH_SPENDING, stageAlpha } from './sequential.js';
import { comparisonCheck } from './sequential-comparisons.js';
import { type Look, num, type SequentialInput, startLook } from './sequential-look.js';
import { thresholdCheck } from './sequential-thresholds.js';
import type { CheckResult, CheckStatus, ErrorControl, Evaluation } from './types.js';

export function evaluateSequential(input: SequentialInput): Evaluation {
  const look = startLook(input);
  const checks: CheckResult[] = [];
  const { thresholds, baselineComparison } = input.config;
  for (const metric of Object.keys(thresholds) as JudgedMetric[]) {
    const rule = thresholds[metric];
    if (rule) checks.push(thresholdCheck(look, metric, rule.max));
  }
  for (const metric of Object.keys(baselineComparison) as JudgedMetric[]) {
    const rule = baselineComparison[metric];
    if (
      !rule ||
      (rule.max_ratio === undefined && rule.max_increase === undefined && rule.floor === undefined)
    )
      continue;
    checks.push(comparisonCheck(look, metric, rule));
  }
  return evaluationOf(look, checks);
}

/** The look's verdict from its checks, with the pooled counts and the error control it spent. */
function evaluationOf(look: Look, checks: CheckResult[]): Evaluation {
  const { input, significance, poolCanary, poolBaseline, waiting } = look;
  let verdict: CheckStatus = 'pass';
  if (checks.some((c) => c.status === 'fail')) verdict = 'fail';
  else if (checks.some((c) => c.status === 'hold')) verdict = 'hold';
  else if (look.short !== null || checks.some((c) => c.status === 'no_data')) verdict = 'no_data';

  const spent = look.tested ? look.next : (input.spending ?? FRESH_SPENDING);
  const errorControl: ErrorControl = {
    rollout_confidence: significance.confidence,
    stage_confidence: Number((1 - stageAlpha(input.budget)).toPrecision(6)),
    look_alpha: look.tested ? look.alpha : 0,
    bake_fraction: Math.round(input.bakeFraction * 1000) / 1000,
    spent_fraction: spent.spentFraction,
    extra_looks: spent.extraLooks,
    tests_per_stage: input.budget.tests,
    judged_stages: input.budget.stages,
  };
  return {
    at: input.at,
    windowStart: input.windowStart,
    windowEnd: input.windowEnd,
    canary: input.canary,
    baseline: input.baseline,
    canaryRequests: num(input.canary, 'request_count'),
    minRequests: look.min,
    checks,
    verdict,
    pooled: {
      canary_requests: poolCanary?.requests ?? null,
      baseline_requests: poolBaseline?.requests ?? null,
      canary_errors: poolCanary?.errors ?? null,
      baseline_errors: poolBaseline?.errors ?? null,
    },
    error_control: errorControl,
    ...(waiting.length > 0 && verdict === 'no_data' ? { waiting_for: waiting.join('; ') } : {}),
  };
}
