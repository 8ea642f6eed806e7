/**
 * The comparisons with the baseline of a sequential look (`baseline_comparison.<metric>`): the
 * error rate by a conditional binomial test on the stage's pooled counts, latency and cost by
 * a paired t-test over the stage's non-overlapping windows.
 */
import type { JudgedMetric } from '../domain/metrics.js';
import type { ComparisonRule } from '../domain/plan.js';
import { formatAlpha, formatDelta, formatMetric, formatP, formatRatio, metricLabel } from '../format.js';
import { ZERO_BASELINE_ALLOWANCE } from './compare.js';
import { increasePValue, pairedTPValue, ratioPValue } from './exact-tests.js';
import { type Counts, type Look, num } from './sequential-look.js';
import type { CheckResult } from './types.js';

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
function errorComparisonP(rule: ComparisonRule, canary: Counts, baseline: Counts): number {
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

/**
 * A comparison with the baseline (`baseline_comparison.<metric>`): the error rate on the
 * stage's pooled counts, latency and cost paired over its windows.
 */
export function comparisonCheck(look: Look, metric: JudgedMetric, rule: ComparisonRule): CheckResult {
  const { poolCanary, poolBaseline } = look;
  const label = metricLabel(metric);
  const base = { id: `${metric}.vs_baseline`, metric, kind: 'comparison' as const };
  const noData = (why: string | null): CheckResult => ({
    ...base,
    status: 'no_data',
    value: null,
    baseline: null,
    bound: null,
    reason: `no data: ${why}`,
  });
  if (look.short !== null || !poolCanary || !poolBaseline) return noData(look.short);
  if (metric === 'error_rate') return { ...base, ...errorComparison(look, rule, poolCanary, poolBaseline) };
  const pairs = look.input.windows(metric);
  const needed = Math.max(3, look.significance.minWindows);
  if (pairs.length < needed) {
    const why = `${label}: ${pairs.length} of the ${needed} non-overlapping windows the paired test needs`;
    look.waiting.push(why);
    return noData(why);
  }
  return { ...base, ...pairedComparison(look, metric, rule, pairs) };
}

type ComparisonVerdict = Pick<
  CheckResult,
  'status' | 'value' | 'baseline' | 'bound' | 'pValue' | 'alpha' | 'confidence' | 'test' | 'reason'
>;

/** The error-rate comparison: a conditional binomial test on the stage's pooled counts. */
function errorComparison(
  look: Look,
  rule: ComparisonRule,
  canary: Counts,
  baseline: Counts,
): ComparisonVerdict {
  const metric = 'error_rate';
  const fmt = (v: number) => formatMetric(metric, v);
  const value = canary.requests > 0 ? canary.errors / canary.requests : 0;
  const baseValue = baseline.requests > 0 ? baseline.errors / baseline.requests : 0;
  const bound = comparisonBound(metric, rule, baseValue);
  const pValue = errorComparisonP(rule, canary, baseline);
  const data =
    `${metricLabel(metric)} ${fmt(value)} (${canary.errors}/${canary.requests}) vs baseline ${fmt(baseValue)} ` +
    `(${baseline.errors}/${baseline.requests}) over the stage; bound ${ruleText(metric, rule)} = ${fmt(bound)}`;
  const test = 'conditional binomial over the stage';
  return verdictOfTest(look, { value, baseline: baseValue, bound, pValue, test }, (fail) => {
    return `${data}: ${fail ? 'above the bound' : 'not above the bound'} beyond noise? ${fail ? 'yes' : 'no'} (${formatP(pValue)} ${fail ? '<' : '≥'} ${formatAlpha(look.alpha)})`;
  });
}

/** A latency or cost comparison: a paired t-test over the stage's non-overlapping windows. */
function pairedComparison(
  look: Look,
  metric: JudgedMetric,
  rule: ComparisonRule,
  pairs: { canary: number; baseline: number }[],
): ComparisonVerdict {
  const { input } = look;
  const fmt = (v: number) => formatMetric(metric, v);
  const pValue = pairedP(metric, rule, pairs);
  const value = num(input.pool.canary, metric) ?? pairs[0]?.canary ?? 0;
  const baseValue = num(input.pool.baseline, metric) ?? pairs[0]?.baseline ?? 0;
  const bound = comparisonBound(metric, rule, baseValue);
  const test = `paired t over ${pairs.length} windows`;
  return verdictOfTest(look, { value, baseline: baseValue, bound, pValue, test }, (fail) => {
    return (
      `${metricLabel(metric)} ${fmt(value)} vs baseline ${fmt(baseValue)} over the stage; bound ${ruleText(metric, rule)} = ${fmt(bound)}; ` +
      `paired over ${pairs.length} windows: ${fail ? 'above the bound beyond noise' : 'not above the bound beyond noise'} ` +
      `(${formatP(pValue)} ${fail ? '<' : '≥'} ${formatAlpha(look.alpha)})`
    );
  });
}

/** A comparison's test spends the look's alpha; it fails when its p-value is below it. */
function verdictOfTest(
  look: Look,
  result: { value: number; baseline: number; bound: number; pValue: number; test: string },
  reason: (fail: boolean) => string,
): ComparisonVerdict {
  look.tested = true;
  const fail = result.pValue < look.alpha;
  return {
    status: fail ? 'fail' : 'pass',
    value: result.value,
    baseline: result.baseline,
    bound: result.bound,
    pValue: result.pValue,
    alpha: look.alpha,
    confidence: look.significance.confidence,
    test: result.test,
    reason: reason(fail),
  };
}
