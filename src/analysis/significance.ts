/**
 * Significance tests for canary-versus-baseline comparisons. A comparison check with a
 * margin ("at most baseline + 1 pp", "at most 1.25 × baseline") asks whether the canary is
 * worse than that bound; at 5 % traffic the canary's numbers are noisy, so a plain
 * comparison of two observed values rolls back good canaries on noise. Here the hypothesis
 * tested is H0: canary ≤ bound, one-sided, and a check fails only when the data reject it at
 * the configured confidence: the canary must be worse beyond both the margin and the noise.
 *
 * Two tests, because the relay gives two kinds of data:
 * - error rates come with request and error counts, so the two proportions are compared
 *   directly (a z-test on the difference with the Agresti–Caffo adjustment: one error and
 *   one success added to each side, which keeps the test honest for small counts and at
 *   zero errors, where the plain Wald test has no variance at all);
 * - latencies and cost per token come as one summary per window with no distribution
 *   behind it, so the canary's values over several windows are compared with the bound
 *   over the same windows by a permutation test on the difference of means.
 *
 * Too little data is "no data", never "pass": a test that could not have noticed a bad
 * canary says nothing about a good one.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { combinations, errorFunction, mean, permutationTest, probit } from 'simple-statistics';

/** A margin as a plan writes it: at most baseline + increase, and/or at most baseline × ratio. */
export interface Margin {
  increase?: number | undefined;
  ratio?: number | undefined;
}

export interface Proportion {
  errors: number;
  requests: number;
}

export interface TestResult {
  status: 'pass' | 'fail' | 'no_data';
  /** One-sided p-value of H0: canary ≤ bound; null when the test could not run. */
  pValue: number | null;
  /** Which margin decided (the one with the smallest p-value). */
  decidedBy: 'increase' | 'ratio' | null;
  /** Why the result is `no_data`, in words; empty otherwise. */
  shortfall: string;
}

/**
 * Below this many requests on either side the normal approximation behind the proportion
 * test is not to be trusted, whatever the counts.
 */
export const MIN_PROPORTION_REQUESTS = 30;

/** Permutations drawn when the exact permutation distribution is too large to enumerate. */
const PERMUTATIONS = 4000;

/** 1 − confidence without float noise (1 − 0.95 is 0.050000000000000044, which would let p = 0.05 pass as below it). */
export function alphaOf(confidence: number): number {
  return Number((1 - confidence).toPrecision(12));
}

export function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

/** The z a one-sided test must reach at this confidence (1.645 at 0.95). */
export function criticalZ(confidence: number): number {
  // simple-statistics' probit is a rational approximation off by ~1e-3 at 0.95; bisecting the
  // CDF (errorFunction is good to ~1e-7) starting from it keeps the power check exact enough.
  let lo = probit(confidence) - 0.1;
  let hi = lo + 0.2;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < confidence) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The textbook pooled two-proportion z statistic for H1: p1 > p2 (no margin), with its
 * one-sided p-value. Kept for reference and tests; the check itself uses
 * `proportionExcessTest`, which allows a margin and small counts.
 */
export function twoProportionZ(a: Proportion, b: Proportion): { z: number; pValue: number } {
  const p1 = a.errors / a.requests;
  const p2 = b.errors / b.requests;
  const pooled = (a.errors + b.errors) / (a.requests + b.requests);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.requests + 1 / b.requests));
  if (!(se > 0)) return { z: 0, pValue: 1 };
  const z = (p1 - p2) / se;
  return { z, pValue: 1 - normalCdf(z) };
}

interface Component {
  kind: 'increase' | 'ratio';
  z: number;
  pValue: number;
  se: number;
  /** How far beyond the bound a canary must be for the test to be worth anything: one margin. */
  effect: number;
}

/**
 * One-sided test of H0: p_canary ≤ r · p_baseline + d against H1: p_canary > r · p_baseline + d,
 * on Agresti–Caffo adjusted proportions (Agresti & Caffo 2000, "Simple and effective
 * confidence intervals for proportions and differences of proportions").
 */
function proportionComponent(
  kind: 'increase' | 'ratio',
  canary: Proportion,
  baseline: Proportion,
  ratio: number,
  increase: number,
): Component {
  const nc = canary.requests + 2;
  const nb = baseline.requests + 2;
  const pc = (canary.errors + 1) / nc;
  const pb = (baseline.errors + 1) / nb;
  const se = Math.sqrt((pc * (1 - pc)) / nc + (ratio * ratio * pb * (1 - pb)) / nb);
  const z = (pc - ratio * pb - increase) / se;
  const effect = kind === 'increase' ? increase : (ratio - 1) * pb;
  return { kind, z, pValue: 1 - normalCdf(z), se, effect };
}

/**
 * Is the canary's error proportion above the bound beyond the noise? Fails when H0 is
 * rejected for any of the margins; "no data" when the counts are too small for the
 * approximation, or too small for a canary one margin beyond the bound to be caught at
 * least half the time (standard error above margin / z).
 */
export function proportionExcessTest(
  canary: Proportion,
  baseline: Proportion,
  margin: Margin,
  confidence: number,
): TestResult & { se: number | null; neededSe: number | null } {
  const components: Component[] = [];
  if (margin.increase !== undefined) {
    components.push(proportionComponent('increase', canary, baseline, 1, margin.increase));
  }
  if (margin.ratio !== undefined) {
    components.push(proportionComponent('ratio', canary, baseline, margin.ratio, 0));
  }
  if (components.length === 0) throw new Error('proportionExcessTest needs a margin');
  const fewest = Math.min(canary.requests, baseline.requests);
  if (fewest < MIN_PROPORTION_REQUESTS) {
    return {
      status: 'no_data',
      pValue: null,
      decidedBy: null,
      se: null,
      neededSe: null,
      shortfall: `${fewest} requests on one side, the test needs at least ${MIN_PROPORTION_REQUESTS}`,
    };
  }
  const alpha = alphaOf(confidence);
  const zc = criticalZ(confidence);
  const decisive = components.reduce((a, b) => (b.pValue < a.pValue ? b : a));
  const base = { pValue: decisive.pValue, decidedBy: decisive.kind, se: decisive.se };
  if (decisive.pValue < alpha) return { ...base, status: 'fail', neededSe: null, shortfall: '' };
  const weakest = components.reduce((a, b) => (b.se / b.effect > a.se / a.effect ? b : a));
  const neededSe = weakest.effect / zc;
  if (!(weakest.se <= neededSe)) {
    return { ...base, status: 'no_data', se: weakest.se, neededSe, shortfall: 'underpowered' };
  }
  return { ...base, status: 'pass', neededSe, shortfall: '' };
}

/** The fewest windows per side with which a permutation test can reach this confidence at all. */
export function minWindowsFor(confidence: number): number {
  const alpha = alphaOf(confidence);
  let n = 2;
  // The most extreme split of n + n values has probability 1 / C(2n, n).
  while (n < 50 && 1 / binomialCoefficient(2 * n, n) >= alpha) n++;
  return n;
}

function binomialCoefficient(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return Math.round(result);
}

/** A fixed seed: the same windows always give the same verdict. */
function seededUniform(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  return () => (rng.next() >>> 0) / 4_294_967_296;
}

/**
 * One-sided permutation test on the difference of means, H1: canary > bound. Small samples
 * are enumerated exactly (every split of the pooled values), larger ones sampled with a
 * seeded generator, so a verdict never depends on luck.
 */
export function permutationPValue(canary: readonly number[], bound: readonly number[]): number {
  const observed = mean([...canary]) - mean([...bound]);
  const pooled = [...canary, ...bound];
  const n = canary.length;
  const total = pooled.reduce((a, b) => a + b, 0);
  // A permuted statistic within rounding of the observed one is as extreme as it.
  const tolerance = 1e-9 * Math.max(1, Math.abs(observed), ...pooled.map(Math.abs));
  if (binomialCoefficient(pooled.length, n) <= 20_000) {
    let extreme = 0;
    let count = 0;
    const indices = pooled.map((_, i) => i);
    for (const chosen of combinations(indices, n)) {
      const sum = chosen.reduce((a, i) => a + (pooled[i] ?? 0), 0);
      const statistic = sum / n - (total - sum) / (pooled.length - n);
      if (statistic >= observed - tolerance) extreme++;
      count++;
    }
    return extreme / count;
  }
  const p = permutationTest([...canary], [...bound], 'greater', PERMUTATIONS, seededUniform(0x5eed));
  // Count the observed split itself, so p is never 0 (Phipson & Smyth 2010).
  return (p * PERMUTATIONS + 1) / (PERMUTATIONS + 1);
}

/** The tightest bound per window, as the plain comparison uses. */
export function boundOf(baseline: number, margin: Margin): number {
  const bounds: number[] = [];
  if (margin.ratio !== undefined) bounds.push(baseline * margin.ratio);
  if (margin.increase !== undefined) bounds.push(baseline + margin.increase);
  return Math.min(...bounds);
}

/**
 * Are the canary's per-window values (p99, p50, cost) above the bound beyond the noise?
 * `canary[i]` and `baseline[i]` come from the same window; windows must not overlap, or the
 * test would count one stretch of traffic several times.
 */
export function seriesExcessTest(
  canary: readonly number[],
  baseline: readonly number[],
  margin: Margin,
  confidence: number,
  minWindows: number,
): TestResult & { windows: number; needed: number } {
  const needed = Math.max(minWindows, minWindowsFor(confidence));
  const windows = Math.min(canary.length, baseline.length);
  if (windows < needed) {
    return {
      status: 'no_data',
      pValue: null,
      decidedBy: null,
      windows,
      needed,
      shortfall: `${windows}/${needed} windows`,
    };
  }
  const bounds = baseline.slice(0, windows).map((b) => boundOf(b, margin));
  const pValue = permutationPValue(canary.slice(0, windows), bounds);
  const decidedBy = margin.ratio !== undefined ? 'ratio' : 'increase';
  return {
    status: pValue < alphaOf(confidence) ? 'fail' : 'pass',
    pValue,
    decidedBy,
    windows,
    needed,
    shortfall: '',
  };
}
