import type { JudgedMetric } from '../domain/metrics.js';
import type { MetricRule } from '../domain/plan.js';
import type { VersionMetrics } from '../domain/relay.js';

/**
 * `no_data` is never healthy: too few requests, or the metric is null/missing. `hold`: both
 * versions breach the same threshold at once (a shared incident); the stage waits, its bake
 * clock paused, and neither passes nor fails on it.
 */
export type CheckStatus = 'pass' | 'fail' | 'no_data' | 'hold';

export interface CheckResult {
  /** Stable id, e.g. `error_rate.max` or `latency_p99_ms.vs_baseline`. */
  id: string;
  metric: JudgedMetric;
  kind: 'threshold' | 'comparison';
  status: CheckStatus;
  /** The canary's value, or null when there is none. */
  value: number | null;
  /** The baseline's value (comparisons only). */
  baseline?: number | null;
  /** The effective bound the value was held against (e.g. baseline × ratio), when one could be computed. */
  bound?: number | null;
  /** One sentence a person can read: the values compared and why the status follows. */
  reason: string;
  /** With a significance test: its one-sided p-value (null when there was too little data to run it). */
  pValue?: number | null;
  /** With a significance test: the confidence a failure needs, e.g. 0.95. */
  confidence?: number;
  /** With a significance test: which test, and over how much data, e.g. `paired t over 6 windows`. */
  test?: string;
  /** With error control per stage: the alpha this look's test was given (its p-value must be below it to fail). */
  alpha?: number;
}

/** How the analysis controls false failures (significance on): per rollout, per stage, this look. */
export interface ErrorControl {
  /** Chance that a canary within its bounds is not rolled back for health, over the whole rollout (at least). */
  rollout_confidence: number;
  /** The same for this stage alone. */
  stage_confidence: number;
  /** The alpha each test used at this look (0 when nothing could be tested). */
  look_alpha: number;
  /** Share of the stage's bake elapsed, held time excluded. */
  bake_fraction: number;
  /** How much of the stage's planned spending is used (1 when the bake is over). */
  spent_fraction: number;
  /** Looks that tested after the bake ended (each spends half the one before from a small reserve). */
  extra_looks: number;
  /** Tests in each judged stage, `analysis.metrics` comparisons included. */
  tests_per_stage: number;
  judged_stages: number;
  /** Of tests_per_stage, the `analysis.metrics` comparisons (absent without custom metrics). */
  custom_tests_per_stage?: number;
}

export interface Evaluation {
  /** When the evaluation was made (epoch ms). */
  at: number;
  windowStart: number;
  windowEnd: number;
  canary: VersionMetrics | null;
  baseline: VersionMetrics | null;
  /** Canary requests in the window (null when unknown). */
  canaryRequests: number | null;
  minRequests: number;
  checks: CheckResult[];
  /** `fail` if any check failed; else `hold` on a shared incident; else `no_data` if data is short or any check lacks data; else `pass`. */
  verdict: CheckStatus;
  /** `analysis.metrics:` checks (src/custom-metrics/judge.ts), dry-run ones included; absent without any. */
  custom?: CustomCheck[] | undefined;
  /** Significance on: the stage's counts so far, which error-rate comparisons and min_requests judge. */
  pooled?: {
    canary_requests: number | null;
    baseline_requests: number | null;
    canary_errors: number | null;
    baseline_errors: number | null;
  };
  error_control?: ErrorControl;
  /** With verdict `no_data`: what is missing, in words (requests, windows). */
  waiting_for?: string;
}

/** One custom metric's verdict in one evaluation. */
export interface CustomCheck {
  /** e.g. `ttft_p99_ms.max_ratio`. */
  id: string;
  metric: string;
  rule: keyof MetricRule;
  /** `hold`: both versions past an absolute bound in the same window (a shared incident). */
  status: 'pass' | 'fail' | 'no_data' | 'hold';
  dry_run: boolean;
  /** The canary's value in the window. */
  value: number | null;
  /** The baseline's value in the same window. */
  baseline: number | null;
  bound: number | null;
  reason: string;
  /** Significance on, a comparison tested: its one-sided p-value. */
  p_value?: number;
  /** The alpha this look's test had to beat (the stage's spending, shared with the built-in tests). */
  alpha?: number;
  /** The plan's confidence per rollout, which this test's budget is part of. */
  confidence?: number;
  /** Which test, over how many windows, e.g. `paired t over 6 windows (log ratio)`. */
  test?: string;
}
