/**
 * User-defined metrics (`analysis.metrics:` in a plan): each read per version over the same
 * window as the built-in ones, from PromQL or from an HTTP JSON API, and judged by the same
 * evaluation, or only shown and journaled (`dry_run: true`). JSON field names are snake_case.
 * What the plan says of each (CustomMetricConfig, its source and rule) is in src/domain/plan.ts.
 */
import type { MetricRule } from '../domain/plan.js';

/** One version's value of one metric: a number, no data (with why), or a failed read. */
export type CustomValue = { value: number | null; note?: string | undefined } | { error: string };

/** name → value, for one version and window. */
export type CustomValues = Record<string, CustomValue>;

export interface CustomQuery {
  versionTag: string;
  route: string;
  start: number;
  end: number;
}

/**
 * Reads every custom metric for one version. Resolves with each metric's value, a failure
 * included; rejects only when a metric that can fail a check (not dry-run) could not be read,
 * which the engine counts as a failed metrics read like any other.
 */
export interface CustomMetricsPort {
  read(query: CustomQuery, call?: { signal?: AbortSignal | undefined }): Promise<CustomValues>;
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
