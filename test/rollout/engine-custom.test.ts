/** analysis.metrics in the engine: the same evaluation decides, dry-run metrics never do. */
import { describe, expect, it } from 'vitest';
import type { CustomMetricConfig, CustomMetricsPort } from '../../src/custom-metrics/types.js';
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
});
