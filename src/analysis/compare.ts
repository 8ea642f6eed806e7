/**
 * Canary-versus-baseline comparison for one metric. It lives on its own so a statistical
 * test (is the difference significant given the request counts?) can replace or refine
 * the plain bound without touching how checks are assembled: the inputs already carry the
 * request counts such a test needs.
 */
import type { ComparisonRule, JudgedMetric, SignificanceConfig } from '../plan/types.js';
import { formatDelta, formatMetric, formatRatio, metricLabel } from './format.js';
import { boundOf, proportionExcessTest, seriesExcessTest } from './significance.js';

export interface ComparisonSide {
  /** A finite, non-negative value (callers turn anything else into "no data" first). */
  value: number;
  requests: number | null;
}

export interface ComparisonInput {
  metric: JudgedMetric;
  rule: ComparisonRule;
  canary: ComparisonSide;
  baseline: ComparisonSide;
}

export interface ComparisonOutcome {
  status: 'pass' | 'fail';
  /** The tightest bound the canary was held against. */
  bound: number;
  reason: string;
}

/**
 * A ratio against a baseline of exactly 0 is undefined, and `0 × r = 0` would fail a canary
 * for a single stray error or a rounding artefact. When the baseline is 0 the ratio bound
 * becomes this small absolute allowance instead: a canary that is also (practically) 0
 * passes, any real value fails. For rates that are often 0 on the baseline, plans should
 * prefer `max_increase`, which has no such edge.
 */
export const ZERO_BASELINE_ALLOWANCE: Record<JudgedMetric, number> = {
  error_rate: 0.0001,
  latency_p50_ms: 1,
  latency_p99_ms: 1,
  cost_per_token: 1e-9,
};

/**
 * `value ≤ bound`, forgiving only floating-point noise (e.g. 0.035 − 0.025 > 0.01), so a
 * value exactly on the bound passes, as the plan's "at most" says.
 */
export function withinBound(value: number, bound: number): boolean {
  return value <= bound + Math.abs(bound) * 1e-9;
}

interface Part {
  ok: boolean;
  bound: number;
  /** The right-hand side of the comparison, e.g. `1.25 × baseline 2100 ms = 2625 ms`. */
  text: string;
}

export function compareToBaseline(input: ComparisonInput): ComparisonOutcome {
  const { metric, rule } = input;
  const canary = input.canary.value;
  const baseline = input.baseline.value;
  const fmt = (v: number) => formatMetric(metric, v);
  const parts: Part[] = [];

  if (rule.max_ratio !== undefined) {
    if (baseline === 0) {
      const bound = ZERO_BASELINE_ALLOWANCE[metric];
      parts.push({
        ok: withinBound(canary, bound),
        bound,
        text: `${formatRatio(rule.max_ratio)} × baseline ${fmt(0)} (ratio undefined at 0; allowing ${fmt(bound)})`,
      });
    } else {
      const bound = baseline * rule.max_ratio;
      parts.push({
        ok: withinBound(canary, bound),
        bound,
        text: `${formatRatio(rule.max_ratio)} × baseline ${fmt(baseline)} = ${fmt(bound)}`,
      });
    }
  }
  if (rule.max_increase !== undefined) {
    // Compared as canary ≤ baseline + x (not canary − baseline ≤ x) so the bound is a value
    // people can read next to the canary's.
    const bound = baseline + rule.max_increase;
    parts.push({
      ok: withinBound(canary, bound),
      bound,
      text: `baseline ${fmt(baseline)} + ${formatDelta(metric, rule.max_increase)} = ${fmt(bound)}`,
    });
  }

  const failed = parts.filter((p) => !p.ok);
  const status = failed.length > 0 ? 'fail' : 'pass';
  const bound = Math.min(...parts.map((p) => p.bound));
  const shown = status === 'fail' ? failed : parts;
  const reason = `${metricLabel(metric)} ${fmt(canary)} ${shown
    .map((p) => `${p.ok ? '≤' : '>'} ${p.text}`)
    .join(' and ')}`;
  return { status, bound, reason };
}

/** One non-overlapping window's values of a metric on both sides, with the counts behind them. */
export interface WindowSample {
  canary: number;
  baseline: number;
  canaryRequests: number | null;
  baselineRequests: number | null;
  /** Error counts (error rate only): from the relay, else rate × requests. */
  canaryErrors?: number | null;
  baselineErrors?: number | null;
}

export interface SignificantComparisonInput {
  metric: JudgedMetric;
  rule: ComparisonRule;
  /** The current window first, then earlier non-overlapping windows of the same stage. */
  windows: WindowSample[];
  significance: SignificanceConfig;
}

export interface SignificantOutcome {
  status: 'pass' | 'fail' | 'no_data';
  /** What the test compared: pooled rates, or the means of the window series. */
  value: number;
  baseline: number;
  bound: number;
  pValue: number | null;
  test: string;
  reason: string;
}

function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${Number(p.toPrecision(2))}`;
}

function formatConfidence(confidence: number): string {
  return `${Number((confidence * 100).toPrecision(4))}%`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The bound in words against a baseline value: `baseline 1.02% + 1.00 pp = 2.02%`. */
function boundText(metric: JudgedMetric, rule: ComparisonRule, baseline: number, what: string): string {
  const fmt = (v: number) => formatMetric(metric, v);
  const parts: string[] = [];
  if (rule.max_ratio !== undefined) parts.push(`${formatRatio(rule.max_ratio)} × ${what} ${fmt(baseline)}`);
  if (rule.max_increase !== undefined) {
    parts.push(`${what} ${fmt(baseline)} + ${formatDelta(metric, rule.max_increase)}`);
  }
  return `${parts.join(' and ')} = ${fmt(boundOf(baseline, { increase: rule.max_increase, ratio: rule.max_ratio }))}`;
}

/**
 * The comparison with a significance test: fails only when the canary is worse than the bound
 * beyond the noise, and says "no data" while there is too little to tell. Error rates pool the
 * windows' counts; other metrics compare the windows' values as two series.
 */
export function compareWithSignificance(input: SignificantComparisonInput): SignificantOutcome {
  const { metric, rule, significance } = input;
  const margin = { increase: rule.max_increase, ratio: rule.max_ratio };
  const fmt = (v: number) => formatMetric(metric, v);
  const label = metricLabel(metric);
  const level = formatConfidence(significance.confidence);

  if (metric === 'error_rate') {
    const counted = input.windows.filter(
      (w) =>
        w.canaryRequests !== null &&
        w.baselineRequests !== null &&
        w.canaryErrors != null &&
        w.baselineErrors != null,
    );
    const sum = (f: (w: WindowSample) => number) => counted.reduce((a, w) => a + f(w), 0);
    const canary = { errors: sum((w) => w.canaryErrors ?? 0), requests: sum((w) => w.canaryRequests ?? 0) };
    const baseline = {
      errors: sum((w) => w.baselineErrors ?? 0),
      requests: sum((w) => w.baselineRequests ?? 0),
    };
    const rate = (p: { errors: number; requests: number }) => (p.requests > 0 ? p.errors / p.requests : 0);
    const value = rate(canary);
    const baseValue = rate(baseline);
    const bound = boundOf(baseValue, margin);
    const test = `two-proportion z over ${plural(counted.length, 'window')}`;
    const data =
      `${label} ${fmt(value)} (${canary.errors}/${canary.requests}) vs ` +
      `${boundText(metric, rule, baseValue, 'baseline')} (${baseline.errors}/${baseline.requests}) over ${plural(counted.length, 'window')}`;
    const result = proportionExcessTest(canary, baseline, margin, significance.confidence);
    const common = { value, baseline: baseValue, bound, pValue: result.pValue, test };
    if (result.status === 'no_data') {
      const why =
        result.se === null || result.neededSe === null
          ? result.shortfall
          : `too few errors and requests to tell a canary one margin above the bound from noise at ${level} ` +
            `(standard error ${formatDelta(metric, result.se)}, needs ≤ ${formatDelta(metric, result.neededSe)})`;
      return { ...common, status: 'no_data', reason: `no data: ${data}: ${why}` };
    }
    const verdict =
      result.status === 'fail'
        ? `above the bound at ${level} confidence`
        : `not above the bound beyond noise at ${level} confidence`;
    return {
      ...common,
      status: result.status,
      reason: `${data}: ${verdict} (${formatP(result.pValue ?? 1)})`,
    };
  }

  const canarySeries = input.windows.map((w) => w.canary);
  const baselineSeries = input.windows.map((w) => w.baseline);
  const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const value = mean(canarySeries);
  const baseValue = mean(baselineSeries);
  const result = seriesExcessTest(
    canarySeries,
    baselineSeries,
    margin,
    significance.confidence,
    significance.minWindows,
  );
  const bound = mean(baselineSeries.map((b) => boundOf(b, margin)));
  const test = `permutation over ${plural(result.windows, 'window')}`;
  const common = { value, baseline: baseValue, bound, pValue: result.pValue, test };
  if (result.status === 'no_data') {
    return {
      ...common,
      status: 'no_data',
      reason:
        `no data: ${label} has ${result.windows} of the ${result.needed} non-overlapping windows in this stage ` +
        `a test at ${level} confidence needs`,
    };
  }
  const data = `${label} mean ${fmt(value)} vs ${boundText(metric, rule, baseValue, 'baseline mean')} over ${plural(result.windows, 'window')}`;
  const verdict =
    result.status === 'fail'
      ? `above the bound at ${level} confidence`
      : `not above the bound beyond noise at ${level} confidence`;
  return { ...common, status: result.status, reason: `${data}: ${verdict} (${formatP(result.pValue ?? 1)})` };
}
