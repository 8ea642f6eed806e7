import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/analysis/types.js';
import {
  formatCost,
  formatCostRaw,
  formatDuration,
  formatElapsed,
  formatMs,
  formatRate,
  formatWeight,
  outcomeHeadline,
} from '../../src/format.js';
import { describeCheck } from '../../src/reporters/check-text.js';
import { boundsFromChecks } from '../../src/reporters/table.js';

describe('format helpers', () => {
  it.each([
    [0.0041, '0.41%'],
    [0.02, '2.00%'],
    [0.091, '9.10%'],
    [0.125, '12.5%'],
    [0, '0.00%'],
    [0.0000123, '0.0012%'],
    [null, '–'],
    [Number.NaN, '–'],
  ])('rate %s → %s', (v, s) => expect(formatRate(v)).toBe(s));

  it.each([
    [25, '25%'],
    [12.5, '12.5%'],
    [33.33, '33.33%'],
  ])('weight %s → %s', (v, s) => expect(formatWeight(v)).toBe(s));

  it.each([
    [1820, '1820ms'],
    [412.6, '413ms'],
    [12_345, '12.3s'],
  ])('ms %s → %s', (v, s) => expect(formatMs(v)).toBe(s));

  it('cost per token in $/Mtok and exponent form', () => {
    expect(formatCost(0.0000148)).toBe('$14.8/Mtok');
    expect(formatCost(0.000002)).toBe('$2/Mtok');
    expect(formatCost(null)).toBe('–');
    expect(formatCostRaw(0.0000148)).toBe('1.48e-5');
    expect(formatCostRaw(0.00002)).toBe('2e-5');
  });

  it.each([
    [5_400_000, '1h30m'],
    [3_600_000, '1h'],
    [45_000, '45s'],
    [150_000, '2m30s'],
    [3_605_000, '1h'],
    [93_600_000, '1d2h'],
    [0, '0s'],
    [500, '500ms'],
  ])('duration %s → %s', (v, s) => expect(formatDuration(v)).toBe(s));

  it('elapsed since start', () => {
    expect(formatElapsed(245_000)).toBe('+04:05');
    expect(formatElapsed(3_723_000)).toBe('+1:02:03');
    expect(formatElapsed(-5)).toBe('+00:00');
  });
});

describe('outcomeHeadline', () => {
  it('leads with the outcome only when the summary does not', () => {
    expect(outcomeHeadline('rolled_back', 'rolled back at stage 2/4: x')).toBe('rolled back at stage 2/4: x');
    expect(outcomeHeadline('rolled_back', 'not enough data')).toBe('rolled back: not enough data');
    expect(outcomeHeadline('rollback_failed', 'rollback NOT confirmed (x)')).toBe(
      'rollback NOT confirmed (x)',
    );
  });
});

describe('describeCheck', () => {
  const base = { id: 'x', reason: 'r' } as const;
  it('states values, the bound and the direction that decided the check', () => {
    const pass: CheckResult = {
      ...base,
      metric: 'latency_p99_ms',
      kind: 'threshold',
      status: 'pass',
      value: 1820,
      bound: 2500,
    };
    const fail: CheckResult = {
      ...base,
      metric: 'error_rate',
      kind: 'threshold',
      status: 'fail',
      value: 0.091,
      bound: 0.02,
    };
    const cmp: CheckResult = {
      ...base,
      metric: 'latency_p99_ms',
      kind: 'comparison',
      status: 'fail',
      value: 3100,
      baseline: 2100,
      bound: 2520,
    };
    const none: CheckResult = {
      ...base,
      metric: 'cost_per_token',
      kind: 'threshold',
      status: 'no_data',
      value: null,
      bound: 0.00002,
    };
    const unbounded: CheckResult = {
      ...base,
      metric: 'error_rate',
      kind: 'comparison',
      status: 'fail',
      value: 0.05,
      reason: 'baseline had no data',
    };
    expect(describeCheck(pass)).toBe('p99 1820ms ≤ 2500ms');
    expect(describeCheck(fail)).toBe('error_rate 9.10% > max 2.00%');
    expect(describeCheck(cmp)).toBe('p99 3100ms > 2520ms (baseline 2100ms)');
    expect(describeCheck(none)).toBe('cost no data');
    expect(describeCheck(unbounded)).toBe('error_rate 5.00%: baseline had no data');
  });

  it('takes the tightest bound per metric, and only thresholds when asked', () => {
    const checks: CheckResult[] = [
      { ...base, metric: 'latency_p99_ms', kind: 'threshold', status: 'pass', value: 1, bound: 2500 },
      { ...base, metric: 'latency_p99_ms', kind: 'comparison', status: 'pass', value: 1, bound: 2200 },
      { ...base, metric: 'error_rate', kind: 'comparison', status: 'no_data', value: null, bound: null },
    ];
    expect(boundsFromChecks(checks)).toEqual({ latency_p99_ms: 2200 });
    expect(boundsFromChecks(checks, ['threshold'])).toEqual({ latency_p99_ms: 2500 });
  });
});
