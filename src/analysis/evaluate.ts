/**
 * Judges one window of metrics against a plan's checks. Pure: values in, verdict out.
 *
 * The rule that shapes everything here: no data is never healthy. Too little canary
 * traffic turns every check into `no_data` (a verdict on a handful of requests would be
 * noise), and a null, missing, non-finite or negative value is `no_data` for its check.
 */

import type { JudgedMetric } from '../domain/metrics.js';
import { JUDGED_METRICS } from '../domain/metrics.js';
import type { AnalysisConfig, ComparisonRule } from '../domain/plan.js';
import type { VersionMetrics } from '../domain/relay.js';
import { formatMetric, metricLabel } from '../format.js';
import { compareToBaseline, withinBound } from './compare.js';
import type { ErrorBudget } from './sequential.js';
import { evaluateSequential } from './sequential-evaluate.js';
import type { CheckResult, CheckStatus, Evaluation } from './types.js';

export interface EvaluateInput {
  canary: VersionMetrics | null;
  baseline: VersionMetrics | null;
  config: Pick<AnalysisConfig, 'minRequests' | 'thresholds' | 'baselineComparison' | 'significance'>;
  /**
   * Earlier evaluations of the same stage, oldest first. With significance on, the paired
   * tests draw on the windows among them that do not overlap the current one or each other.
   */
  history?: readonly Evaluation[] | undefined;
  at: number;
  windowStart: number;
  windowEnd: number;
  /**
   * Significance on: the stage so far read as one window, and where the stage stands (the
   * engine gives both whenever the plan turns significance on). With both, the look is judged
   * by ./sequential-evaluate.ts (pooled counts, error control per stage and per rollout);
   * without, by the fixed comparison of observed values below.
   */
  pool?:
    | {
        canary: VersionMetrics | null;
        baseline: VersionMetrics | null;
        /** At 100 %: the baseline's pooled metrics from the last stage that had one. */
        reference?: VersionMetrics | null | undefined;
      }
    | undefined;
  stage?: { bakeFraction: number; budget: ErrorBudget } | undefined;
}

type Read = { ok: true; value: number } | { ok: false; why: string };

/** Metric values come off the wire: anything but a finite, non-negative number is no data. */
function read(metrics: VersionMetrics | null, metric: JudgedMetric): Read {
  if (metrics === null) return { ok: false, why: 'no metrics' };
  const raw: unknown = (metrics as unknown as Record<string, unknown>)[metric];
  if (raw === undefined || raw === null) return { ok: false, why: `${metricLabel(metric)} missing` };
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
    return { ok: false, why: `${metricLabel(metric)} unusable (${String(raw)})` };
  }
  return { ok: true, value: raw };
}

function requestCount(metrics: VersionMetrics | null): number | null {
  const raw: unknown = metrics?.request_count;
  return typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw : null;
}

/** Why the canary's traffic is too short for any verdict, or null when it is enough. */
function shortOfData(
  canary: VersionMetrics | null,
  requests: number | null,
  minRequests: number,
): string | null {
  if (canary === null) return 'no data: no canary metrics for the window';
  if (requests === null) return minRequests > 0 ? 'no data: canary request count unknown' : null;
  if (requests < minRequests) return `no data: ${requests}/${minRequests} canary requests in window`;
  return null;
}

function configured<T>(rules: Partial<Record<JudgedMetric, T>>): [JudgedMetric, T][] {
  return JUDGED_METRICS.flatMap((m) => (rules[m] === undefined ? [] : [[m, rules[m] as T]]));
}

/**
 * Paired values of a metric for the tests with significance on: the current window and, going
 * back, each earlier window of the stage that ends before the last one taken starts
 * (overlapping windows would count the same traffic twice). Every window with canary traffic
 * pairs: min_requests counts the stage's pool, not each window.
 */
function pairedWindows(input: EvaluateInput, metric: JudgedMetric): { canary: number; baseline: number }[] {
  const current = {
    canary: input.canary,
    baseline: input.baseline,
    windowStart: input.windowStart,
    windowEnd: input.windowEnd,
  };
  const chosen = [current];
  let earliest = input.windowStart;
  for (const past of [...(input.history ?? [])].reverse()) {
    if (past.windowEnd > earliest || past.windowStart >= past.windowEnd) continue;
    const requests = requestCount(past.canary);
    if (requests === null || requests < 1) continue;
    chosen.push(past);
    earliest = past.windowStart;
  }
  const pairs: { canary: number; baseline: number }[] = [];
  for (const w of chosen) {
    const c = read(w.canary, metric);
    const b = read(w.baseline, metric);
    if (c.ok && b.ok) pairs.push({ canary: c.value, baseline: b.value });
  }
  return pairs;
}

export function evaluate(input: EvaluateInput): Evaluation {
  if (input.config.significance && input.pool && input.stage)
    return sequentialLook(input, input.pool, input.stage);
  return fixedLook(input);
}

/** Significance on: the look is judged on the stage so far (./sequential-evaluate.ts). */
function sequentialLook(
  input: EvaluateInput,
  pool: NonNullable<EvaluateInput['pool']>,
  stage: NonNullable<EvaluateInput['stage']>,
): Evaluation {
  const previous = input.history?.[input.history.length - 1]?.error_control;
  return evaluateSequential({
    canary: input.canary,
    baseline: input.baseline,
    pool,
    windows: (metric) => pairedWindows(input, metric),
    config: input.config,
    bakeFraction: stage.bakeFraction,
    budget: stage.budget,
    spending: previous
      ? { spentFraction: previous.spent_fraction, extraLooks: previous.extra_looks }
      : undefined,
    at: input.at,
    windowStart: input.windowStart,
    windowEnd: input.windowEnd,
  });
}

/** Significance off: each check compares the window's observed values. */
function fixedLook(input: EvaluateInput): Evaluation {
  const { canary, baseline, config } = input;
  const canaryRequests = requestCount(canary);
  const short = shortOfData(canary, canaryRequests, config.minRequests);
  const checks: CheckResult[] = [];
  for (const [metric, rule] of configured(config.thresholds)) {
    checks.push(fixedThreshold(input, metric, rule.max, short));
  }
  for (const [metric, rule] of configured(config.baselineComparison)) {
    // A rule with neither bound constrains nothing; the plan validator should not let one through.
    if (rule.max_increase === undefined && rule.max_ratio === undefined) continue;
    checks.push(fixedComparison(input, metric, rule, short));
  }

  let verdict: CheckStatus = 'pass';
  if (checks.some((c) => c.status === 'fail')) verdict = 'fail';
  else if (checks.some((c) => c.status === 'hold')) verdict = 'hold';
  else if (short !== null || checks.some((c) => c.status === 'no_data')) verdict = 'no_data';

  return {
    at: input.at,
    windowStart: input.windowStart,
    windowEnd: input.windowEnd,
    canary,
    baseline,
    canaryRequests,
    minRequests: config.minRequests,
    checks,
    verdict,
  };
}

/** A threshold on the window's canary value; `hold` when the baseline breaches it too. */
function fixedThreshold(
  input: EvaluateInput,
  metric: JudgedMetric,
  max: number,
  short: string | null,
): CheckResult {
  const { canary, baseline } = input;
  const id = `${metric}.max`;
  const c = read(canary, metric);
  const value = c.ok ? c.value : null;
  if (short !== null || !c.ok) {
    const reason = short ?? `no data: canary ${(c as { why: string }).why}`;
    return { id, metric, kind: 'threshold', status: 'no_data', value, bound: max, reason };
  }
  const ok = withinBound(c.value, max);
  // The baseline's value in the same window, shown beside the canary's; when it breaches
  // too, both versions are degraded (a shared incident) and the canary is not to blame.
  const b = baseline === null ? null : read(baseline, metric);
  const baseValue = b?.ok ? b.value : null;
  const fmt = (v: number) => formatMetric(metric, v);
  const shared = !ok && baseValue !== null && !withinBound(baseValue, max);
  const baseText = baseValue === null ? '' : ` (baseline ${fmt(baseValue)})`;
  return {
    id,
    metric,
    kind: 'threshold',
    status: shared ? 'hold' : ok ? 'pass' : 'fail',
    value: c.value,
    baseline: baseValue,
    bound: max,
    reason: shared
      ? `both versions degraded (shared incident): ${metricLabel(metric)} canary ${fmt(c.value)}, baseline ${fmt(baseValue ?? 0)}, both > max ${fmt(max)}`
      : `${metricLabel(metric)} ${fmt(c.value)} ${ok ? '≤' : '>'} max ${fmt(max)}${baseText}`,
  };
}

/** A comparison of the window's observed values (./compare.ts), once both sides have data. */
function fixedComparison(
  input: EvaluateInput,
  metric: JudgedMetric,
  rule: ComparisonRule,
  short: string | null,
): CheckResult {
  const { canary, baseline, config } = input;
  const baselineRequests = requestCount(baseline);
  const c = read(canary, metric);
  const b = read(baseline, metric);
  const base = {
    id: `${metric}.vs_baseline`,
    metric,
    kind: 'comparison' as const,
    value: c.ok ? c.value : null,
    baseline: b.ok ? b.value : null,
  };
  let noData: string | null = short;
  if (noData === null && !c.ok) noData = `no data: canary ${c.why}`;
  if (noData === null && baseline === null) noData = 'no data: no baseline metrics for the window';
  if (noData === null && baselineRequests !== null && baselineRequests < config.minRequests) {
    // A baseline on a trickle of traffic is as noisy as a canary on one.
    noData = `no data: ${baselineRequests}/${config.minRequests} baseline requests in window`;
  }
  if (noData === null && !b.ok) noData = `no data: baseline ${b.why}`;
  if (noData !== null || !c.ok || !b.ok) {
    return { ...base, status: 'no_data', bound: null, reason: noData ?? 'no data' };
  }
  const outcome = compareToBaseline({
    metric,
    rule,
    canary: { value: c.value, requests: requestCount(canary) },
    baseline: { value: b.value, requests: baselineRequests },
  });
  return { ...base, status: outcome.status, bound: outcome.bound, reason: outcome.reason };
}

/** The checks that decided a verdict, as one line: the failures, else what lacked data. */
export function verdictReason(evaluation: Evaluation): string {
  const deciding = evaluation.checks.filter((c) => c.status === evaluation.verdict);
  if (deciding.length > 0) return deciding.map((c) => c.reason).join('; ');
  if (evaluation.verdict === 'no_data') {
    if (evaluation.waiting_for) return `no data: ${evaluation.waiting_for}`;
    return shortOfData(evaluation.canary, evaluation.canaryRequests, evaluation.minRequests) ?? 'no data';
  }
  return 'all checks passed';
}
