/**
 * A fixed log-spaced latency histogram layout shared by every time bucket. Fixed bins keep
 * each bucket a constant size (so memory never depends on traffic), and log spacing keeps the
 * relative error of a percentile about the same from 5 ms to 5 minutes (bins are ~11 % wide;
 * interpolation inside a bin brings a percentile within a few per cent).
 */
import { errorFunction } from 'simple-statistics';
import type { Behaviour } from './types.js';

export const LATENCY_BINS = 128;
const MIN_MS = 1;
const MAX_MS = 600_000;
const LOG_MIN = Math.log(MIN_MS);
const BIN_WIDTH = (Math.log(MAX_MS) - LOG_MIN) / LATENCY_BINS;

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.326_347_874;

/** The bin of a latency given as its natural logarithm (the simulation draws log-latencies). */
export function latencyBinOfLog(logMs: number): number {
  const bin = Math.floor((logMs - LOG_MIN) / BIN_WIDTH);
  if (!(bin > 0)) return 0;
  return bin >= LATENCY_BINS ? LATENCY_BINS - 1 : bin;
}

export function latencyBin(ms: number): number {
  return ms > 0 ? latencyBinOfLog(Math.log(ms)) : 0;
}

/** Log-normal parameters fitted so that the median and the 99th percentile match the behaviour. */
export function logNormalFit(behaviour: Behaviour): { mu: number; sigma: number } {
  const p50 = Math.max(MIN_MS, behaviour.latency_p50_ms);
  const p99 = Math.max(p50, behaviour.latency_p99_ms);
  return { mu: Math.log(p50), sigma: Math.log(p99 / p50) / Z99 };
}

/**
 * The q-quantile of a histogram stored at `offset` in `bins` (LATENCY_BINS wide), interpolated
 * geometrically inside the bin. Undefined when the histogram is empty.
 */
export function histogramQuantile(bins: ArrayLike<number>, q: number): number | undefined {
  let total = 0;
  for (let i = 0; i < LATENCY_BINS; i++) total += bins[i] ?? 0;
  if (!(total > 0)) return undefined;
  const target = q * total;
  let cumulative = 0;
  for (let i = 0; i < LATENCY_BINS; i++) {
    const count = bins[i] ?? 0;
    if (count > 0 && cumulative + count >= target) {
      const within = (target - cumulative) / count;
      return Math.exp(LOG_MIN + BIN_WIDTH * (i + within));
    }
    cumulative += count;
  }
  return MAX_MS;
}

/** Probability mass of a log-normal in each bin, for the bins that hold any of it. */
export interface BinMass {
  lo: number;
  /** probs[i] is the mass of bin lo + i. */
  probs: Float64Array;
}

function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

/**
 * How a log-normal(mu, sigma) latency, cut off at `logMax`, spreads over the bins. Bins
 * further than 7 sigma from the median hold less than 1e-11 of the mass and are dropped,
 * so a typical behaviour touches a few dozen bins.
 */
export function logNormalBinMass(mu: number, sigma: number, logMax: number): BinMass {
  if (!(sigma > 0)) {
    const bin = latencyBinOfLog(Math.min(mu, logMax));
    return { lo: bin, probs: Float64Array.of(1) };
  }
  const lo = latencyBinOfLog(mu - 7 * sigma);
  const hi = latencyBinOfLog(Math.min(logMax, mu + 7 * sigma));
  const probs = new Float64Array(hi - lo + 1);
  let previous = lo === 0 ? 0 : normalCdf((LOG_MIN + BIN_WIDTH * lo - mu) / sigma);
  for (let bin = lo; bin <= hi; bin++) {
    // Everything below the first kept bin is folded into it, everything above the cut-off
    // into the last one, so the masses always sum to one.
    const upper = bin === hi ? 1 : normalCdf((LOG_MIN + BIN_WIDTH * (bin + 1) - mu) / sigma);
    probs[bin - lo] = bin === lo ? upper : upper - previous;
    previous = upper;
  }
  return { lo, probs };
}
