/**
 * How metric values read in check reasons. Kept apart from the checks so reporters can
 * print values the same way the reasons do.
 */
import type { JudgedMetric } from '../plan/types.js';

const LABELS: Record<JudgedMetric, string> = {
  error_rate: 'error rate',
  latency_p50_ms: 'p50',
  latency_p99_ms: 'p99',
  cost_per_token: 'cost/token',
};

export function metricLabel(metric: JudgedMetric): string {
  return LABELS[metric];
}

/** Three significant digits without trailing zeros or exponent noise for ordinary magnitudes. */
function significant(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e-6 && abs < 1e15) {
    // toPrecision can answer in exponent form; Number() brings ordinary values back to plain digits.
    return String(Number(value.toPrecision(3)));
  }
  return value.toExponential(2);
}

function milliseconds(value: number): string {
  const abs = Math.abs(value);
  const text = abs >= 100 ? String(Math.round(value)) : String(Number(value.toFixed(abs >= 10 ? 1 : 2)));
  return `${text} ms`;
}

/** A metric value as people read it: `3.10%`, `2410 ms`, `0.0000148`. */
export function formatMetric(metric: JudgedMetric, value: number): string {
  switch (metric) {
    case 'error_rate':
      return `${(value * 100).toFixed(2)}%`;
    case 'latency_p50_ms':
    case 'latency_p99_ms':
      return milliseconds(value);
    case 'cost_per_token':
      return significant(value);
  }
}

/** A difference between two values of a metric: error rates in percentage points. */
export function formatDelta(metric: JudgedMetric, value: number): string {
  switch (metric) {
    case 'error_rate':
      return `${(value * 100).toFixed(2)} pp`;
    case 'latency_p50_ms':
    case 'latency_p99_ms':
      return milliseconds(value);
    case 'cost_per_token':
      return significant(value);
  }
}

/** A confidence (or any share) as a percentage: 0.9967 → `99.67%`. */
export function formatConfidence(share: number): string {
  return `${Number((share * 100).toPrecision(4))}%`;
}

/** A ratio as written in a plan: `1.25`, `1.1`. */
export function formatRatio(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** A test's one-sided p-value, as the reasons show it. */
export function formatP(p: number): string {
  if (p < 0.0001) return 'p < 0.0001';
  return `p = ${Number(p.toPrecision(2))}`;
}

/** The alpha a look's test had to beat. */
export function formatAlpha(alpha: number): string {
  return Number(alpha.toPrecision(2)).toString();
}
