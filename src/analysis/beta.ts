/**
 * The regularized incomplete beta function, and the two distribution functions the exact tests
 * need from it. Written here rather than taken from @stdlib because the CLI ships as one bundle
 * with a size budget (test/build/package.test.ts) that the two @stdlib packages overran by 30 KB;
 * ln Γ comes from simple-statistics, already bundled. Continued fraction by the modified Lentz
 * method (Numerical Recipes §6.4), good to ~1e-14 relative.
 */
import { gammaln } from 'simple-statistics';

function continuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** I_x(a, b), the regularized incomplete beta function. */
export function betaIncomplete(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(gammaln(a + b) - gammaln(a) - gammaln(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2)
    ? (front * continuedFraction(a, b, x)) / a
    : 1 - (front * continuedFraction(b, a, 1 - x)) / b;
}

/** P(X ≥ k) for X ~ Binomial(n, p), 0 < k ≤ n: I_p(k, n − k + 1), computed directly (no 1 − cdf). */
export function binomialTail(k: number, n: number, p: number): number {
  return betaIncomplete(p, k, n - k + 1);
}

/** P(T > t) for Student's t with v degrees of freedom. */
export function studentUpperTail(t: number, v: number): number {
  const half = 0.5 * betaIncomplete(v / (v + t * t), v / 2, 0.5);
  return t >= 0 ? half : 1 - half;
}
