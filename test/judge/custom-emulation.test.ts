/** The judgement suite's stand-in for a Prometheus reading analysis.metrics off the emulator. */
import { describe, expect, it } from 'vitest';
import { binomial, DEFAULT_TRUTH, emulatedCustomMetrics } from '../../bench/judge/custom-emulation.js';
import { initPlan } from '../../bench/judge.js';
import type { SimulatedRun } from '../../src/simulate/run-seed.js';

describe('custom metrics emulated for the judgement suite', () => {
  it('draws 429 counts with a binomial mean and spread, in both of its regimes', () => {
    let state = 1;
    const draw = () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    for (const [n, p] of [
      [1500, 0.015],
      [200, 0.005],
    ] as const) {
      const xs = Array.from({ length: 4000 }, () => binomial(n, p, draw));
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
      expect(mean).toBeCloseTo(n * p, 0);
      expect(variance / (n * p * (1 - p))).toBeGreaterThan(0.85);
      expect(variance / (n * p * (1 - p))).toBeLessThan(1.15);
    }
  });

  it('reads TTFT as the window latency p99 times the version factor, and no value for what it does not emulate', async () => {
    const plan = await initPlan();
    plan.analysis.customMetrics = [
      {
        name: 'ttft_p99_ms',
        source: { kind: 'prometheus', query: 'x' },
        rule: { max_ratio: 1.5 },
        minRequests: 1,
        dryRun: false,
      },
      {
        name: 'quality_score',
        source: { kind: 'prometheus', query: 'y' },
        rule: { min: 0.8 },
        minRequests: 1,
        dryRun: true,
      },
    ];
    const run = {
      client: {
        readMetrics: async () => ({ request_count: 1000, latency_p99_ms: 2000 }),
      },
      seed: 3,
      startedAt: 0,
    } as unknown as SimulatedRun;
    const truth = { ...DEFAULT_TRUTH, ttft: { baseline: 0.5, canary: 0.75 } };
    const port = emulatedCustomMetrics(plan, truth)(run);
    const query = { route: plan.route, start: 0, end: 30_000 };
    const canary = await port.read({ ...query, versionTag: plan.canary.tag });
    const baseline = await port.read({ ...query, versionTag: plan.baseline.tag });
    expect(canary.ttft_p99_ms).toEqual({ value: 1500 });
    expect(baseline.ttft_p99_ms).toEqual({ value: 1000 });
    expect(canary.quality_score).toMatchObject({ value: null });
  });
});
