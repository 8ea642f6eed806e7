/** analysis.metrics in the engine: the same evaluation decides, dry-run metrics never do. */
import { describe, expect, it } from 'vitest';
import type { CustomMetricsPort } from '../../src/custom-metrics/types.js';
import type { CustomMetricConfig } from '../../src/domain/plan.js';
import { ExitCode } from '../../src/errors.js';
import { CANARY, harness, MIN } from './harness.js';

const quality = (dryRun: boolean): CustomMetricConfig => ({
  name: 'quality',
  source: { kind: 'http', url: 'https://s/x', method: 'GET', headers: [], path: '$.v' },
  rule: { min: 0.8 },
  minRequests: 1,
  dryRun,
});

/** The canary's quality is `canary`, the baseline's 0.9; counts reads per version. */
function port(canary: number): CustomMetricsPort & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async read(q) {
      reads.push(q.versionTag);
      return { quality: { value: q.versionTag === CANARY ? canary : 0.9 } };
    },
  };
}

function withMetric(dryRun: boolean) {
  const h = harness({
    stages: [
      { weight: 10, bakeMs: 5 * MIN },
      { weight: 100, bakeMs: 0 },
    ],
  });
  h.plan.analysis.customMetrics = [quality(dryRun)];
  return h;
}

describe('custom metrics in the engine', () => {
  it('a failing custom metric rolls back like a failing built-in one, with its reason', async () => {
    const h = withMetric(false);
    const result = await h.run({ customMetrics: port(0.5) });
    expect(result).toMatchObject({ outcome: 'rolled_back', exitCode: ExitCode.RolledBack, cause: 'health' });
    expect(result.summary).toContain('quality 0.5 < min 0.8');
  });

  it('a failing dry-run metric is reported on every evaluation and the canary is promoted', async () => {
    const h = withMetric(true);
    const p = port(0.5);
    const result = await h.run({ customMetrics: p });
    expect(result.outcome).toBe('promoted');
    const custom = h.of('evaluation').flatMap((e) => e.evaluation.custom ?? []);
    expect(custom.length).toBeGreaterThan(0);
    expect(custom.every((c) => c.dry_run && c.status === 'fail')).toBe(true);
    expect(p.reads).toContain(CANARY);
  });

  it('a counted metric that cannot be read is a failed metrics read (max_metric_errors, then the policy)', async () => {
    const h = withMetric(false);
    const result = await h.run({
      customMetrics: {
        read: async () => {
          throw new Error('quality: GET https://s/x answered HTTP 500');
        },
      },
    });
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'metrics_unavailable' });
    expect(h.of('metrics_error')[0]?.message).toContain('quality: GET https://s/x answered HTTP 500');
  });

  it('refuses to start without a reader when the plan has custom metrics (a wiring bug, not a verdict)', async () => {
    const h = withMetric(false);
    await expect(h.run()).rejects.toMatchObject({ exitCode: ExitCode.Internal });
  });

  describe("with significance on (the stage's paired tests and error control)", () => {
    const ttft: CustomMetricConfig = {
      name: 'ttft_p99_ms',
      source: { kind: 'prometheus', query: 'x' },
      rule: { max: 2000, max_ratio: 1.5 },
      minRequests: 1,
      dryRun: false,
    };
    /** TTFT p99 per window: the baseline 800 ms with ±4 % noise, the canary `ratio` times it. */
    function ttftPort(ratio: number, shared?: { from: number; to: number }): CustomMetricsPort {
      return {
        async read(q) {
          const k = Math.floor(q.end / 30_000);
          const noise = 1 + 0.04 * Math.sin(k * 1.7 + (q.versionTag === CANARY ? 2 : 0));
          let value = 800 * noise * (q.versionTag === CANARY ? ratio : 1);
          if (shared && q.end - shared.from >= 0 && q.end < shared.to) value *= 3;
          return { ttft_p99_ms: { value } };
        },
      };
    }
    function planned() {
      const h = harness({
        stages: [
          { weight: 10, bakeMs: 5 * MIN },
          { weight: 100, bakeMs: MIN },
        ],
        analysis: {
          windowMs: 30_000,
          minRequests: 1,
          failureLimit: 1,
          thresholds: {},
          baselineComparison: {},
          significance: { confidence: 0.99, minWindows: 4 },
        },
      });
      h.plan.analysis.customMetrics = [ttft];
      return h;
    }

    it('a canary 1.5 times past its ratio bound is rolled back by the paired test, under the stage budget', async () => {
      const h = planned();
      const result = await h.run({ customMetrics: ttftPort(2.25) });
      expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'health' });
      expect(result.summary).toMatch(/ttft_p99_ms .* paired over \d windows: above the bound beyond noise/);
      const last = h.of('evaluation').at(-1)?.evaluation;
      expect(last?.error_control).toMatchObject({ tests_per_stage: 2, custom_tests_per_stage: 2 });
    });

    it('a canary at its bound is promoted; both versions past the max holds the stage instead of failing it', async () => {
      const h = planned();
      const start = h.clock.now();
      const result = await h.run({
        customMetrics: ttftPort(1.45, { from: start + 2 * MIN, to: start + 3 * MIN }),
      });
      expect(result.outcome).toBe('promoted');
      const held = h.of('evaluation').filter((e) => e.evaluation.verdict === 'hold');
      expect(held.length).toBeGreaterThan(0);
      expect(held[0]?.evaluation.custom?.[0]?.reason).toContain('both versions degraded (shared incident)');
    });

    it('a shared incident on a custom metric that outlasts hold_deadline rolls back for it, naming the metric', async () => {
      const h = planned();
      const start = h.clock.now();
      const result = await h.run({ customMetrics: ttftPort(1, { from: start, to: start + 10 * 60 * MIN }) });
      expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'shared_incident' });
      expect(result.summary).toMatch(
        /past the hold deadline of 30m .*ttft_p99_ms canary \d+ > max 2000, baseline \d+/,
      );
    });
  });
});
