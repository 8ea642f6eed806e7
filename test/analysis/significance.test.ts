/**
 * The significance tests against values computed independently (Python with scipy.stats.norm
 * and itertools enumeration, from the textbook formulas), their edges (no errors on either
 * side, too little data), their calibration over many seeded random draws, and the checks
 * evaluate() builds from them.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/evaluate.js';
import {
  alphaOf,
  criticalZ,
  minWindowsFor,
  permutationPValue,
  proportionExcessTest,
  seriesExcessTest,
  twoProportionZ,
} from '../../src/analysis/significance.js';
import type { Evaluation } from '../../src/analysis/types.js';
import { Random } from '../../src/emulator/random.js';
import type { VersionMetrics } from '../../src/relay/types.js';
import { describeCheck } from '../../src/reporters/format.js';

describe('known answers', () => {
  it('pooled two-proportion z: 45/300 vs 30/300 gives z 1.852, one-sided p 0.0320', () => {
    const { z, pValue } = twoProportionZ({ errors: 45, requests: 300 }, { errors: 30, requests: 300 });
    expect(z).toBeCloseTo(1.85164, 4);
    expect(pValue).toBeCloseTo(0.032039, 5);
  });

  it('pooled two-proportion z: 30/1000 vs 190/19000 gives z 5.910', () => {
    expect(twoProportionZ({ errors: 30, requests: 1000 }, { errors: 190, requests: 19000 }).z).toBeCloseTo(
      5.91013,
      4,
    );
  });

  it('critical z is the normal quantile: 1.645 at 95 %, 2.054 at 98 %', () => {
    expect(criticalZ(0.95)).toBeCloseTo(1.644854, 5);
    expect(criticalZ(0.98)).toBeCloseTo(2.053749, 5);
  });

  it('Agresti–Caffo with a margin of +1 pp: 45/1500 vs 300/28500 gives p 0.01244', () => {
    const r = proportionExcessTest(
      { errors: 45, requests: 1500 },
      { errors: 300, requests: 28500 },
      { increase: 0.01 },
      0.95,
    );
    expect(r.pValue).toBeCloseTo(0.0124407, 5);
    expect(r.se).toBeCloseTo(0.00448689, 7);
    expect(r.status).toBe('fail');
    expect(r.decidedBy).toBe('increase');
  });

  it('Agresti–Caffo with a ratio of 1.5: same counts give p 0.000561', () => {
    const r = proportionExcessTest(
      { errors: 45, requests: 1500 },
      { errors: 300, requests: 28500 },
      { ratio: 1.5 },
      0.95,
    );
    expect(r.pValue).toBeCloseTo(0.00056052, 6);
    expect(r.status).toBe('fail');
  });

  it('with both margins the smaller p-value decides', () => {
    const r = proportionExcessTest(
      { errors: 45, requests: 1500 },
      { errors: 300, requests: 28500 },
      { increase: 0.01, ratio: 1.5 },
      0.999,
    );
    expect(r.decidedBy).toBe('ratio');
    expect(r.status).toBe('fail');
  });

  it('exact permutation p-values: 1/70 for fully separated 4 + 4, 16/70 for mixed ones', () => {
    expect(permutationPValue([5, 6, 7, 8], [1, 2, 3, 4])).toBeCloseTo(1 / 70, 12);
    expect(permutationPValue([3, 5, 4, 6], [4, 2, 5, 3])).toBeCloseTo(0.228571428571, 9);
    expect(
      permutationPValue([2310, 2650, 2480, 2790, 2550], [2250, 2262.5, 2237.5, 2275, 2256.25]),
    ).toBeCloseTo(1 / 252, 12);
  });

  it('large samples are permuted with a fixed seed: the same data always give the same p', () => {
    const canary = Array.from({ length: 12 }, (_, i) => 100 + ((i * 7) % 5));
    const bound = Array.from({ length: 12 }, (_, i) => 99 + ((i * 3) % 4));
    const p = permutationPValue(canary, bound);
    expect(permutationPValue(canary, bound)).toBe(p);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
  });

  it('the fewest windows a permutation test needs: 4 at 95 % (1/20 is not below 0.05), 5 at 99 %', () => {
    expect(alphaOf(0.95)).toBe(0.05);
    expect(minWindowsFor(0.9)).toBe(3);
    expect(minWindowsFor(0.95)).toBe(4);
    expect(minWindowsFor(0.98)).toBe(4);
    expect(minWindowsFor(0.99)).toBe(5);
    expect(minWindowsFor(0.999)).toBe(7);
  });
});

describe('edges', () => {
  it('no errors on either side passes once the sample is large enough', () => {
    const r = proportionExcessTest(
      { errors: 0, requests: 1000 },
      { errors: 0, requests: 19000 },
      { increase: 0.01 },
      0.95,
    );
    expect(r.status).toBe('pass');
    expect(r.pValue).toBeCloseTo(1, 6);
  });

  it('tiny samples are no data, not pass', () => {
    const r = proportionExcessTest(
      { errors: 0, requests: 20 },
      { errors: 1, requests: 400 },
      { increase: 0.01 },
      0.95,
    );
    expect(r.status).toBe('no_data');
    expect(r.pValue).toBeNull();
  });

  it('a sample too small to notice a canary one margin over the bound is no data', () => {
    // 2 % errors on 100 requests: standard error ≈ 1.4 pp, far above 1 pp / 1.645.
    const r = proportionExcessTest(
      { errors: 2, requests: 100 },
      { errors: 38, requests: 1900 },
      { increase: 0.01 },
      0.95,
    );
    expect(r.status).toBe('no_data');
    expect(r.se).toBeGreaterThan(r.neededSe ?? 0);
  });

  it('evidence counts even when the sample is small: 30 % errors on 100 requests fail', () => {
    const r = proportionExcessTest(
      { errors: 30, requests: 100 },
      { errors: 19, requests: 1900 },
      { increase: 0.01 },
      0.95,
    );
    expect(r.status).toBe('fail');
  });

  it('series: fewer windows than needed are no data; a clear regression fails; equal series pass', () => {
    const base = [1800, 1790, 1820, 1805, 1795];
    expect(seriesExcessTest([2700, 2800, 2650], base.slice(0, 3), { ratio: 1.25 }, 0.95, 4).status).toBe(
      'no_data',
    );
    expect(seriesExcessTest([2700, 2800, 2650, 2750, 2690], base, { ratio: 1.25 }, 0.95, 4)).toMatchObject({
      status: 'fail',
      windows: 5,
    });
    expect(seriesExcessTest([1850, 1700, 1900, 1760, 1830], base, { ratio: 1.25 }, 0.95, 4).status).toBe(
      'pass',
    );
    // A canary just over the bound on average but inside the noise is not failed.
    expect(
      seriesExcessTest([2300, 2100, 2400, 2200], base.slice(0, 4), { ratio: 1.25 }, 0.95, 4).status,
    ).toBe('pass');
  });
});

describe('over many seeded random draws', () => {
  const draws = 600;
  const random = new Random(20_261_121);
  /** One window's counts at 5 % canary traffic out of `total` requests. */
  function draw(canaryRate: number, baselineRate: number, total: number) {
    const canaryRequests = Math.round(total * 0.05);
    const baselineRequests = total - canaryRequests;
    return {
      canary: { errors: random.binomial(canaryRequests, canaryRate), requests: canaryRequests },
      baseline: { errors: random.binomial(baselineRequests, baselineRate), requests: baselineRequests },
    };
  }
  function share(outcome: 'fail' | 'pass' | 'no_data', run: () => string): number {
    let n = 0;
    for (let i = 0; i < draws; i++) if (run() === outcome) n++;
    return n / draws;
  }

  it('a 3× error rate at 5 % traffic is detected; equal rates are not flagged', () => {
    const margin = { ratio: 1.5 };
    const detected = share('fail', () => {
      const { canary, baseline } = draw(0.03, 0.01, 60_000);
      return proportionExcessTest(canary, baseline, margin, 0.95).status;
    });
    expect(detected).toBeGreaterThanOrEqual(0.99);
    const flagged = share('fail', () => {
      const { canary, baseline } = draw(0.01, 0.01, 60_000);
      return proportionExcessTest(canary, baseline, margin, 0.95).status;
    });
    expect(flagged).toBeLessThanOrEqual(0.01);
  });

  it('with no margin, equal rates are flagged at about 1 − confidence (the test is calibrated)', () => {
    const flagged = share('fail', () => {
      const { canary, baseline } = draw(0.02, 0.02, 40_000);
      return proportionExcessTest(canary, baseline, { increase: 0 }, 0.95).status;
    });
    expect(flagged).toBeGreaterThan(0.02);
    expect(flagged).toBeLessThan(0.09);
  });

  it('the plain comparison at 5 % traffic rolls good canaries back on noise where the test does not', () => {
    let plain = 0;
    let tested = 0;
    for (let i = 0; i < draws; i++) {
      const { canary, baseline } = draw(0.02, 0.02, 10_000); // 500 canary requests
      if (canary.errors / canary.requests > baseline.errors / baseline.requests + 0.01) plain++;
      if (proportionExcessTest(canary, baseline, { increase: 0.01 }, 0.95).status === 'fail') tested++;
    }
    expect(plain / draws).toBeGreaterThan(0.03);
    expect(tested / draws).toBeLessThan(0.01);
  });
});

describe('evaluate() with significance', () => {
  const metrics = (tag: string, requests: number, errors: number, p99: number): VersionMetrics => ({
    version_tag: tag,
    start_time: '',
    end_time: '',
    request_count: requests,
    error_count: errors,
    error_rate: errors / requests,
    latency_p50_ms: 400,
    latency_p99_ms: p99,
    cost_per_token: 0.000015,
  });
  const config = {
    minRequests: 50,
    thresholds: {},
    baselineComparison: { error_rate: { max_increase: 0.01 }, latency_p99_ms: { max_ratio: 1.25 } },
    significance: { confidence: 0.95, minWindows: 4 },
  };
  function run(windows: [VersionMetrics, VersionMetrics][]): Evaluation {
    const history: Evaluation[] = [];
    let last: Evaluation | undefined;
    windows.forEach(([canary, baseline], i) => {
      last = evaluate({
        canary,
        baseline,
        config,
        history,
        at: (i + 1) * 10_000,
        windowStart: i * 10_000,
        windowEnd: (i + 1) * 10_000,
      });
      history.push(last);
    });
    return last as Evaluation;
  }

  it('pools error counts over the stage and explains the verdict with values, margin and p-value', () => {
    const windows = Array.from({ length: 4 }, (): [VersionMetrics, VersionMetrics] => [
      metrics('c', 500, 20, 1800),
      metrics('b', 9500, 95, 1800),
    ]);
    const e = run(windows);
    const check = e.checks.find((c) => c.id === 'error_rate.vs_baseline');
    expect(check).toMatchObject({
      status: 'fail',
      confidence: 0.95,
      test: 'two-proportion z over 4 windows',
    });
    expect(check?.value).toBeCloseTo(0.04, 9);
    expect(check?.pValue).toBeLessThan(0.05);
    expect(check?.reason).toBe(
      'error rate 4.00% (80/2000) vs baseline 1.00% + 1.00 pp = 2.00% (380/38000) over 4 windows: ' +
        'above the bound at 95% confidence (p < 0.001)',
    );
    expect(e.verdict).toBe('fail');
    // The live view and plain lines show the p-value next to the values.
    expect(describeCheck(check as NonNullable<typeof check>)).toBe(
      'error_rate 4.00% > 2.00% (baseline 1.00%) p < 0.001',
    );
  });

  it('says why there is no data yet: too few windows for the latency test', () => {
    const e = run([[metrics('c', 500, 5, 1800), metrics('b', 9500, 95, 1800)]]);
    const p99 = e.checks.find((c) => c.id === 'latency_p99_ms.vs_baseline');
    expect(p99?.status).toBe('no_data');
    expect(p99?.reason).toBe(
      'no data: p99 has 1 of the 4 non-overlapping windows in this stage a test at 95% confidence needs',
    );
    expect(e.verdict).toBe('no_data');
    expect(describeCheck(p99 as NonNullable<typeof p99>)).toBe(
      'p99 no data (permutation over 1 window: too little for 95% confidence)',
    );
  });

  it('passes equal versions once there is enough, and skips overlapping windows', () => {
    const windows = Array.from({ length: 5 }, (_, i): [VersionMetrics, VersionMetrics] => [
      metrics('c', 600, 6, 1800 + (i % 2) * 60),
      metrics('b', 11400, 114, 1810),
    ]);
    const e = run(windows);
    expect(e.verdict).toBe('pass');
    const p99 = e.checks.find((c) => c.metric === 'latency_p99_ms');
    expect(describeCheck(p99 as NonNullable<typeof p99>)).toBe(
      'p99 1824ms vs 2263ms (baseline 1810ms) p 1 ≥ 0.05',
    );
    const overlapping = evaluate({
      canary: metrics('c', 600, 6, 1800),
      baseline: metrics('b', 11400, 114, 1810),
      config,
      history: [e],
      at: 55_000,
      windowStart: 45_000,
      windowEnd: 55_000,
    });
    expect(overlapping.checks.find((c) => c.metric === 'error_rate')?.test).toBe(
      'two-proportion z over 1 window',
    );
  });
});
