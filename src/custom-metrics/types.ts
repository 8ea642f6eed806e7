/**
 * User-defined metrics (`analysis.metrics:` in a plan): each read per version over the same
 * window as the built-in ones, from PromQL or from an HTTP JSON API, and judged by the same
 * evaluation, or only shown and journaled (`dry_run: true`). JSON field names are snake_case.
 */
import type { MetricRule } from '../evaluation/types.js';

export type { MetricRule } from '../evaluation/types.js';

export interface HttpHeader {
  name: string;
  /** A plain value (never a secret: the schema refuses secret-looking headers without `env`). */
  value?: string | undefined;
  /** Env var holding the value, read when the rollout starts. */
  env?: string | undefined;
  /** Put before the env var's value, e.g. `Bearer `. */
  prefix?: string | undefined;
}

export type CustomSource =
  | {
      kind: 'prometheus';
      /** PromQL with `{{version_tag}}`, `{{route}}`, `{{window}}`; one number per version. */
      query: string;
    }
  | {
      kind: 'http';
      /** URL template; placeholders are URL-encoded. No credentials in it. */
      url: string;
      method: 'GET' | 'POST';
      headers: HttpHeader[];
      /** POST body template (JSON); placeholders in its strings are filled in. */
      body?: unknown;
      /** JSONPath to the number in the answer, e.g. `$.data.mean`. */
      path: string;
    };

export interface CustomMetricConfig {
  /** `[a-z][a-z0-9_]*`, unique in the plan. */
  name: string;
  source: CustomSource;
  rule: MetricRule;
  /** Canary requests in the window before this metric counts (default: analysis.min_requests). */
  minRequests: number;
  /** Compute, show and journal it, but never fail a check on it. */
  dryRun: boolean;
}

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
