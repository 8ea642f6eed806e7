/** analysis.metrics under the sequential analysis: paired tests, shared budget, shared-incident holds. */
import { describe, expect, it } from 'vitest';
import { errorBudgetFor } from '../../src/analysis/sequential.js';
import type { Evaluation } from '../../src/analysis/types.js';
import { analyseCustom } from '../../src/custom-metrics/analyse.js';
import { boundTest } from '../../src/custom-metrics/bound-test.js';
import { withCustomChecks } from '../../src/custom-metrics/judge.js';
import { judgeCustomSequential, pairedDifferences } from '../../src/custom-metrics/sequential.js';
import type { CustomMetricConfig } from '../../src/domain/plan.js';

const metric = (over: Partial<CustomMetricConfig> = {}): CustomMetricConfig => ({
  name: 'ttft_p99_ms',
  source: { kind: 'prometheus', query: 'x' },
  rule: { max: 2000, max_ratio: 1.5 },
  minRequests: 100,
  dryRun: false,
  ...over,
});

const W = 30_000;

/** Past looks of a stage: one per 30 s window, each with the metric's canary and baseline values. */
function history(
  values: [number, number][],
  name = 'ttft_p99_ms',
  rule: 'max_ratio' | 'min_ratio' = 'max_ratio',
) {
  return values.map(
    ([canary, baseline], i): Evaluation => ({
      at: (i + 1) * W,
      windowStart: i * W,
      windowEnd: (i + 1) * W,
      canary: null,
      baseline: null,
      canaryRequests: 500,
      minRequests: 100,
      checks: [],
      verdict: 'pass',
      custom: [
        {
          id: `${name}.${rule}`,
          metric: name,
          rule,
          status: 'pass',
          dry_run: false,
          value: canary,
          baseline,
          bound: null,
          reason: '',
        },
      ],
    }),
  );
}

/** Baseline around 1200 ms with ±5 % noise per window, the canary `ratio` times it with its own noise. */
function windows(ratio: number, n: number): [number, number][] {
  const noise = [1.03, 0.96, 1.05, 0.98, 1.01, 0.97, 1.04, 0.99];
  return Array.from({ length: n }, (_, i) => {
    const b = 1200 * (noise[i % noise.length] ?? 1);
    return [b * ratio * (noise[(i + 3) % noise.length] ?? 1), b];
  });
}

function judge(pairs: [number, number][], over: Partial<CustomMetricConfig> = {}, alpha = 0.001) {
  const past = history(pairs.slice(0, -1));
  const [c, b] = pairs[pairs.length - 1] as [number, number];
  const m = metric(over);
  return judgeCustomSequential({
    metrics: [m],
    canary: { [m.name]: { value: c } },
    baseline: { [m.name]: { value: b } },
    canaryRequests: 500,
    history: past,
    windowStart: (pairs.length - 1) * W,
    alpha,
    confidence: 0.99,
    minWindows: 4,
  });
}

describe('custom metrics with significance on', () => {
  it('a comparison waits for the windows the paired test needs, and says how many it has', () => {
    const { checks, tested } = judge(windows(1, 2));
    const ratio = checks.find((c) => c.rule === 'max_ratio');
    expect(ratio?.status).toBe('no_data');
    expect(ratio?.reason).toContain('2 of the 4 non-overlapping windows the paired test needs');
    expect(tested).toBe(false);
  });

  it('a canary at its ratio bound passes; one 1.5 times past it fails beyond noise', () => {
    const at = judge(windows(1.5, 6), { rule: { max_ratio: 1.5 } });
    expect(at.checks[0]).toMatchObject({
      status: 'pass',
      test: 'paired t over 6 windows (log ratio)',
      alpha: 0.001,
    });
    expect(at.tested).toBe(true);
    const bad = judge(windows(2.25, 6), { rule: { max_ratio: 1.5 } });
    expect(bad.checks[0]?.status).toBe('fail');
    expect(bad.checks[0]?.p_value).toBeLessThan(0.001);
    expect(bad.checks[0]?.reason).toMatch(/paired over 6 windows: above the bound beyond noise \(p [<=] /);
  });

  it('one window far past the bound is not enough on its own: the paired test looks at the stage', () => {
    const pairs = windows(1.3, 6);
    pairs[5] = [1200 * 1.9, 1200];
    const { checks } = judge(pairs, { rule: { max_ratio: 1.5 } });
    expect(checks[0]?.status).toBe('pass');
  });

  it('lower-is-worse rules test the other way; values at or below 0 are compared as differences', () => {
    const quality = { name: 'quality', rule: { min_ratio: 0.95 } };
    const scores: [number, number][] = [0.6, 0.62, 0.59, 0.61, 0.6].map((c) => [c, 0.9]);
    const low = judgeCustomSequential({
      metrics: [metric(quality)],
      canary: { quality: { value: 0.6 } },
      baseline: { quality: { value: 0.9 } },
      canaryRequests: 500,
      history: history(scores, 'quality', 'min_ratio'),
      windowStart: scores.length * W,
      alpha: 0.001,
      confidence: 0.99,
      minWindows: 4,
    });
    expect(low.checks[0]).toMatchObject({ status: 'fail', rule: 'min_ratio' });
    expect(pairedDifferences('max_increase', 0.01, [{ canary: 0.02, baseline: 0 }])).toEqual({
      d: [0.01],
      scale: 'difference',
    });
    expect(pairedDifferences('max_ratio', 2, [{ canary: 0, baseline: 1 }]).scale).toBe('difference');
  });

  it('an absolute bound both versions are past is a hold (shared incident), the canary alone past it a failure', () => {
    const shared = judge([[2600, 2500]], { rule: { max: 2000 } });
    expect(shared.checks[0]).toMatchObject({ status: 'hold', value: 2600, baseline: 2500 });
    expect(shared.checks[0]?.reason).toContain('both versions degraded (shared incident)');
    // Within the metric's own margin of a baseline just under the bound: no worse than the baseline.
    const margin = judge([[2100, 1900]], { rule: { max: 2000, max_increase: 300 } });
    expect(margin.checks[0]?.status).toBe('hold');
    // The canary alone past it, in the first window: too early to tell from noise, so no data.
    const early = judge([[2600, 1000]], { rule: { max: 2000 } });
    expect(early.checks[0]).toMatchObject({ status: 'no_data' });
    expect(early.checks[0]?.reason).toBe(
      "ttft_p99_ms 2600 > max 2000 (baseline 1000) in the window; 1 of the 4 non-overlapping windows needed to tell it from the metric's noise",
    );
  });

  it('the rollout budget counts every rule of a counted metric, not dry-run ones', () => {
    const analysis = {
      significance: { confidence: 0.99 },
      baselineComparison: { error_rate: {} },
      thresholds: { error_rate: {} },
    };
    expect(errorBudgetFor([{ weight: 5, bakeMs: 1 }], analysis).tests).toBe(2);
    const customMetrics = [
      metric({ rule: { max: 2000, max_ratio: 1.5 } }),
      metric({ name: 'q', rule: { min_ratio: 0.9, max_decrease: 0.1 } }),
      metric({ name: 'd', rule: { max_ratio: 2 }, dryRun: true }),
    ];
    expect(errorBudgetFor([{ weight: 5, bakeMs: 1 }], { ...analysis, customMetrics }).tests).toBe(6);
  });

  it('folds into the look: a custom hold holds a passing evaluation, and a look only custom tests spent spends', () => {
    const builtIn: Evaluation = {
      at: 6 * W,
      windowStart: 5 * W,
      windowEnd: 6 * W,
      canary: null,
      baseline: null,
      canaryRequests: 500,
      minRequests: 100,
      checks: [],
      verdict: 'pass',
      error_control: {
        rollout_confidence: 0.99,
        stage_confidence: 0.9975,
        look_alpha: 0,
        bake_fraction: 0.3,
        spent_fraction: 0.1,
        extra_looks: 0,
        tests_per_stage: 1,
        judged_stages: 4,
      },
    };
    const pairs = windows(1, 6);
    const [c, b] = pairs[5] as [number, number];
    const out = analyseCustom(builtIn, {
      metrics: [metric({ rule: { max_ratio: 1.5 } })],
      canary: { ttft_p99_ms: { value: c } },
      baseline: { ttft_p99_ms: { value: b } },
      significance: { confidence: 0.99, minWindows: 4 },
      history: history(pairs.slice(0, 5)),
      stage: { bakeFraction: 0.3, budget: { rolloutAlpha: 0.01, stages: 4, tests: 1 } },
    });
    expect(out.verdict).toBe('pass');
    expect(out.error_control).toMatchObject({ spent_fraction: 0.3, custom_tests_per_stage: 1 });
    expect(out.error_control?.look_alpha).toBeGreaterThan(0);
    expect(out.custom?.[0]?.alpha).toBe(out.error_control?.look_alpha);
    const held = withCustomChecks(builtIn, judge([[2600, 2500]], { rule: { max: 2000 } }).checks);
    expect(held.verdict).toBe('hold');
    const noData = { ...builtIn, verdict: 'no_data' as const };
    expect(withCustomChecks(noData, judge([[2600, 2500]], { rule: { max: 2000 } }).checks).verdict).toBe(
      'hold',
    );
  });

  it("an absolute bound is judged against the metric's own noise: a window just past it passes, a clear breach fails", () => {
    // A 429 share around 1.5 % moving ±0.3 points per window; max 2 %.
    const shares = [0.0149, 0.0181, 0.0122, 0.0157, 0.0139, 0.0168];
    const judgeShare = (current: number) =>
      judgeCustomSequential({
        metrics: [metric({ name: 'rate_limited_share', rule: { max: 0.02 } })],
        canary: { rate_limited_share: { value: current } },
        baseline: { rate_limited_share: { value: 0.005 } },
        canaryRequests: 1500,
        history: history(
          shares.map((v) => [v, 0.005]),
          'rate_limited_share',
        ),
        windowStart: shares.length * W,
        alpha: 0.0002,
        confidence: 0.99,
        minWindows: 4,
      });
    const noise = judgeShare(0.0206);
    expect(noise.checks[0]).toMatchObject({ status: 'pass', alpha: 0.0001 });
    expect(noise.checks[0]?.reason).toMatch(
      /> max 0\.02 .* in the window; against its spread over 7 windows: not beyond noise/,
    );
    expect(noise.tested).toBe(true);
    const breach = judgeShare(0.09);
    expect(breach.checks[0]?.status).toBe('fail');
    expect(breach.checks[0]?.test).toBe('t against the spread of 7 windows (this window)');
    // A steady breach each window shows only a little: the stage's mean is past the bound.
    const steady = boundTest(
      [0.0235, 0.024, 0.0262, 0.0251, 0.0229, 0.0247, 0.0255, 0.0238, 0.0244, 0.025],
      0.02,
      true,
      0.0002,
    );
    expect(steady.fail).toBe(true);
    expect(steady.meanP).toBeLessThan(steady.windowP);
    // A min bound is the mirror image.
    expect(boundTest([0.5, 0.9, 0.91, 0.89, 0.9], 0.8, false, 0.0002).windowP).toBeLessThan(0.0001);
  });
});
