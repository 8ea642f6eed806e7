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
 */

import type { JudgedMetric } from '../domain/metrics.js';
import type { AnalysisConfig, ComparisonRule } from '../domain/plan.js';
import type { VersionMetrics } from '../domain/relay.js';
import { formatAlpha, formatDelta, formatMetric, formatP, formatRatio, metricLabel } from '../format.js';
import { withinBound, ZERO_BASELINE_ALLOWANCE } from './compare.js';
import { increasePValue, pairedTPValue, ratioPValue, thresholdPValue } from './exact-tests.js';
import { type ErrorBudget, FRESH_SPENDING, lookAlpha, type SpendingState, stageAlpha } from './sequential.js';
import type { CheckResult, CheckStatus, ErrorControl, Evaluation } from './types.js';

export interface SequentialInput {
  canary: VersionMetrics | null;
  baseline: VersionMetrics | null;
  /** Everything since the stage started, read as one window. */
  pool: {
    canary: VersionMetrics | null;
    baseline: VersionMetrics | null;
    /** No baseline now (100 %): its pooled metrics from the last stage that had one. */
    reference?: VersionMetrics | null | undefined;
  };
  /** The current window and earlier non-overlapping ones, newest first, for paired tests. */
  windows: (metric: JudgedMetric) => { canary: number; baseline: number }[];
  config: Pick<AnalysisConfig, 'minRequests' | 'thresholds' | 'baselineComparison' | 'significance'>;
  /** Share of the bake elapsed, held time excluded (1 or more once it is over). */
  bakeFraction: number;
  budget: ErrorBudget;
  /** Where spending stood after the previous look of this stage. */
  spending: SpendingState | undefined;
  at: number;
  windowStart: number;
  windowEnd: number;
}

type Num = number | null;

/**
 * Requests a window needs before a latency or cost threshold is judged on the window alone
 * (else on the stage when its bake is over). A quantile's relative standard error is about
 * √(q(1 − q)/n) / (φ(z_q)·σ): for a typical LLM latency spread (p99 = 4.5 × p50) a p99 of
 * 1 500 requests still moves ±15 %, so a canary at 2 250 ms would cross a 2 500 ms limit in
 * most stages on noise; 10 000 requests bring that to ±6 %.
 */
const WINDOW_REQUESTS_FOR: Record<JudgedMetric, number> = {
  error_rate: 0,
  latency_p50_ms: 1000,
  latency_p99_ms: 10_000,
  cost_per_token: 200,
};

function num(metrics: VersionMetrics | null, key: string): Num {
  const raw: unknown = (metrics as unknown as Record<string, unknown> | null)?.[key];
  return typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw : null;
}

function counts(metrics: VersionMetrics | null): { errors: number; requests: number } | null {
  const requests = num(metrics, 'request_count');
  if (requests === null) return null;
  const errors = num(metrics, 'error_count');
  if (errors !== null) return { errors, requests };
  const rate = num(metrics, 'error_rate');
  return rate === null ? null : { errors: Math.round(rate * requests), requests };
}

/** The bound a comparison holds the canary to, at a baseline value. */
export function comparisonBound(metric: JudgedMetric, rule: ComparisonRule, baseline: number): number {
  const parts: number[] = [];
  if (rule.max_ratio !== undefined) {
    parts.push(baseline === 0 ? ZERO_BASELINE_ALLOWANCE[metric] : baseline * rule.max_ratio);
  }
  if (rule.max_increase !== undefined) parts.push(baseline + rule.max_increase);
  let bound = parts.length > 0 ? Math.min(...parts) : Number.POSITIVE_INFINITY;
  if (rule.floor !== undefined) bound = Math.max(bound, baseline + rule.floor);
  return bound;
}

function ruleText(metric: JudgedMetric, rule: ComparisonRule): string {
  const parts: string[] = [];
  if (rule.max_ratio !== undefined) parts.push(`${formatRatio(rule.max_ratio)} × baseline`);
  if (rule.max_increase !== undefined) parts.push(`baseline + ${formatDelta(metric, rule.max_increase)}`);
  let text = parts.join(' and ');
  if (rule.floor !== undefined)
    text = `${text ? `${text}, at least ` : ''}baseline + ${formatDelta(metric, rule.floor)}`;
  return text;
}

/** One-sided p-value that the canary's pooled error rate is above the rule's bound. */
function errorComparisonP(
  rule: ComparisonRule,
  canary: { errors: number; requests: number },
  baseline: { errors: number; requests: number },
): number {
  const tight: number[] = [];
  // The conditional test needs no baseline errors to judge a ratio: 7 canary errors against 0 of
  // the baseline's on equal traffic is p = share⁷, not a breach of a near-zero allowance.
  if (rule.max_ratio !== undefined) tight.push(ratioPValue(canary, baseline, rule.max_ratio));
  if (rule.max_increase !== undefined) tight.push(increasePValue(canary, baseline, rule.max_increase));
  // Both given: the canary must meet both (the tighter bound), so either test may fail it.
  let p = tight.length > 0 ? Math.min(...tight) : 1;
  // A floor loosens: the canary fails only if it is also above baseline + floor.
  if (rule.floor !== undefined) p = Math.max(p, increasePValue(canary, baseline, rule.floor));
  return p;
}

/** Paired differences for a latency or cost comparison: log ratios, or differences for an increase. */
function pairedP(
  metric: JudgedMetric,
  rule: ComparisonRule,
  pairs: { canary: number; baseline: number }[],
): number {
  const eps = ZERO_BASELINE_ALLOWANCE[metric];
  const ps: number[] = [];
  if (rule.max_ratio !== undefined) {
    const r = rule.max_ratio;
    ps.push(
      pairedTPValue(pairs.map((w) => Math.log(Math.max(w.canary, eps) / (Math.max(w.baseline, eps) * r))))
        .pValue,
    );
  }
  if (rule.max_increase !== undefined) {
    const d = rule.max_increase;
    ps.push(pairedTPValue(pairs.map((w) => w.canary - w.baseline - d)).pValue);
  }
  let p = ps.length > 0 ? Math.min(...ps) : 1;
  if (rule.floor !== undefined) {
    const f = rule.floor;
    p = Math.max(p, pairedTPValue(pairs.map((w) => w.canary - w.baseline - f)).pValue);
  }
  return p;
}

export function evaluateSequential(input: SequentialInput): Evaluation {
  const { config, budget } = input;
  const significance = config.significance ?? { confidence: 0.99, minWindows: 4 };
  const min = config.minRequests;
  const poolCanary = counts(input.pool.canary);
  const poolBaseline = counts(input.pool.baseline);
  const windowCanary = counts(input.canary);
  const comparing = Object.keys(config.baselineComparison).length > 0;
  const { alpha, next } = lookAlpha(budget, input.spending ?? FRESH_SPENDING, input.bakeFraction);
  const checks: CheckResult[] = [];
  const waiting: string[] = [];
  let tested = false;

  let short: string | null = null;
  if (input.pool.canary === null || poolCanary === null) short = 'no canary metrics for the stage';
  else if (poolCanary.requests < min) short = `canary requests ${poolCanary.requests}/${min} in the stage`;
  else if (comparing && (poolBaseline === null || poolBaseline.requests < min)) {
    short = `baseline requests ${poolBaseline?.requests ?? 0}/${min} in the stage`;
  }
  if (short !== null) waiting.push(short);

  for (const metric of Object.keys(config.thresholds) as JudgedMetric[]) {
    const rule = config.thresholds[metric];
    if (!rule) continue;
    const id = `${metric}.max`;
    const label = metricLabel(metric);
    const fmt = (v: number) => formatMetric(metric, v);
    const base = { id, metric, kind: 'threshold' as const, bound: rule.max };
    if (short !== null) {
      checks.push({
        ...base,
        status: 'no_data',
        value: num(input.canary, metric),
        reason: `no data: ${short}`,
      });
      continue;
    }
    // The window's own value when it holds enough requests for that statistic to be steady;
    // else the stage's so far. A p99 of 300 requests is their 3rd largest: a good canary at
    // 1.8 s breaches 2.5 s in some window of most stages on that alone.
    const steady = Math.max(min, WINDOW_REQUESTS_FOR[metric]);
    const fromWindow = metric === 'error_rate' || (windowCanary?.requests ?? 0) >= steady;
    // Windows too short for a steady value: the limit is judged once, when the bake is over, on
    // the whole stage. Judging a p99 of 30 requests at every look fails good canaries on noise
    // alone (15 % of rollouts at 20 rps in our measurements).
    if (!fromWindow && input.bakeFraction < 1) {
      const sofar = num(input.pool.canary, metric);
      checks.push({
        ...base,
        status: 'pass',
        value: sofar,
        baseline: comparing ? num(input.pool.baseline, metric) : null,
        reason:
          `${label} ${sofar === null ? 'unknown' : fmt(sofar)} over the stage so far; windows of ` +
          `${windowCanary?.requests ?? 0} requests are too few for it (${steady}), so the limit is judged on the stage when the bake is over`,
      });
      continue;
    }
    const value = num(fromWindow ? input.canary : input.pool.canary, metric);
    const baseValue = comparing ? num(fromWindow ? input.baseline : input.pool.baseline, metric) : null;
    if (value === null) {
      checks.push({ ...base, status: 'no_data', value: null, reason: `no data: canary ${label} missing` });
      continue;
    }
    const where = fromWindow ? 'in the window' : 'over the stage';
    const baseText = baseValue === null ? '' : ` (baseline ${fmt(baseValue)})`;
    let breached = !withinBound(value, rule.max);
    let test = 'observed value';
    let pValue: number | null = null;
    if (metric === 'error_rate' && windowCanary) {
      pValue = thresholdPValue(windowCanary, rule.max);
      breached = breached && pValue < alpha;
      test = `exact binomial over ${windowCanary.requests} requests`;
      tested = true;
    }
    // The baseline is degraded too when it breaches the same limit, or when the canary is
    // within the plan's margin of it: then the canary is no worse than the baseline, and the
    // breach is the environment's (a slow upstream), not the canary's.
    const margin = config.baselineComparison[metric];
    // Over the stage too: one window of a baseline running at 3 % can read 1.8 % by chance.
    const pooledBase = comparing ? num(input.pool.baseline, metric) : null;
    const baselineBreached =
      baseValue !== null &&
      (!withinBound(baseValue, rule.max) ||
        (pooledBase !== null && !withinBound(pooledBase, rule.max)) ||
        (margin !== undefined && withinBound(value, comparisonBound(metric, margin, baseValue))));
    let status: CheckStatus = 'pass';
    let reason = `${label} ${fmt(value)} ≤ max ${fmt(rule.max)}${baseText} ${where}`;
    // At 100 % there is no baseline to compare with: the one it replaced, over its last stage.
    const reference = comparing ? null : num(input.pool.reference ?? null, metric);
    const referenceBreached =
      reference !== null &&
      (!withinBound(reference, rule.max) ||
        (margin !== undefined && withinBound(value, comparisonBound(metric, margin, reference))));
    if (breached && referenceBreached) {
      reason =
        `${label} ${fmt(value)} > max ${fmt(rule.max)} ${where}, but the baseline was at ${fmt(reference ?? 0)} ` +
        'over its last stage: both versions degraded, the canary no worse than the baseline it replaces';
    } else if (!withinBound(value, rule.max) && baselineBreached && !fromWindow) {
      // Over the stage, both were degraded at some time: the live windows decide holds; the
      // canary is no worse than the baseline, which is what this limit's verdict needs.
      reason =
        `${label} canary ${fmt(value)} > max ${fmt(rule.max)} over the stage, but baseline ${fmt(baseValue ?? 0)}: ` +
        'both versions were degraded (shared incident), the canary no worse than the baseline';
    } else if (breached && baselineBreached) {
      // Hold only on a breach that would otherwise fail: noise in a small window holds nothing.
      status = 'hold';
      reason =
        `both versions degraded (shared incident): ${label} canary ${fmt(value)} > max ${fmt(rule.max)}, ` +
        `baseline ${fmt(baseValue ?? 0)} ${where}; the canary is no worse than the baseline`;
    } else if (breached) {
      status = 'fail';
      reason = `${label} ${fmt(value)} > max ${fmt(rule.max)}${baseText} ${where}${pValue === null ? '' : ` beyond noise (${formatP(pValue)} < ${formatAlpha(alpha)})`}`;
    } else if (!withinBound(value, rule.max)) {
      reason = `${label} ${fmt(value)} > max ${fmt(rule.max)}${baseText} ${where}, but not beyond noise (${formatP(pValue ?? 1)} ≥ ${formatAlpha(alpha)})`;
    }
    checks.push({ ...base, status, value, baseline: baseValue, reason, pValue, alpha, test });
  }

  for (const metric of Object.keys(config.baselineComparison) as JudgedMetric[]) {
    const rule = config.baselineComparison[metric];
    if (
      !rule ||
      (rule.max_ratio === undefined && rule.max_increase === undefined && rule.floor === undefined)
    )
      continue;
    const id = `${metric}.vs_baseline`;
    const label = metricLabel(metric);
    const fmt = (v: number) => formatMetric(metric, v);
    const base = { id, metric, kind: 'comparison' as const };
    const noData = (why: string | null) =>
      checks.push({
        ...base,
        status: 'no_data',
        value: null,
        baseline: null,
        bound: null,
        reason: `no data: ${why}`,
      });
    if (short !== null || !poolCanary || !poolBaseline) {
      noData(short);
      continue;
    }
    if (metric === 'error_rate') {
      const value = poolCanary.requests > 0 ? poolCanary.errors / poolCanary.requests : 0;
      const baseValue = poolBaseline.requests > 0 ? poolBaseline.errors / poolBaseline.requests : 0;
      const bound = comparisonBound(metric, rule, baseValue);
      const pValue = errorComparisonP(rule, poolCanary, poolBaseline);
      tested = true;
      const fail = pValue < alpha;
      const data =
        `${label} ${fmt(value)} (${poolCanary.errors}/${poolCanary.requests}) vs baseline ${fmt(baseValue)} ` +
        `(${poolBaseline.errors}/${poolBaseline.requests}) over the stage; bound ${ruleText(metric, rule)} = ${fmt(bound)}`;
      checks.push({
        ...base,
        status: fail ? 'fail' : 'pass',
        value,
        baseline: baseValue,
        bound,
        pValue,
        alpha,
        confidence: significance.confidence,
        test: 'conditional binomial over the stage',
        reason: `${data}: ${fail ? 'above the bound' : 'not above the bound'} beyond noise? ${fail ? 'yes' : 'no'} (${formatP(pValue)} ${fail ? '<' : '≥'} ${formatAlpha(alpha)})`,
      });
      continue;
    }
    const pairs = input.windows(metric);
    const needed = Math.max(3, significance.minWindows);
    if (pairs.length < needed) {
      const why = `${label}: ${pairs.length} of the ${needed} non-overlapping windows the paired test needs`;
      waiting.push(why);
      noData(why);
      continue;
    }
    const pValue = pairedP(metric, rule, pairs);
    tested = true;
    const value = num(input.pool.canary, metric) ?? pairs[0]?.canary ?? 0;
    const baseValue = num(input.pool.baseline, metric) ?? pairs[0]?.baseline ?? 0;
    const bound = comparisonBound(metric, rule, baseValue);
    const fail = pValue < alpha;
    checks.push({
      ...base,
      status: fail ? 'fail' : 'pass',
      value,
      baseline: baseValue,
      bound,
      pValue,
      alpha,
      confidence: significance.confidence,
      test: `paired t over ${pairs.length} windows`,
      reason:
        `${label} ${fmt(value)} vs baseline ${fmt(baseValue)} over the stage; bound ${ruleText(metric, rule)} = ${fmt(bound)}; ` +
        `paired over ${pairs.length} windows: ${fail ? 'above the bound beyond noise' : 'not above the bound beyond noise'} ` +
        `(${formatP(pValue)} ${fail ? '<' : '≥'} ${formatAlpha(alpha)})`,
    });
  }

  let verdict: CheckStatus = 'pass';
  if (checks.some((c) => c.status === 'fail')) verdict = 'fail';
  else if (checks.some((c) => c.status === 'hold')) verdict = 'hold';
  else if (short !== null || checks.some((c) => c.status === 'no_data')) verdict = 'no_data';

  const spent = tested ? next : (input.spending ?? FRESH_SPENDING);
  const errorControl: ErrorControl = {
    rollout_confidence: significance.confidence,
    stage_confidence: Number((1 - stageAlpha(budget)).toPrecision(6)),
    look_alpha: tested ? alpha : 0,
    bake_fraction: Math.round(input.bakeFraction * 1000) / 1000,
    spent_fraction: spent.spentFraction,
    extra_looks: spent.extraLooks,
    tests_per_stage: budget.tests,
    judged_stages: budget.stages,
  };
  return {
    at: input.at,
    windowStart: input.windowStart,
    windowEnd: input.windowEnd,
    canary: input.canary,
    baseline: input.baseline,
    canaryRequests: num(input.canary, 'request_count'),
    minRequests: min,
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
