/**
 * User-defined metrics under the sequential analysis (significance on). Pure.
 *
 * A custom metric comes as one number per version and window (a PromQL value, a score API's
 * mean), without per-request counts, so the conditional binomial test of the error rate cannot
 * apply. What can apply does, the same way as for the built-in latency and cost:
 *
 * - A comparison (`max_ratio`, `min_ratio`, `max_increase`, `max_decrease`) is a paired t-test
 *   over the stage's non-overlapping windows of canary and baseline values (log ratios when
 *   every value is positive, else differences), at the alpha this look was given by the stage's
 *   spending (src/analysis/sequential.ts). Its tests are counted in the rollout's error budget,
 *   so the confidence per stage and per rollout covers them too.
 * - An absolute bound (`min`, `max`) passes while the window's value is within it. Past it:
 *   when the baseline is past the same bound in the same window, or the canary is within the
 *   metric's own margin of the baseline, both versions are degraded: the check is `hold`
 *   (shared incident), as for the built-in thresholds; else the breach is held against the
 *   metric's own noise over the stage's windows (./bound-test.ts), a test in the budget too.
 * - No data is as without significance: the metric's `min_requests` per window, a missing value.
 */

import { pairedTPValue } from '../analysis/exact-tests.js';
import type { CustomCheck, Evaluation } from '../analysis/types.js';
import type { CustomMetricConfig, RuleKey } from '../domain/plan.js';
import { formatAlpha, formatP } from '../format.js';
import { boundTest } from './bound-test.js';
import { type CustomJudgeInput, type JudgedRule, rulesWithData, show } from './judge.js';

const RELATIVE: readonly RuleKey[] = ['max_ratio', 'min_ratio', 'max_increase', 'max_decrease'];
const isUpper = (rule: RuleKey) => rule === 'max' || rule === 'max_ratio' || rule === 'max_increase';

/** The bound a relative rule sets at a baseline value. */
export function relativeBound(rule: RuleKey, limit: number, baseline: number): number {
  switch (rule) {
    case 'max_ratio':
    case 'min_ratio':
      return baseline * limit;
    case 'max_increase':
      return baseline + limit;
    case 'max_decrease':
      return baseline - limit;
    default:
      return limit;
  }
}

function ruleWords(rule: RuleKey, limit: number, baseline: number): string {
  const bound = show(relativeBound(rule, limit, baseline));
  if (rule === 'max_ratio' || rule === 'min_ratio') return `${limit}× baseline ${show(baseline)} = ${bound}`;
  if (rule === 'max_increase') return `baseline ${show(baseline)} + ${show(limit)} = ${bound}`;
  return `baseline ${show(baseline)} − ${show(limit)} = ${bound}`;
}

/**
 * Differences whose mean is above 0 when the canary is beyond the rule: log ratios to the
 * bound when every value is positive (a slowdown is multiplicative, and the upstream's swings
 * cancel), else plain differences to it.
 */
export function pairedDifferences(
  rule: RuleKey,
  limit: number,
  pairs: readonly { canary: number; baseline: number }[],
): { d: number[]; scale: 'log ratio' | 'difference' } {
  const ratio = rule === 'max_ratio' || rule === 'min_ratio';
  const positive = pairs.every((p) => p.canary > 0 && p.baseline > 0) && limit > 0;
  if (ratio && positive) {
    const d = pairs.map((p) => Math.log(p.canary / (p.baseline * limit)));
    return { d: rule === 'max_ratio' ? d : d.map((x) => -x), scale: 'log ratio' };
  }
  const d = pairs.map((p) => p.canary - relativeBound(rule, limit, p.baseline));
  return { d: isUpper(rule) ? d : d.map((x) => -x), scale: 'difference' };
}

/**
 * This metric's canary and baseline values over the current window and, going back, each
 * earlier window of the stage that ends before the last one taken starts and had the metric's
 * `min_requests` of canary traffic (the windows the metric would have judged). With
 * `canaryOnly`, windows without a baseline value count too (baseline then NaN).
 */
export function customPairs(
  metric: CustomMetricConfig,
  current: { canary: number; baseline: number; windowStart: number },
  history: readonly Evaluation[],
  canaryOnly = false,
): { canary: number; baseline: number }[] {
  const pairs = [{ canary: current.canary, baseline: current.baseline }];
  let earliest = current.windowStart;
  for (const past of [...history].reverse()) {
    if (past.windowEnd > earliest || past.windowStart >= past.windowEnd) continue;
    if ((past.canaryRequests ?? 0) < metric.minRequests) continue;
    const check = past.custom?.find((c) => c.metric === metric.name);
    if (!check || check.value === null || !Number.isFinite(check.value)) continue;
    const baseline = check.baseline ?? Number.NaN;
    if (!canaryOnly && !Number.isFinite(baseline)) continue;
    pairs.push({ canary: check.value, baseline });
    earliest = past.windowStart;
  }
  return pairs;
}

export interface CustomSequentialInput extends Omit<CustomJudgeInput, 'significance'> {
  /** Earlier evaluations of this stage, oldest first. */
  history: readonly Evaluation[];
  windowStart: number;
  /** The alpha each test may use at this look (the stage's spending, shared with the built-in tests). */
  alpha: number;
  confidence: number;
  /** Windows a paired test needs (significance.min_windows, at least 3). */
  minWindows: number;
}

/** The checks, and whether a counted (non-dry-run) test was run at this look (it spends alpha). */
export function judgeCustomSequential(input: CustomSequentialInput): {
  checks: CustomCheck[];
  tested: boolean;
} {
  const checks: CustomCheck[] = [];
  let tested = false;
  for (const judged of rulesWithData(input, checks)) {
    const { check, testRun } = judged.relative ? relativeCheck(input, judged) : boundCheck(input, judged);
    checks.push(check);
    if (testRun && !judged.metric.dryRun) tested = true;
  }
  return { checks, tested };
}

/** One rule's check, and whether a test was run for it. */
interface Judgement {
  check: CustomCheck;
  testRun: boolean;
}

/**
 * An absolute bound (`min`, `max`): within it passes; past it, `hold` when the baseline is
 * degraded too, else the breach is held against the metric's own noise.
 */
function boundCheck(input: CustomSequentialInput, judged: JudgedRule): Judgement {
  const { metric, rule, limit, canary, baseline, base, tag } = judged;
  const upper = isUpper(rule);
  const pass = upper ? canary <= limit : canary >= limit;
  const words = `${upper ? 'max' : 'min'} ${show(limit)}`;
  const beside = baseline === null ? '' : ` (baseline ${show(baseline)})`;
  if (pass) {
    const reason = `${metric.name} ${show(canary)} ${upper ? '≤' : '≥'} ${words}${beside} in the window${tag}`;
    return { check: { ...base, status: 'pass', bound: limit, reason }, testRun: false };
  }
  if (baselineDegraded(judged, upper)) {
    return {
      check: {
        ...base,
        status: 'hold',
        bound: limit,
        reason: `both versions degraded (shared incident): ${metric.name} canary ${show(canary)} ${upper ? '>' : '<'} ${words}, baseline ${show(baseline as number)} in the window; the canary is no worse than the baseline${tag}`,
      },
      testRun: false,
    };
  }
  return beyondNoise(
    input,
    judged,
    upper,
    `${metric.name} ${show(canary)} ${upper ? '>' : '<'} ${words}${beside}`,
  );
}

/** Degraded too: past the same bound, or the canary within the metric's own margin of it. */
function baselineDegraded({ metric, limit, canary, baseline }: JudgedRule, upper: boolean): boolean {
  const bv = baseline;
  const margins = RELATIVE.filter((r) => isUpper(r) === upper && metric.rule[r] !== undefined);
  return (
    bv !== null &&
    ((upper ? bv > limit : bv < limit) ||
      margins.some((r) => {
        const bound = relativeBound(r, metric.rule[r] as number, bv);
        return upper ? canary <= bound : canary >= bound;
      }))
  );
}

/** Past the bound in this window: beyond the metric's own noise? (./bound-test.ts) */
function beyondNoise(
  input: CustomSequentialInput,
  { metric, limit, canary, baseline, base, tag }: JudgedRule,
  upper: boolean,
  past: string,
): Judgement {
  const values = customPairs(
    metric,
    { canary: canary, baseline: baseline ?? Number.NaN, windowStart: input.windowStart },
    input.history,
    true,
  ).map((p) => p.canary);
  const needed = Math.max(3, input.minWindows);
  if (values.length < needed) {
    return {
      check: {
        ...base,
        status: 'no_data',
        bound: limit,
        reason: `${past} in the window; ${values.length} of the ${needed} non-overlapping windows needed to tell it from the metric's noise${tag}`,
      },
      testRun: false,
    };
  }
  const test = boundTest(values, limit, upper, input.alpha);
  const p = Math.min(test.windowP, test.meanP);
  return {
    check: {
      ...base,
      status: test.fail ? 'fail' : 'pass',
      bound: limit,
      p_value: p,
      alpha: input.alpha / 2,
      confidence: input.confidence,
      test: `t against the spread of ${values.length} windows (${test.windowP <= test.meanP ? 'this window' : 'the stage mean'})`,
      reason:
        `${past} in the window; against its spread over ${values.length} windows: ` +
        `${test.fail ? 'beyond noise' : 'not beyond noise'} (${formatP(p)} ${test.fail ? '<' : '≥'} ${formatAlpha(input.alpha / 2)})${tag}`,
    },
    testRun: true,
  };
}

/** A comparison with the baseline: a paired t-test over the stage's non-overlapping windows. */
function relativeCheck(input: CustomSequentialInput, judged: JudgedRule): Judgement {
  const { metric, rule, limit, canary, base, tag } = judged;
  const upper = isUpper(rule);
  const bv = judged.baseline as number;
  const bound = relativeBound(rule, limit, bv);
  const pairs = customPairs(
    metric,
    { canary: canary, baseline: bv, windowStart: input.windowStart },
    input.history,
  );
  const needed = Math.max(3, input.minWindows);
  if (pairs.length < needed) {
    return {
      check: {
        ...base,
        status: 'no_data',
        bound,
        reason: `${metric.name} ${show(canary)} vs ${ruleWords(rule, limit, bv)} in the window; ${pairs.length} of the ${needed} non-overlapping windows the paired test needs${tag}`,
      },
      testRun: false,
    };
  }
  const { d, scale } = pairedDifferences(rule, limit, pairs);
  const { pValue } = pairedTPValue(d);
  const fail = pValue < input.alpha;
  return {
    check: {
      ...base,
      status: fail ? 'fail' : 'pass',
      bound,
      p_value: pValue,
      alpha: input.alpha,
      confidence: input.confidence,
      test: `paired t over ${pairs.length} windows (${scale})`,
      reason:
        `${metric.name} ${show(canary)} vs ${ruleWords(rule, limit, bv)} in the window; paired over ${pairs.length} windows: ` +
        `${fail ? (upper ? 'above' : 'below') : upper ? 'not above' : 'not below'} the bound beyond noise ` +
        `(${formatP(pValue)} ${fail ? '<' : '≥'} ${formatAlpha(input.alpha)})${tag}`,
    },
    testRun: true,
  };
}
