/**
 * Formatting shared by the tty, plain and status renderers, so the same number reads the same
 * everywhere. Pure and locale-independent: output must be byte-for-byte deterministic.
 */
import { formatConfidence } from '../analysis/format.js';
import type { CheckResult, ErrorControl } from '../analysis/types.js';
import type { JudgedMetric } from '../plan/types.js';
import type { RouteRule } from '../relay/types.js';

export const NO_VALUE = '–';

/** A rate in [0, 1] as a percentage: 0.0041 → `0.41%`. */
export function formatRate(rate: number | null | undefined): string {
  if (rate == null || !Number.isFinite(rate)) return NO_VALUE;
  const pct = rate * 100;
  if (pct === 0) return '0.00%';
  if (Math.abs(pct) < 0.01) return `${trimNumber(pct.toPrecision(2))}%`;
  if (Math.abs(pct) < 10) return `${pct.toFixed(2)}%`;
  return `${pct.toFixed(1)}%`;
}

/** A route weight, already in percent: 25 → `25%`, 12.5 → `12.5%`. */
export function formatWeight(weight: number | null | undefined): string {
  if (weight == null || !Number.isFinite(weight)) return NO_VALUE;
  return `${trimNumber(weight.toFixed(2))}%`;
}

/** Latency: `1820ms` below ten seconds, then `12.3s`. */
export function formatMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return NO_VALUE;
  if (Math.abs(ms) < 10_000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Cost per token in dollars per million tokens: 0.0000148 → `$14.8/Mtok`. */
export function formatCost(costPerToken: number | null | undefined): string {
  if (costPerToken == null || !Number.isFinite(costPerToken)) return NO_VALUE;
  const perMillion = costPerToken * 1_000_000;
  if (perMillion === 0) return '$0/Mtok';
  return `$${trimNumber(perMillion.toPrecision(3))}/Mtok`;
}

/** Cost per token as the raw dollar figure in exponent form, `1.48e-5`, for narrow spaces. */
export function formatCostRaw(costPerToken: number | null | undefined): string {
  if (costPerToken == null || !Number.isFinite(costPerToken)) return NO_VALUE;
  if (costPerToken === 0) return '0';
  return costPerToken.toExponential(2).replace(/\.?0+e/, 'e');
}

export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return NO_VALUE;
  return String(Math.round(n));
}

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * A duration in the plan's own notation, two largest units at most: `1h30m`, `45s`, `2d3h`.
 * Rounded to the second because the core never works finer than that for people.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return NO_VALUE;
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms > 0 && ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000) * 1000;
  if (rest === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (parts.length === 2) break;
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n}${unit}`);
      rest -= n * size;
    } else if (parts.length > 0) {
      // Keep units adjacent: `1h5s` reads as a typo, `1h` is the honest rounding.
      break;
    }
  }
  return parts.join('');
}

/**
 * Error control of a passing look: `confidence 99.67% per stage, 95% per rollout`, and when the
 * plan's `analysis.metrics` share that budget, `(3 of 5 tests a stage are analysis.metrics)`.
 */
export function formatErrorControl(control: ErrorControl): string {
  const custom = control.custom_tests_per_stage ?? 0;
  const share =
    custom > 0 ? ` (${custom} of ${control.tests_per_stage} tests a stage are analysis.metrics)` : '';
  return `confidence ${formatConfidence(control.stage_confidence)} per stage, ${formatConfidence(control.rollout_confidence)} per rollout${share}`;
}

/**
 * What a stage waits for before it can judge: the engine's own words when it says (the paired
 * test's windows, the baseline's traffic), else the canary requests against the minimum.
 */
export function waitingText(
  wait: { needs?: string | undefined; requests: number | null; minRequests: number },
  leftMs: number,
): string {
  const have = wait.requests == null ? 'unknown' : formatCount(wait.requests);
  const what = wait.needs ?? `traffic: ${have}/${formatCount(wait.minRequests)} canary requests`;
  return `waiting for ${what} (deadline in ${formatDuration(Math.max(0, leftMs))})`;
}

/** Elapsed time since the rollout started, for log prefixes: `+04:05`, `+1:02:03`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `+${h}:${mm}:${ss}` : `+${mm}:${ss}`;
}

/** Local wall-clock time of day, `14:03:07`. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return String(epochMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function formatIso(epochMs: number): string {
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? String(epochMs) : d.toISOString();
}

/** `toPrecision`/`toFixed` output without trailing zeros: `2.50` → `2.5`, `3.00` → `3`. */
function trimNumber(text: string): string {
  if (text.includes('e')) return text;
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

const METRIC_LABELS: Record<JudgedMetric, string> = {
  error_rate: 'error_rate',
  latency_p50_ms: 'p50',
  latency_p99_ms: 'p99',
  cost_per_token: 'cost',
};

export function metricLabel(metric: JudgedMetric): string {
  return METRIC_LABELS[metric] ?? metric;
}

export function formatMetric(metric: JudgedMetric, value: number | null | undefined): string {
  switch (metric) {
    case 'error_rate':
      return formatRate(value);
    case 'latency_p50_ms':
    case 'latency_p99_ms':
      return formatMs(value);
    case 'cost_per_token':
      return formatCost(value);
    default:
      return value == null ? NO_VALUE : String(value);
  }
}

/**
 * What a significance test adds to a check: the p-value against the level it had to beat, or
 * why it could not run. Without it a pass of `3.2% vs 3.06%` would read as a lie.
 */
function significanceNote(check: CheckResult): string {
  if (check.alpha !== undefined && check.pValue != null) {
    // Error control per stage: the p-value is held to this look's share of the budget.
    const alpha = Number(check.alpha.toPrecision(2));
    if (check.pValue < 0.0001) return ` p < 0.0001${check.status === 'fail' ? ` < ${alpha}` : ''}`;
    return ` p ${Number(check.pValue.toPrecision(2))} ${check.status === 'fail' ? '<' : '≥'} ${alpha}`;
  }
  if (check.confidence === undefined) return '';
  const alpha = Number((1 - check.confidence).toPrecision(6));
  if (check.pValue == null) {
    return ` (${check.test ?? 'test'}: too little for ${formatConfidence(check.confidence)} confidence)`;
  }
  if (check.pValue < 0.001) return ' p < 0.001';
  return ` p ${Number(check.pValue.toPrecision(2))} ${check.status === 'fail' ? '<' : '≥'} ${alpha}`;
}

/**
 * One check as a person reads it, with the values that decided it:
 * `error_rate 0.41% ≤ 2.00%`, `error_rate 9.10% > max 2.00%`, `p99 3100ms > 2520ms (baseline 2100ms)`.
 */
export function describeCheck(check: CheckResult): string {
  const label = metricLabel(check.metric);
  if (check.status === 'no_data' || check.value == null) return `${label} no data${significanceNote(check)}`;
  const value = formatMetric(check.metric, check.value);
  // Every verdict shows the baseline's value beside the canary's, thresholds too.
  const baseline = check.baseline != null ? ` (baseline ${formatMetric(check.metric, check.baseline)})` : '';
  if (check.status === 'hold') {
    const bound = check.bound != null ? formatMetric(check.metric, check.bound) : '?';
    return `${label} ${value}${baseline} both > max ${bound}: shared incident`;
  }
  if (check.bound == null) {
    // Without a bound the analysis's own sentence is the only faithful account.
    return check.status === 'fail' ? `${label} ${value}: ${check.reason}` : `${label} ${value}${baseline}`;
  }
  const bound = formatMetric(check.metric, check.bound);
  if (check.confidence !== undefined) {
    // A test can pass a value above the bound (within noise): say "vs", not "≤".
    const relation = check.status === 'fail' ? '>' : 'vs';
    return `${label} ${value} ${relation} ${bound}${baseline}${significanceNote(check)}`;
  }
  if (check.status === 'pass') return `${label} ${value} ≤ ${bound}${baseline}`;
  const qualifier = check.kind === 'threshold' ? 'max ' : '';
  return `${label} ${value} > ${qualifier}${bound}${baseline}`;
}

/** `baseline-v1 75% · canary-v2 25%` */
export function formatRules(rules: readonly RouteRule[] | null | undefined): string {
  if (!rules || rules.length === 0) return 'unknown';
  return rules.map((r) => `${r.version_tag} ${formatWeight(r.weight)}`).join(' · ');
}

export function weightOf(
  rules: readonly RouteRule[] | null | undefined,
  tag: string | undefined,
): number | null {
  if (!rules || tag === undefined) return null;
  const rule = rules.find((r) => r.version_tag === tag);
  return rule ? rule.weight : null;
}

/** Cuts a string to `max` characters with an ellipsis; tags can be 64 characters long. */
export function truncate(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text;
  if (max === 1) return '…';
  return `${text.slice(0, max - 1)}…`;
}

/**
 * The final line: the core's summary, led by the outcome unless the summary already says it
 * (`rolled back at stage 2/4: …` needs no `rolled back:` in front).
 */
export function outcomeHeadline(outcome: string, summary: string): string {
  const word = outcome.replaceAll('_', ' ');
  const lower = summary.toLowerCase();
  if (lower.startsWith(word) || (outcome === 'rollback_failed' && lower.startsWith('rollback')))
    return summary;
  return `${word}: ${summary}`;
}
