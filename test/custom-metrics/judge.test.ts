import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/analysis/types.js';
import { customReason, judgeCustom, withCustomChecks } from '../../src/custom-metrics/judge.js';
import type { CustomMetricConfig } from '../../src/domain/plan.js';

const metric = (over: Partial<CustomMetricConfig>): CustomMetricConfig => ({
  name: 'ttft_p99_ms',
  source: { kind: 'prometheus', query: 'x{version_tag="{{version_tag}}"}' },
  rule: { max: 2000, max_ratio: 1.5 },
  minRequests: 100,
  dryRun: false,
  ...over,
});

const passing: Evaluation = {
  at: 0,
  windowStart: 0,
  windowEnd: 1,
  canary: null,
  baseline: null,
  canaryRequests: 500,
  minRequests: 100,
  checks: [],
  verdict: 'pass',
};

describe('custom metric checks', () => {
  it('holds the canary against the bound and the baseline, the bound reached exactly passing', () => {
    const checks = judgeCustom({
      metrics: [metric({})],
      canary: { ttft_p99_ms: { value: 1500 } },
      baseline: { ttft_p99_ms: { value: 1000 } },
      canaryRequests: 500,
      significance: false,
    });
    expect(checks.map((c) => [c.id, c.status, c.bound])).toEqual([
      ['ttft_p99_ms.max', 'pass', 2000],
      ['ttft_p99_ms.max_ratio', 'pass', 1500],
    ]);
    expect(checks[1]?.reason).toBe('ttft_p99_ms 1500 ≤ 1.5× baseline 1000 = 1500');
  });

  it('is no data below its min_requests, or without a value, never a pass', () => {
    const short = judgeCustom({
      metrics: [metric({})],
      canary: { ttft_p99_ms: { value: 1 } },
      baseline: { ttft_p99_ms: { value: 1 } },
      canaryRequests: 20,
      significance: false,
    });
    expect(short.every((c) => c.status === 'no_data' && c.reason.includes('20/100 canary requests'))).toBe(
      true,
    );
    const none = judgeCustom({
      metrics: [metric({})],
      canary: { ttft_p99_ms: { value: null, note: 'no series' } },
      baseline: null,
      canaryRequests: 500,
      significance: false,
    });
    expect(none).toEqual([
      expect.objectContaining({
        id: 'ttft_p99_ms.max',
        status: 'no_data',
        reason: 'ttft_p99_ms no data: canary: no series',
      }),
    ]);
  });

  it('skips comparisons without baseline traffic (a 100 % stage), like the built-in checks', () => {
    const checks = judgeCustom({
      metrics: [metric({})],
      canary: { ttft_p99_ms: { value: 900 } },
      baseline: null,
      canaryRequests: 500,
      significance: true,
    });
    expect(checks.map((c) => c.id)).toEqual(['ttft_p99_ms.max']);
  });

  it('says no test ran when significance is on but no stage budget was given', () => {
    const [, ratio] = judgeCustom({
      metrics: [metric({})],
      canary: { ttft_p99_ms: { value: 1600 } },
      baseline: { ttft_p99_ms: { value: 1000 } },
      canaryRequests: 500,
      significance: true,
    });
    expect(ratio?.reason).toContain('(no significance test: no stage error budget given)');
    expect(ratio?.status).toBe('fail');
  });

  it('a failing check fails the evaluation; a dry-run one never moves the verdict', () => {
    const failing = judgeCustom({
      metrics: [metric({ rule: { min: 0.8 }, name: 'quality' })],
      canary: { quality: { value: 0.5 } },
      baseline: null,
      canaryRequests: 500,
      significance: false,
    });
    const e = withCustomChecks(passing, failing);
    expect(e.verdict).toBe('fail');
    expect(customReason(e)).toBe('quality 0.5 < min 0.8');
    const dry = judgeCustom({
      metrics: [metric({ rule: { min: 0.8 }, name: 'quality', dryRun: true })],
      canary: { quality: { value: 0.5 } },
      baseline: null,
      canaryRequests: 500,
      significance: false,
    });
    const d = withCustomChecks(passing, dry);
    expect(d.verdict).toBe('pass');
    expect(d.custom?.[0]).toMatchObject({
      status: 'fail',
      dry_run: true,
      reason: 'quality 0.5 < min 0.8 [dry run]',
    });
    expect(customReason(d)).toBe('');
  });

  it('no data on a counted metric turns a pass into no data; a failed read of a dry-run one is shown as no data', () => {
    const e = withCustomChecks(
      passing,
      judgeCustom({
        metrics: [metric({})],
        canary: { ttft_p99_ms: { value: null } },
        baseline: null,
        canaryRequests: 500,
        significance: false,
      }),
    );
    expect(e.verdict).toBe('no_data');
    const dry = judgeCustom({
      metrics: [metric({ dryRun: true, rule: { max: 1 } })],
      canary: { ttft_p99_ms: { error: 'HTTP 500' } },
      baseline: null,
      canaryRequests: 500,
      significance: false,
    });
    expect(dry[0]).toMatchObject({
      status: 'no_data',
      reason: 'ttft_p99_ms no data: canary: HTTP 500 [dry run]',
    });
    expect(withCustomChecks(passing, dry).verdict).toBe('pass');
  });

  it('both versions past an absolute bound is a shared incident: a hold with both values, never the canary failing', () => {
    const [max, ratio] = judgeCustom({
      metrics: [metric({})],
      canary: { ttft_p99_ms: { value: 2600 } },
      baseline: { ttft_p99_ms: { value: 2500 } },
      canaryRequests: 500,
      significance: false,
    });
    expect(max).toMatchObject({
      status: 'hold',
      baseline: 2500,
      reason: 'ttft_p99_ms: both versions degraded (shared incident): canary 2600, baseline 2500, max 2000',
    });
    // The comparison still judges the canary against the baseline: 2600 ≤ 1.5 × 2500.
    expect(ratio?.status).toBe('pass');
    const alone = judgeCustom({
      metrics: [metric({})],
      canary: { ttft_p99_ms: { value: 2600 } },
      baseline: { ttft_p99_ms: { value: 1000 } },
      canaryRequests: 500,
      significance: false,
    });
    expect(alone[0]).toMatchObject({ status: 'fail', reason: 'ttft_p99_ms 2600 > max 2000 (baseline 1000)' });
  });
});
