/**
 * Canary-versus-baseline comparison for one metric by observed values: the analysis with
 * significance off. With significance on, ./sequential-evaluate.ts judges instead, holding the
 * canary to the same bounds (withinBound, ZERO_BASELINE_ALLOWANCE) with a test per stage.
 */

import type { JudgedMetric } from '../domain/metrics.js';
import type { ComparisonRule } from '../domain/plan.js';
import { formatDelta, formatMetric, formatRatio, metricLabel } from '../format.js';

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
