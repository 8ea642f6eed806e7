/**
 * The thresholds of a sequential look (`thresholds.<metric>.max`): in the current window, so a
 * fresh incident shows at once; the error rate by an exact test, so a handful of requests
 * cannot fail it on noise; `hold` when the baseline is degraded the same way.
 */
import type { JudgedMetric } from '../domain/metrics.js';
import { formatAlpha, formatMetric, formatP, metricLabel } from '../format.js';
import { withinBound } from './compare.js';
import { thresholdPValue } from './exact-tests.js';
import { comparisonBound } from './sequential-comparisons.js';
import { type Look, num } from './sequential-look.js';
import type { CheckResult, CheckStatus } from './types.js';

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

/**
 * A threshold (`thresholds.<metric>.max`): judged in the window when it holds enough requests
 * for the metric to be steady, else on the stage once the bake is over.
 */
export function thresholdCheck(look: Look, metric: JudgedMetric, max: number): CheckResult {
  const { input, min, windowCanary } = look;
  const label = metricLabel(metric);
  const base = { id: `${metric}.max`, metric, kind: 'threshold' as const, bound: max };
  if (look.short !== null) {
    return { ...base, status: 'no_data', value: num(input.canary, metric), reason: `no data: ${look.short}` };
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
    return {
      ...base,
      status: 'pass',
      value: sofar,
      baseline: look.comparing ? num(input.pool.baseline, metric) : null,
      reason:
        `${label} ${sofar === null ? 'unknown' : formatMetric(metric, sofar)} over the stage so far; windows of ` +
        `${windowCanary?.requests ?? 0} requests are too few for it (${steady}), so the limit is judged on the stage when the bake is over`,
    };
  }
  const value = num(fromWindow ? input.canary : input.pool.canary, metric);
  if (value === null) {
    return { ...base, status: 'no_data', value: null, reason: `no data: canary ${label} missing` };
  }
  return { ...base, ...thresholdVerdict(look, metric, max, value, fromWindow) };
}

/** A threshold with a value to judge: pass, fail, or hold when the baseline is degraded too. */
function thresholdVerdict(
  look: Look,
  metric: JudgedMetric,
  max: number,
  value: number,
  fromWindow: boolean,
): Pick<CheckResult, 'status' | 'value' | 'baseline' | 'reason' | 'pValue' | 'alpha' | 'test'> {
  const { input, comparing, alpha, windowCanary } = look;
  const label = metricLabel(metric);
  const fmt = (v: number) => formatMetric(metric, v);
  const baseValue = comparing ? num(fromWindow ? input.baseline : input.pool.baseline, metric) : null;
  const where = fromWindow ? 'in the window' : 'over the stage';
  const baseText = baseValue === null ? '' : ` (baseline ${fmt(baseValue)})`;
  let breached = !withinBound(value, max);
  let test = 'observed value';
  let pValue: number | null = null;
  if (metric === 'error_rate' && windowCanary) {
    pValue = thresholdPValue(windowCanary, max);
    breached = breached && pValue < alpha;
    test = `exact binomial over ${windowCanary.requests} requests`;
    look.tested = true;
  }
  // The baseline is degraded too when it breaches the same limit, or when the canary is
  // within the plan's margin of it: then the canary is no worse than the baseline, and the
  // breach is the environment's (a slow upstream), not the canary's.
  const margin = input.config.baselineComparison[metric];
  // Over the stage too: one window of a baseline running at 3 % can read 1.8 % by chance.
  const pooledBase = comparing ? num(input.pool.baseline, metric) : null;
  const baselineBreached =
    baseValue !== null &&
    (!withinBound(baseValue, max) ||
      (pooledBase !== null && !withinBound(pooledBase, max)) ||
      (margin !== undefined && withinBound(value, comparisonBound(metric, margin, baseValue))));
  let status: CheckStatus = 'pass';
  let reason = `${label} ${fmt(value)} ≤ max ${fmt(max)}${baseText} ${where}`;
  // At 100 % there is no baseline to compare with: the one it replaced, over its last stage.
  const reference = comparing ? null : num(input.pool.reference ?? null, metric);
  const referenceBreached =
    reference !== null &&
    (!withinBound(reference, max) ||
      (margin !== undefined && withinBound(value, comparisonBound(metric, margin, reference))));
  if (breached && referenceBreached) {
    reason =
      `${label} ${fmt(value)} > max ${fmt(max)} ${where}, but the baseline was at ${fmt(reference ?? 0)} ` +
      'over its last stage: both versions degraded, the canary no worse than the baseline it replaces';
  } else if (!withinBound(value, max) && baselineBreached && !fromWindow) {
    // Over the stage, both were degraded at some time: the live windows decide holds; the
    // canary is no worse than the baseline, which is what this limit's verdict needs.
    reason =
      `${label} canary ${fmt(value)} > max ${fmt(max)} over the stage, but baseline ${fmt(baseValue ?? 0)}: ` +
      'both versions were degraded (shared incident), the canary no worse than the baseline';
  } else if (breached && baselineBreached) {
    // Hold only on a breach that would otherwise fail: noise in a small window holds nothing.
    status = 'hold';
    reason =
      `both versions degraded (shared incident): ${label} canary ${fmt(value)} > max ${fmt(max)}, ` +
      `baseline ${fmt(baseValue ?? 0)} ${where}; the canary is no worse than the baseline`;
  } else if (breached) {
    status = 'fail';
    reason = `${label} ${fmt(value)} > max ${fmt(max)}${baseText} ${where}${pValue === null ? '' : ` beyond noise (${formatP(pValue)} < ${formatAlpha(alpha)})`}`;
  } else if (!withinBound(value, max)) {
    reason = `${label} ${fmt(value)} > max ${fmt(max)}${baseText} ${where}, but not beyond noise (${formatP(pValue ?? 1)} ≥ ${formatAlpha(alpha)})`;
  }
  return { status, value, baseline: baseValue, reason, pValue, alpha, test };
}
