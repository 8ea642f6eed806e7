/**
 * An absolute bound (`min` / `max`) of a custom metric with significance on. Pure.
 *
 * A custom metric comes as one value per window, with no counts to say how noisy it is: a
 * 429 share over the 1 500 requests a 5 % canary gets in 30 s moves by ±0.3 points from window
 * to window, so a canary at 1.5 % crosses a 2 % `max` in one window of twenty on noise alone,
 * and judging each window's observed value rolled 75 % of such good canaries back in the
 * judgement suite (docs/judgement.md). So, as the built-in latency thresholds wait for enough
 * requests to be steady, this judges a breach against the metric's own noise, measured over the
 * stage's non-overlapping windows:
 *
 * - the current window: is it past the bound by more than the windows' spread allows
 *   (a prediction t-test, so a fresh, large breach fails at the look it shows)?
 * - the stage: is the canary's mean over its windows past the bound (a one-sample t-test, so a
 *   steady breach that each window shows only a little fails too)?
 *
 * Each at half the look's alpha (one test in the rollout's budget). Until the stage holds the
 * windows to measure the noise, a breach is `no_data`: the stage cannot pass on it, nor fail
 * on a window that may be noise.
 */
import { studentUpperTail } from '../analysis/beta.js';
import { pairedTPValue } from '../analysis/exact-tests.js';

export interface BoundTest {
  /** One-sided p-value of the current window past the bound, against the stage's spread. */
  windowP: number;
  /** One-sided p-value of the stage's mean past the bound. */
  meanP: number;
  fail: boolean;
}

/**
 * `values`: the canary's value in the current window first, then in the stage's earlier
 * non-overlapping windows. `upper`: the bound is a max (a min is tested mirrored).
 */
export function boundTest(
  values: readonly number[],
  bound: number,
  upper: boolean,
  alpha: number,
): BoundTest {
  const d = values.map((v) => (upper ? v - bound : bound - v));
  const current = d[0] ?? 0;
  // The spread of the earlier windows only: a fresh breach must not widen the yardstick it is
  // measured with. A new window from that spread: (x − bound) / (s·√(1 + 1/m)) ~ t(m − 1) at
  // the bound, m the earlier windows.
  const earlier = d.slice(1);
  const m = earlier.length;
  const mean = earlier.reduce((a, b) => a + b, 0) / Math.max(1, m);
  const sd = Math.sqrt(earlier.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, m - 1));
  const windowP =
    m < 2
      ? 1
      : sd > 1e-12
        ? studentUpperTail(current / (sd * Math.sqrt(1 + 1 / m)), m - 1)
        : current > 1e-12
          ? 0
          : 1;
  const meanP = pairedTPValue(d).pValue;
  return { windowP, meanP, fail: Math.min(windowP, meanP) < alpha / 2 };
}
