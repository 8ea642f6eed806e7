import type { CustomCheck } from '../custom-metrics/types.js';
import type { JudgedMetric } from '../plan/types.js';
import type { VersionMetrics } from '../relay/types.js';

/** `no_data` is never healthy: too few requests, or the metric is null/missing. */
export type CheckStatus = 'pass' | 'fail' | 'no_data';

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
  /** With a significance test: which test, and over how much data, e.g. `two-proportion z over 4 windows`. */
  test?: string;
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
  /** `fail` if any check failed; else `no_data` if data is short or any check lacks data; else `pass`. */
  verdict: CheckStatus;
  /** `analysis.metrics:` checks (src/custom-metrics/judge.ts), dry-run ones included; absent without any. */
  custom?: CustomCheck[] | undefined;
}
