import { describe, expect, it } from 'vitest';
import { compareToBaseline, withinBound } from '../../src/analysis/compare.js';
import { evaluate, verdictReason } from '../../src/analysis/evaluate.js';
import type { JudgedMetric } from '../../src/domain/metrics.js';
import type { AnalysisConfig } from '../../src/domain/plan.js';
import type { VersionMetrics } from '../../src/domain/relay.js';
import { formatMetric } from '../../src/format.js';

function metrics(tag: string, values: Partial<VersionMetrics> = {}): VersionMetrics {
  return {
    version_tag: tag,
    start_time: '2026-11-21T09:55:00.000Z',
    end_time: '2026-11-21T10:00:00.000Z',
    request_count: 1000,
    error_count: 10,
    error_rate: 0.01,
    latency_p50_ms: 300,
    latency_p99_ms: 1500,
    cost_per_token: 0.00001,
    ...values,
  };
}

type Config = Pick<AnalysisConfig, 'minRequests' | 'thresholds' | 'baselineComparison'>;

function run(canary: VersionMetrics | null, baseline: VersionMetrics | null, config: Partial<Config>) {
  return evaluate({
    canary,
    baseline,
    config: { minRequests: 200, thresholds: {}, baselineComparison: {}, ...config },
    at: 3,
    windowStart: 1,
    windowEnd: 2,
  });
}

function check(evaluation: ReturnType<typeof run>, id: string) {
  const c = evaluation.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${evaluation.checks.map((x) => x.id).join(', ')}`);
  return c;
}

describe('thresholds', () => {
  const cases: {
    metric: JudgedMetric;
    max: number;
    value: number;
    status: 'pass' | 'fail';
    reason: string;
  }[] = [
    { metric: 'error_rate', max: 0.02, value: 0.031, status: 'fail', reason: 'error_rate 3.10% > max 2.00%' },
    { metric: 'error_rate', max: 0.02, value: 0.02, status: 'pass', reason: 'error_rate 2.00% ≤ max 2.00%' },
    {
      metric: 'error_rate',
      max: 0.02,
      value: 0.0200001,
      status: 'fail',
      reason: 'error_rate 2.00% > max 2.00%',
    },
    { metric: 'error_rate', max: 0, value: 0, status: 'pass', reason: 'error_rate 0.00% ≤ max 0.00%' },
    { metric: 'latency_p99_ms', max: 2500, value: 2410, status: 'pass', reason: 'p99 2410ms ≤ max 2500ms' },
    { metric: 'latency_p99_ms', max: 2500, value: 2500, status: 'pass', reason: 'p99 2500ms ≤ max 2500ms' },
    { metric: 'latency_p99_ms', max: 2500, value: 2501, status: 'fail', reason: 'p99 2501ms > max 2500ms' },
    { metric: 'latency_p50_ms', max: 800, value: 812.4, status: 'fail', reason: 'p50 812ms > max 800ms' },
    { metric: 'latency_p50_ms', max: 800, value: 42.25, status: 'pass', reason: 'p50 42.3ms ≤ max 800ms' },
    {
      metric: 'cost_per_token',
      max: 0.00002,
      value: 0.0000148,
      status: 'pass',
      reason: 'cost $14.8/Mtok ≤ max $20/Mtok',
    },
    {
      metric: 'cost_per_token',
      max: 0.00002,
      value: 0.0000201,
      status: 'fail',
      reason: 'cost $20.1/Mtok > max $20/Mtok',
    },
  ];
  it.each(cases)('$metric $value vs max $max → $status', ({ metric, max, value, status, reason }) => {
    const e = run(metrics('c', { [metric]: value }), null, { thresholds: { [metric]: { max } } });
    const c = check(e, `${metric}.max`);
    expect(c).toMatchObject({ status, value, bound: max, kind: 'threshold', metric, reason });
    expect(e.verdict).toBe(status);
  });

  it.each([
    ['null', null],
    ['missing', undefined],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['negative', -1],
    ['a string', '0.01'],
  ])('a %s value is no data, never a pass', (_name, raw) => {
    const canary = metrics('c');
    (canary as unknown as Record<string, unknown>).error_rate = raw;
    if (raw === undefined) delete (canary as unknown as Record<string, unknown>).error_rate;
    const e = run(canary, null, { thresholds: { error_rate: { max: 0.02 }, latency_p99_ms: { max: 2500 } } });
    expect(check(e, 'error_rate.max').status).toBe('no_data');
    expect(check(e, 'error_rate.max').reason).toMatch(/^no data: canary error_rate (missing|unusable)/);
    expect(check(e, 'latency_p99_ms.max').status).toBe('pass');
    expect(e.verdict).toBe('no_data');
  });
});

describe('minimum traffic', () => {
  const config: Partial<Config> = {
    thresholds: { error_rate: { max: 0.02 } },
    baselineComparison: { latency_p99_ms: { max_ratio: 1.25 } },
  };

  it('too few canary requests makes every check no data, even a clear failure', () => {
    const e = run(metrics('c', { request_count: 34, error_rate: 0.5 }), metrics('b'), config);
    expect(e.checks.map((c) => c.status)).toEqual(['no_data', 'no_data']);
    expect(e.checks.every((c) => c.reason === 'no data: 34/200 canary requests in window')).toBe(true);
    expect(e.verdict).toBe('no_data');
    expect(e.canaryRequests).toBe(34);
    expect(verdictReason(e)).toContain('34/200 canary requests');
  });

  it('exactly min_requests is enough', () => {
    const e = run(metrics('c', { request_count: 200 }), metrics('b'), config);
    expect(e.verdict).toBe('pass');
  });

  it('199 is not', () => {
    expect(run(metrics('c', { request_count: 199 }), metrics('b'), config).verdict).toBe('no_data');
  });

  it('no canary metrics at all is no data', () => {
    const e = run(null, metrics('b'), config);
    expect(e.verdict).toBe('no_data');
    expect(e.canaryRequests).toBeNull();
    expect(e.checks[0]?.reason).toBe('no data: no canary metrics for the window');
  });

  it('an unknown request count is no data when a minimum is set, and judged when it is 0', () => {
    expect(run(metrics('c', { request_count: null }), metrics('b'), config).verdict).toBe('no_data');
    expect(
      run(metrics('c', { request_count: null }), metrics('b'), { ...config, minRequests: 0 }).verdict,
    ).toBe('pass');
  });

  it('no checks configured: passes with enough data, no data without', () => {
    expect(run(metrics('c'), null, {}).verdict).toBe('pass');
    expect(run(metrics('c', { request_count: 3 }), null, {}).verdict).toBe('no_data');
  });
});

describe('baseline comparisons', () => {
  it('max_ratio pass names the values and the computed bound', () => {
    const e = run(metrics('c', { latency_p99_ms: 2410 }), metrics('b', { latency_p99_ms: 2100 }), {
      baselineComparison: { latency_p99_ms: { max_ratio: 1.25 } },
    });
    expect(check(e, 'latency_p99_ms.vs_baseline')).toMatchObject({
      status: 'pass',
      kind: 'comparison',
      value: 2410,
      baseline: 2100,
      bound: 2625,
      reason: 'p99 2410ms ≤ 1.25 × baseline 2100ms = 2625ms',
    });
  });

  it('max_ratio fail above the bound, pass exactly on it', () => {
    const cfg = { baselineComparison: { latency_p99_ms: { max_ratio: 1.25 } } };
    const fail = run(metrics('c', { latency_p99_ms: 2626 }), metrics('b', { latency_p99_ms: 2100 }), cfg);
    expect(check(fail, 'latency_p99_ms.vs_baseline')).toMatchObject({
      status: 'fail',
      reason: 'p99 2626ms > 1.25 × baseline 2100ms = 2625ms',
    });
    expect(fail.verdict).toBe('fail');
    const edge = run(metrics('c', { latency_p99_ms: 2625 }), metrics('b', { latency_p99_ms: 2100 }), cfg);
    expect(edge.verdict).toBe('pass');
  });

  it('max_increase on error rate reads in percentage points; the boundary passes despite float noise', () => {
    const cfg = { baselineComparison: { error_rate: { max_increase: 0.01 } } };
    const edge = run(metrics('c', { error_rate: 0.035 }), metrics('b', { error_rate: 0.025 }), cfg);
    expect(0.035 - 0.025 > 0.01).toBe(true); // the float trap this guards against
    expect(check(edge, 'error_rate.vs_baseline')).toMatchObject({
      status: 'pass',
      reason: 'error_rate 3.50% ≤ baseline 2.50% + 1.00 pp = 3.50%',
    });
    const fail = run(metrics('c', { error_rate: 0.031 }), metrics('b', { error_rate: 0.015 }), cfg);
    expect(check(fail, 'error_rate.vs_baseline')).toMatchObject({
      status: 'fail',
      bound: 0.025,
      reason: 'error_rate 3.10% > baseline 1.50% + 1.00 pp = 2.50%',
    });
  });

  it('cost ratio', () => {
    const cfg = { baselineComparison: { cost_per_token: { max_ratio: 1.1 } } };
    const fail = run(
      metrics('c', { cost_per_token: 0.0000125 }),
      metrics('b', { cost_per_token: 0.00001 }),
      cfg,
    );
    expect(check(fail, 'cost_per_token.vs_baseline')).toMatchObject({
      status: 'fail',
      reason: 'cost $12.5/Mtok > 1.1 × baseline $10/Mtok = $11/Mtok',
    });
  });

  it('both bounds: the tighter one decides, and only the violated one is named on failure', () => {
    const cfg = { baselineComparison: { latency_p99_ms: { max_ratio: 1.25, max_increase: 300 } } };
    const e = run(metrics('c', { latency_p99_ms: 2500 }), metrics('b', { latency_p99_ms: 2100 }), cfg);
    expect(check(e, 'latency_p99_ms.vs_baseline')).toMatchObject({
      status: 'fail',
      bound: 2400,
      reason: 'p99 2500ms > baseline 2100ms + 300ms = 2400ms',
    });
    const ok = run(metrics('c', { latency_p99_ms: 2300 }), metrics('b', { latency_p99_ms: 2100 }), cfg);
    expect(check(ok, 'latency_p99_ms.vs_baseline').reason).toBe(
      'p99 2300ms ≤ 1.25 × baseline 2100ms = 2625ms and ≤ baseline 2100ms + 300ms = 2400ms',
    );
  });

  it('a zero baseline: ratio undefined, a canary at ~0 passes, any real value fails', () => {
    const cfg = { baselineComparison: { error_rate: { max_ratio: 1.5 } } };
    const zero = run(metrics('c', { error_rate: 0 }), metrics('b', { error_rate: 0 }), cfg);
    expect(zero.verdict).toBe('pass');
    const tiny = run(metrics('c', { error_rate: 0.00005 }), metrics('b', { error_rate: 0 }), cfg);
    expect(tiny.verdict).toBe('pass');
    const real = run(metrics('c', { error_rate: 0.002 }), metrics('b', { error_rate: 0 }), cfg);
    expect(check(real, 'error_rate.vs_baseline')).toMatchObject({
      status: 'fail',
      reason: 'error_rate 0.20% > 1.5 × baseline 0.00% (ratio undefined at 0; allowing 0.01%)',
    });
  });

  it.each([
    ['no baseline metrics', null, 'no data: no baseline metrics for the window'],
    [
      'a baseline on too little traffic',
      metrics('b', { request_count: 50 }),
      'no data: 50/200 baseline requests in window',
    ],
    ['a missing baseline value', metrics('b', { latency_p99_ms: null }), 'no data: baseline p99 missing'],
  ])('%s is no data for comparisons only', (_name, baseline, reason) => {
    const e = run(metrics('c'), baseline, {
      thresholds: { latency_p99_ms: { max: 2500 } },
      baselineComparison: { latency_p99_ms: { max_ratio: 1.25 } },
    });
    expect(check(e, 'latency_p99_ms.max').status).toBe('pass');
    expect(check(e, 'latency_p99_ms.vs_baseline')).toMatchObject({ status: 'no_data', reason });
    expect(e.verdict).toBe('no_data');
  });

  it('a failure outranks missing data', () => {
    const e = run(metrics('c', { error_rate: 0.5 }), null, {
      thresholds: { error_rate: { max: 0.02 } },
      baselineComparison: { latency_p99_ms: { max_ratio: 1.25 } },
    });
    expect(e.verdict).toBe('fail');
    expect(verdictReason(e)).toBe('error_rate 50.0% > max 2.00%');
  });

  it('compareToBaseline is usable on its own (the seam for a significance test)', () => {
    expect(
      compareToBaseline({
        metric: 'latency_p50_ms',
        rule: { max_ratio: 2 },
        canary: { value: 10, requests: 500 },
        baseline: { value: 5, requests: 5000 },
      }),
    ).toEqual({ status: 'pass', bound: 10, reason: 'p50 10ms ≤ 2 × baseline 5ms = 10ms' });
  });
});

describe('evaluation shape', () => {
  it('carries the window, metrics and every configured check in a stable order', () => {
    const c = metrics('c');
    const b = metrics('b');
    const e = run(c, b, {
      thresholds: { latency_p99_ms: { max: 2500 }, error_rate: { max: 0.02 } },
      baselineComparison: { error_rate: { max_increase: 0.01 } },
    });
    expect(e).toMatchObject({
      at: 3,
      windowStart: 1,
      windowEnd: 2,
      canary: c,
      baseline: b,
      minRequests: 200,
    });
    expect(e.checks.map((x) => x.id)).toEqual([
      'error_rate.max',
      'latency_p99_ms.max',
      'error_rate.vs_baseline',
    ]);
  });

  it('withinBound forgives only float noise', () => {
    expect(withinBound(0.1 + 0.2, 0.3)).toBe(true);
    expect(withinBound(0.30001, 0.3)).toBe(false);
    expect(withinBound(1e-12, 0)).toBe(false);
  });

  it('formats values for people', () => {
    expect(formatMetric('error_rate', 0.00654)).toBe('0.65%');
    expect(formatMetric('latency_p99_ms', 2209.6)).toBe('2210ms');
    expect(formatMetric('cost_per_token', 1.48e-5)).toBe('$14.8/Mtok');
    expect(formatMetric('cost_per_token', 3e-8)).toBe('$0.03/Mtok');
  });
});
