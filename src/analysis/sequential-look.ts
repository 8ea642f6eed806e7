/**
 * One look of the sequential evaluation (./sequential-evaluate.ts): what it is given, and the
 * facts every check of it reads: its share of the error budget, the stage's pooled counts, and
 * whether the stage has traffic enough to judge at all.
 */
import type { JudgedMetric } from '../domain/metrics.js';
import type { AnalysisConfig } from '../domain/plan.js';
import type { VersionMetrics } from '../domain/relay.js';
import { type ErrorBudget, FRESH_SPENDING, lookAlpha, type SpendingState } from './sequential.js';

export interface SequentialInput {
  canary: VersionMetrics | null;
  baseline: VersionMetrics | null;
  /** Everything since the stage started, read as one window. */
  pool: {
    canary: VersionMetrics | null;
    baseline: VersionMetrics | null;
    /** No baseline now (100 %): its pooled metrics from the last stage that had one. */
    reference?: VersionMetrics | null | undefined;
  };
  /** The current window and earlier non-overlapping ones, newest first, for paired tests. */
  windows: (metric: JudgedMetric) => { canary: number; baseline: number }[];
  config: Pick<AnalysisConfig, 'minRequests' | 'thresholds' | 'baselineComparison' | 'significance'>;
  /** Share of the bake elapsed, held time excluded (1 or more once it is over). */
  bakeFraction: number;
  budget: ErrorBudget;
  /** Where spending stood after the previous look of this stage. */
  spending: SpendingState | undefined;
  at: number;
  windowStart: number;
  windowEnd: number;
}

type Num = number | null;

export function num(metrics: VersionMetrics | null, key: string): Num {
  const raw: unknown = (metrics as unknown as Record<string, unknown> | null)?.[key];
  return typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw : null;
}

/** A version's errors and requests, read or derived from its error rate. */
export type Counts = { errors: number; requests: number };

export function counts(metrics: VersionMetrics | null): Counts | null {
  const requests = num(metrics, 'request_count');
  if (requests === null) return null;
  const errors = num(metrics, 'error_count');
  if (errors !== null) return { errors, requests };
  const rate = num(metrics, 'error_rate');
  return rate === null ? null : { errors: Math.round(rate * requests), requests };
}

/** What every check of one look reads, and what the checks tell the look back. */
export interface Look {
  input: SequentialInput;
  significance: NonNullable<AnalysisConfig['significance']>;
  min: number;
  /** The plan compares with the baseline (so baseline requests are needed, and shown). */
  comparing: boolean;
  /** This look's share of each test's error budget, and the spending after it. */
  alpha: number;
  next: SpendingState;
  poolCanary: Counts | null;
  poolBaseline: Counts | null;
  windowCanary: Counts | null;
  /** Why the stage has too little traffic to judge anything yet, or null. */
  short: string | null;
  /** What the look is waiting for, in the order found. */
  waiting: string[];
  /** Some test used the look's alpha (so the spending moves on). */
  tested: boolean;
}

/** The look's shared facts: its alpha, the pooled and window counts, and whether traffic is short. */
export function startLook(input: SequentialInput): Look {
  const { config } = input;
  const min = config.minRequests;
  const poolCanary = counts(input.pool.canary);
  const poolBaseline = counts(input.pool.baseline);
  const comparing = Object.keys(config.baselineComparison).length > 0;
  const { alpha, next } = lookAlpha(input.budget, input.spending ?? FRESH_SPENDING, input.bakeFraction);
  let short: string | null = null;
  if (input.pool.canary === null || poolCanary === null) short = 'no canary metrics for the stage';
  else if (poolCanary.requests < min) short = `canary requests ${poolCanary.requests}/${min} in the stage`;
  else if (comparing && (poolBaseline === null || poolBaseline.requests < min)) {
    short = `baseline requests ${poolBaseline?.requests ?? 0}/${min} in the stage`;
  }
  return {
    input,
    significance: config.significance ?? { confidence: 0.99, minWindows: 4 },
    min,
    comparing,
    alpha,
    next,
    poolCanary,
    poolBaseline,
    windowCanary: counts(input.canary),
    short,
    waiting: short === null ? [] : [short],
    tested: false,
  };
}
