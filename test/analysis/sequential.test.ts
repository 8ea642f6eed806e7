/**
 * Error control per stage and per rollout: the alpha spent over a stage's looks never exceeds
 * its budget, whatever the looks; the exact tests are valid at small counts; a canary exactly
 * at its bound fails a stage about as often as the budget allows and no more.
 */
import { describe, expect, it } from 'vitest';
import {
  binomialUpperTail,
  increasePValue,
  pairedTPValue,
  ratioPValue,
  thresholdPValue,
} from '../../src/analysis/exact-tests.js';
import { feasibility } from '../../src/analysis/feasibility.js';
import {
  EXTRA_LOOKS_RESERVE,
  errorBudgetFor,
  FRESH_SPENDING,
  lookAlpha,
  pocockSpending,
  testAlpha,
} from '../../src/analysis/sequential.js';
import { loadPlan } from '../../src/plan/load.js';

describe('alpha spending', () => {
  const budget = { rolloutAlpha: 0.01, stages: 4, tests: 5 };

  it('spends at most each test’s share over any number of looks, extra looks included', () => {
    for (const looks of [1, 3, 20, 200]) {
      let state = FRESH_SPENDING;
      let spent = 0;
      for (let k = 1; k <= looks + 50; k++) {
        const { alpha, next } = lookAlpha(budget, state, k / looks);
        spent += alpha;
        state = next;
      }
      expect(spent).toBeLessThanOrEqual(testAlpha(budget) * (1 + 1e-9));
      // Nearly all of the planned share is used by the bake's end.
      expect(spent).toBeGreaterThan(testAlpha(budget) * (1 - EXTRA_LOOKS_RESERVE));
    }
    expect(testAlpha(budget)).toBeCloseTo(0.01 / 4 / 5, 12);
  });

  it('spends early (Pocock type) and carries over what looks without data did not use', () => {
    expect(pocockSpending(0.1)).toBeGreaterThan(0.1);
    expect(pocockSpending(1)).toBeCloseTo(1, 12);
    const first = lookAlpha(budget, FRESH_SPENDING, 0.5).alpha;
    const a = lookAlpha(budget, FRESH_SPENDING, 0.25);
    const b = lookAlpha(budget, a.next, 0.5);
    expect(a.alpha + b.alpha).toBeCloseTo(first, 15);
  });

  it('counts every stage and one test per comparison and error-rate threshold', () => {
    expect(
      errorBudgetFor(
        [
          { weight: 5, bakeMs: 1 },
          { weight: 50, bakeMs: 1 },
          { weight: 100, bakeMs: 0 },
        ],
        {
          significance: { confidence: 0.95 },
          baselineComparison: { error_rate: {}, latency_p99_ms: {} },
          thresholds: { error_rate: { max: 0.1 } },
        },
      ),
    ).toEqual({ rolloutAlpha: 0.05, stages: 3, tests: 3 });
  });
});

describe('exact tests', () => {
  it('binomial tails', () => {
    expect(binomialUpperTail(0, 10, 0.5)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.5)).toBe(0);
    expect(binomialUpperTail(10, 10, 0.5)).toBeCloseTo(1 / 1024, 12);
    // Two errors in ten requests against a 2 % limit: not rare enough to blame (p ≈ 0.016).
    expect(thresholdPValue({ errors: 2, requests: 10 }, 0.02)).toBeCloseTo(0.0162, 3);
  });

  it('the conditional test carries the baseline’s noise and the margin', () => {
    const baseline = { errors: 100, requests: 10_000 };
    // Canary at the baseline's rate: far from rejecting ratio 1.25.
    expect(ratioPValue({ errors: 10, requests: 1000 }, baseline, 1.25)).toBeGreaterThan(0.5);
    // 3× the baseline on 1 500 requests: rejected beyond any per-look alpha we use.
    expect(ratioPValue({ errors: 45, requests: 1500 }, baseline, 1.25)).toBeLessThan(1e-5);
    // An increase carries the baseline's noise too: 7 canary errors against none of the
    // baseline's on equal traffic is not beyond any alpha we use (the baseline may just have
    // been lucky), while 20 against 5 of 9 500 is.
    expect(increasePValue({ errors: 0, requests: 500 }, { errors: 0, requests: 9500 }, 0.002)).toBe(1);
    expect(increasePValue({ errors: 7, requests: 307 }, { errors: 0, requests: 298 }, 0.002)).toBeGreaterThan(
      0.01,
    );
    expect(ratioPValue({ errors: 7, requests: 307 }, { errors: 0, requests: 298 }, 1.25)).toBeGreaterThan(
      0.01,
    );
    expect(increasePValue({ errors: 20, requests: 500 }, { errors: 5, requests: 9500 }, 0.002)).toBeLessThan(
      1e-6,
    );
  });

  it('is valid at the bound: a canary exactly at 1.25× fails a look about alpha of the time, not more', () => {
    // Poisson-ish draws from a fixed LCG so the test is deterministic.
    let x = 12345;
    const uniform = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x + 0.5) / 4294967296;
    };
    const binomial = (n: number, p: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) if (uniform() < p) k++;
      return k;
    };
    let rejected = 0;
    const trials = 2000;
    for (let i = 0; i < trials; i++) {
      const canary = { errors: binomial(600, 0.0125), requests: 600 };
      const baseline = { errors: binomial(6000, 0.01), requests: 6000 };
      if (ratioPValue(canary, baseline, 1.25) < 0.05) rejected++;
    }
    expect(rejected / trials).toBeLessThan(0.06);
  });

  it('the paired t-test on log ratios', () => {
    expect(pairedTPValue([0.1, 0.12, 0.09, 0.11, 0.1]).pValue).toBeLessThan(0.001);
    expect(pairedTPValue([0.1, -0.12, 0.09, -0.11, 0.0]).pValue).toBeGreaterThan(0.3);
    expect(pairedTPValue([0.05, 0.05, 0.05]).pValue).toBe(0);
    expect(pairedTPValue([0.05]).pValue).toBe(1);
  });
});

describe('feasibility', () => {
  it('finds nothing wrong with the examples', async () => {
    for (const name of ['quickstart', 'bad-canary', 'production']) {
      const plan = await loadPlan(`examples/${name}.yaml`);
      expect(feasibility(plan).filter((f) => f.level === 'error')).toEqual([]);
    }
  });

  it('refuses a stage too short for the paired test and warns about overlapping windows', async () => {
    const plan = await loadPlan('examples/quickstart.yaml');
    const starved = { ...plan, analysis: { ...plan.analysis, intervalMs: 2000, windowMs: 6000 } };
    const found = feasibility(starved);
    expect(found.filter((f) => f.level === 'error').map((f) => f.at)).toEqual([
      ['stages', 0],
      ['stages', 1],
      ['stages', 2],
    ]);
    expect(found.find((f) => f.level === 'warning')?.message).toMatch(
      /window \(6s\) is longer than analysis\.interval/,
    );
    const off = { ...plan, analysis: { ...plan.analysis, significance: undefined } };
    expect(feasibility(off).map((f) => f.message)).toEqual([expect.stringMatching(/significance is off/)]);
  });

  it('counts analysis.metrics comparisons among the paired tests a stage must hold windows for', async () => {
    const plan = await loadPlan('examples/quickstart.yaml');
    const ttft = {
      name: 'ttft_p99_ms',
      source: { kind: 'prometheus' as const, query: 'x' },
      rule: { max_ratio: 1.5 },
      minRequests: 1,
      dryRun: false,
    };
    const analysis = { ...plan.analysis, baselineComparison: {}, intervalMs: 2000, windowMs: 6000 };
    const found = feasibility({ ...plan, analysis: { ...analysis, customMetrics: [ttft] } });
    expect(found.filter((f) => f.level === 'error')[0]?.message).toMatch(
      /the paired ttft_p99_ms tests need 4/,
    );
    // A dry-run metric never holds a stage, so it asks for nothing.
    const dry = feasibility({
      ...plan,
      analysis: { ...analysis, customMetrics: [{ ...ttft, dryRun: true }] },
    });
    expect(dry.filter((f) => f.level === 'error')).toEqual([]);
  });
});
