/**
 * How canary writes numbers, weights, route rules, durations, metrics, timestamps and check
 * verdicts for people: the one place, so the same value reads the same in the live table, the
 * plain log, the last line, a check's reason, the journal, the report and the GitHub summary.
 * Pure and locale-independent (no Intl, no local time zone): output is byte-for-byte
 * deterministic and the report's browser bundle can share it. JSON records carry raw numbers and
 * ISO times; they are not formatted here.
 *
 * It knows only the domain's vocabulary (src/domain/), so every floor can use it; how a check
 * result reads is the reporters' (src/reporters/check-text.ts), on these same pieces.
 *
 * Conventions: a unit follows its number with no space (`25%`, `1820ms`, `1h30m`, `0.41%`);
 * lists of route rules are joined by `, ` (the ` · ` separator belongs to the lines that hold
 * several facts, so a list of rules inside one stays readable).
 */
import type { JudgedMetric } from './domain/metrics.js';
import type { RouteRule } from './domain/relay.js';

/** What a cell or a value shows when there is nothing to show. */
export const NO_VALUE = '–';

/** `toPrecision`/`toFixed` output without trailing zeros: `2.50` → `2.5`, `3.00` → `3`. */
function trimNumber(text: string): string {
  if (text.includes('e')) return text;
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

const missing = (v: number | null | undefined): v is null | undefined => v == null || !Number.isFinite(v);

// ── Percentages ────────────────────────────────────────────────────────────────────────────

/** A rate in [0, 1] as a percentage: 0.0041 → `0.41%`, 0.125 → `12.5%`. */
export function formatRate(rate: number | null | undefined): string {
  if (missing(rate)) return NO_VALUE;
  const pct = rate * 100;
  if (pct === 0) return '0.00%';
  if (Math.abs(pct) < 0.01) return `${trimNumber(pct.toPrecision(2))}%`;
  if (Math.abs(pct) < 10) return `${pct.toFixed(2)}%`;
  return `${pct.toFixed(1)}%`;
}

/** A confidence (or any share) to four significant digits: 0.9967 → `99.67%`, 0.95 → `95%`. */
export function formatConfidence(share: number): string {
  return `${Number((share * 100).toPrecision(4))}%`;
}

/** A ratio as written in a plan: `1.25`, `1.1`. */
export function formatRatio(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** A test's one-sided p-value, as the reasons show it: `p = 0.013`, `p < 0.0001`. */
export function formatP(p: number): string {
  if (p < 0.0001) return 'p < 0.0001';
  return `p = ${Number(p.toPrecision(2))}`;
}

/** The alpha a look's test had to beat: `0.0048`. */
export function formatAlpha(alpha: number): string {
  return Number(alpha.toPrecision(2)).toString();
}

// ── Weights and route rules ────────────────────────────────────────────────────────────────

/** Weights are percentages with at most two decimals; keep float noise (66.67000000000002) out. */
export function roundWeight(weight: number): number {
  return Math.round(weight * 100) / 100;
}

/** A route weight, already in percent: 25 → `25%`, 12.5 → `12.5%`. */
export function formatWeight(weight: number | null | undefined): string {
  if (missing(weight)) return NO_VALUE;
  return `${trimNumber(roundWeight(weight).toFixed(2))}%`;
}

/** A tag's weight in `rules`; a tag the rules do not name has 0. */
export function weightOf(rules: readonly RouteRule[], tag: string): number {
  return rules.find((r) => r.version_tag === tag)?.weight ?? 0;
}

/** `baseline-v1 75%, canary-v2 25%`; `unknown` when the rules were never read. */
export function formatRules(rules: readonly RouteRule[] | null | undefined): string {
  if (!rules || rules.length === 0) return 'unknown';
  return rules.map((r) => `${r.version_tag} ${formatWeight(r.weight)}`).join(', ');
}

// ── Durations ──────────────────────────────────────────────────────────────────────────────

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/**
 * A duration for people, in the plan's notation: `500ms`, `1.5s`, `45s`, `2m30s`, `1h30m`,
 * `1d2h`. Under ten seconds to the tenth (a 1.5 s deadline is not a 2 s one); above, the two
 * largest adjacent units, rounded to the second.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (missing(ms)) return NO_VALUE;
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms > 0 && ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000 && ms % 1000 !== 0) return `${trimNumber((ms / 1000).toFixed(1))}s`;
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
 * A duration exactly, as a plan would write it, for text that is read back (init's plan, the
 * JSON Schema's defaults, validate's summary): 5400000 → `1h30m`, 1500 → `1s500ms`, 0 → `0s`.
 */
export function formatPlanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  for (const [unit, size] of [...UNITS, ['ms', 1] as [string, number]]) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
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

// ── Timestamps ─────────────────────────────────────────────────────────────────────────────

/** Local wall-clock time of day, `14:03:07`, for the plain log a person watches. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return String(epochMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** ISO 8601 with milliseconds, as JSON records carry it. */
export function formatIso(epochMs: number): string {
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? String(epochMs) : d.toISOString();
}

/** ISO 8601 to the second, `2026-12-03T14:03:04Z`, where a machine may read it back. */
export function formatIsoSeconds(epochMs: number): string {
  return formatIso(epochMs).replace(/\.\d+Z$/, 'Z');
}

/** A moment for people, in UTC to the second: `2026-12-03 14:03:04Z`. */
export function formatTimestamp(epochMs: number): string {
  return formatIsoSeconds(epochMs).replace('T', ' ');
}

/** The time of day in UTC, `14:03:04Z`, where the date goes without saying. */
export function formatTimeOfDay(epochMs: number): string {
  const stamp = formatTimestamp(epochMs);
  return stamp.length > 11 ? stamp.slice(11) : stamp;
}

// ── Metrics ────────────────────────────────────────────────────────────────────────────────

/** Latency: `1820ms`, `42.3ms`, `4.25ms`; `12.3s` from ten seconds on. */
export function formatMs(ms: number | null | undefined): string {
  if (missing(ms)) return NO_VALUE;
  const abs = Math.abs(ms);
  if (abs >= 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (abs >= 100) return `${Math.round(ms)}ms`;
  return `${trimNumber(ms.toFixed(abs >= 10 ? 1 : 2))}ms`;
}

/** Cost per token in dollars per million tokens: 0.0000148 → `$14.8/Mtok`. */
export function formatCost(costPerToken: number | null | undefined): string {
  if (missing(costPerToken)) return NO_VALUE;
  const perMillion = costPerToken * 1_000_000;
  if (perMillion === 0) return '$0/Mtok';
  return `$${trimNumber(perMillion.toPrecision(3))}/Mtok`;
}

/** Cost per token as the raw dollar figure in exponent form, `1.48e-5`, for narrow spaces. */
export function formatCostRaw(costPerToken: number | null | undefined): string {
  if (missing(costPerToken)) return NO_VALUE;
  if (costPerToken === 0) return '0';
  return costPerToken.toExponential(2).replace(/\.?0+e/, 'e');
}

export function formatCount(n: number | null | undefined): string {
  if (missing(n)) return NO_VALUE;
  return String(Math.round(n));
}

const METRIC_LABELS: Record<JudgedMetric, string> = {
  error_rate: 'error_rate',
  latency_p50_ms: 'p50',
  latency_p99_ms: 'p99',
  cost_per_token: 'cost',
};

/** A judged metric's short name, as checks and tables print it: `error_rate`, `p99`, `cost`. */
export function metricLabel(metric: JudgedMetric): string {
  return METRIC_LABELS[metric] ?? metric;
}

/** A metric value as people read it: `3.10%`, `2410ms`, `$14.8/Mtok`. */
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

/** A difference between two values of a metric: error rates in percentage points (`1.00 pp`). */
export function formatDelta(metric: JudgedMetric, value: number): string {
  if (metric === 'error_rate') return `${(value * 100).toFixed(2)} pp`;
  return formatMetric(metric, value);
}

// ── Outcomes ───────────────────────────────────────────────────────────────────────────────

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

/** Cuts a string to `max` characters with an ellipsis; tags can be 64 characters long. */
export function truncate(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text;
  if (max === 1) return '…';
  return `${text.slice(0, max - 1)}…`;
}
