/**
 * The tests behind the sequential analysis, each giving a one-sided p-value valid at a fixed
 * look (src/analysis/sequential.ts spends the alpha over looks):
 *
 * - error rates against the baseline: the conditional binomial test. Errors are rare events;
 *   given the errors both versions had together, the canary's share of them is binomial with
 *   π = r·n_c / (r·n_c + n_b) when the canary's rate is r times the baseline's. Exact at any
 *   count (a canary with 6 errors is judged as fairly as one with 600), and it carries the
 *   baseline's own noise, which matters at 50 % weight where the baseline is no larger.
 * - error rates against an absolute limit: the exact binomial tail P(X ≥ errors | n, max).
 * - latency and cost against the baseline: a paired t-test over the stage's non-overlapping
 *   windows on the log ratio canary / baseline (windows are paired in time, so what moves
 *   both versions, an upstream slowdown or the hour's traffic mix, cancels out).
 */
import { binomialTail, studentUpperTail } from './beta.js';

export interface Counts {
  errors: number;
  requests: number;
}

/** P(X ≥ k) for X ~ Binomial(n, p). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  return Math.min(1, Math.max(0, binomialTail(k, n, p)));
}

/** Is the canary's error rate above `max`? One-sided exact binomial p-value. */
export function thresholdPValue(canary: Counts, max: number): number {
  return binomialUpperTail(canary.errors, canary.requests, max);
}

/**
 * H0: p_canary ≤ ratio · p_baseline, by the conditional binomial test. `ratio` may be
 * Infinity (nothing the baseline did bounds the canary): then p = 1.
 */
export function ratioPValue(canary: Counts, baseline: Counts, ratio: number): number {
  if (!Number.isFinite(ratio)) return 1;
  const total = canary.errors + baseline.errors;
  if (total === 0 || canary.requests === 0) return 1;
  if (baseline.requests === 0) return 1;
  if (ratio <= 0) return canary.errors > 0 ? 0 : 1;
  const share = (ratio * canary.requests) / (ratio * canary.requests + baseline.requests);
  return binomialUpperTail(canary.errors, total, share);
}

/**
 * H0: p_canary ≤ p_baseline + increase, stated as the ratio the increase amounts to at the
 * baseline's rate, so the baseline's own noise is counted. The rate is taken as
 * (errors + ½) / (requests + 1): a baseline with 0 errors in 300 requests may well run at
 * 0.5 %, and treating it as exactly 0 would blame the canary for the baseline's luck.
 */
export function increasePValue(canary: Counts, baseline: Counts, increase: number): number {
  if (baseline.requests <= 0) return thresholdPValue(canary, increase);
  const rate = (baseline.errors + 0.5) / (baseline.requests + 1);
  return ratioPValue(canary, baseline, (rate + increase) / rate);
}

/** One-sided p-value of a paired t-test, H0: mean(d) ≤ 0, over `d`'s values. */
export function pairedTPValue(d: readonly number[]): { pValue: number; mean: number } {
  const n = d.length;
  const mean = d.reduce((a, b) => a + b, 0) / Math.max(1, n);
  if (n < 2) return { pValue: 1, mean };
  const variance = d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  const sd = Math.sqrt(variance);
  if (!(sd > 1e-12)) return { pValue: mean > 1e-12 ? 0 : 1, mean };
  const t = mean / (sd / Math.sqrt(n));
  return { pValue: Math.min(1, Math.max(0, studentUpperTail(t, n - 1))), mean };
}
