/**
 * Error control per stage and per rollout, not per look.
 *
 * A check is looked at every interval on data that keeps growing, so testing each look at the
 * full alpha would let a canary exactly at its bound fail far more often than 1 − confidence
 * (22 % of whole rollouts at a per-look 0.98 on the old suite). Here:
 *
 * - `confidence` is for the whole rollout: the chance that a canary no worse than its bounds is
 *   rolled back for health is at most 1 − confidence.
 * - That alpha is split evenly over the judged stages (those with a baseline to compare with)
 *   and, within a stage, over its tests (one per comparison and per threshold): Bonferroni,
 *   valid whatever the correlation between metrics and stages.
 * - Within a stage, a test's alpha is spent over the stage's looks by the Lan–DeMets
 *   Pocock-type function f(t) = ln(1 + (e − 1)·t), t the share of the bake elapsed (a stage
 *   knows its looks in advance: bake ÷ interval, the group-sequential setting). Pocock-type
 *   spends early, so a gross failure is caught at the first looks (blast radius), while a
 *   canary near its bound still meets most of the alpha at the end. A look that could not
 *   test (too little data) spends nothing; the next one that can spends what was left.
 * - A share (EXTRA_LOOKS_RESERVE) is kept for looks after the bake (waiting for data, a shared
 *   incident's hold): the j-th extra look gets reserve × 2^−j, so however long a stage runs
 *   the total stays within the budget.
 *
 * Every look's test is run at the alpha it was given, and the sum of those alphas is at most
 * the stage's: by the union bound the stage's false-failure chance is at most its alpha, for
 * any test whose p-value is valid at a fixed look (exact tests at small counts included).
 * docs/judgement.md has the measurements behind this choice.
 */

import { type CustomMetricConfig, RULE_KEYS } from '../domain/plan.js';

/** Part of a test's alpha kept for looks after the bake ends. */
export const EXTRA_LOOKS_RESERVE = 0.1;

/** Lan–DeMets Pocock-type spending: share of the alpha spent by information fraction t. */
export function pocockSpending(t: number): number {
  if (!(t > 0)) return 0;
  return Math.log(1 + (Math.E - 1) * Math.min(1, t));
}

export interface ErrorBudget {
  /** 1 − confidence: the most a whole rollout may be failed by noise alone. */
  rolloutAlpha: number;
  /** Stages that are judged (have a baseline to compare with). */
  stages: number;
  /** Tests in each such stage. */
  tests: number;
}

/** 1 − confidence without float noise. */
export function alphaFromConfidence(confidence: number): number {
  return Number((1 - confidence).toPrecision(12));
}

export function stageAlpha(budget: ErrorBudget): number {
  return budget.rolloutAlpha / Math.max(1, budget.stages);
}

export function testAlpha(budget: ErrorBudget): number {
  return stageAlpha(budget) / Math.max(1, budget.tests);
}

/** Where a stage's spending stands: how far the bake is, and the looks already spent. */
export interface SpendingState {
  /** Bake-clock share reached at the last look that tested (0 at the stage's start). */
  spentFraction: number;
  /** Looks that tested after the bake ended. */
  extraLooks: number;
}

export const FRESH_SPENDING: SpendingState = { spentFraction: 0, extraLooks: 0 };

/**
 * The alpha one test may use at this look, and the state after it. `fraction` is the bake's
 * elapsed share (held time excluded), 1 or more once the bake is over.
 */
export function lookAlpha(
  budget: ErrorBudget,
  state: SpendingState,
  fraction: number,
): { alpha: number; next: SpendingState } {
  const total = testAlpha(budget);
  const planned = 1 - EXTRA_LOOKS_RESERVE;
  if (fraction < 1 || state.spentFraction < 1) {
    const to = Math.min(1, Math.max(fraction, state.spentFraction));
    const share = pocockSpending(to) - pocockSpending(state.spentFraction);
    return { alpha: total * planned * share, next: { spentFraction: to, extraLooks: state.extraLooks } };
  }
  const j = state.extraLooks + 1;
  return {
    alpha: total * EXTRA_LOOKS_RESERVE * 2 ** -j,
    next: { spentFraction: state.spentFraction, extraLooks: j },
  };
}

/**
 * A plan's budget: every stage is judged (the last, at 100 %, by its thresholds alone); each
 * has one test per comparison, one for an error-rate threshold (the other thresholds compare
 * observed values and spend nothing) and one per rule of a counted (not dry-run)
 * `analysis.metrics` entry (src/custom-metrics/sequential.ts, bound-test.ts).
 */
export function errorBudgetFor(
  stages: readonly { weight: number; bakeMs: number }[],
  analysis: {
    significance?: { confidence: number } | undefined;
    baselineComparison: object;
    thresholds: { error_rate?: unknown };
    customMetrics?: Parameters<typeof customTestCount>[0];
  },
): ErrorBudget {
  const judged = stages.length;
  const tests =
    Object.keys(analysis.baselineComparison).length +
    (analysis.thresholds.error_rate ? 1 : 0) +
    customTestCount(analysis.customMetrics);
  return {
    rolloutAlpha: alphaFromConfidence(analysis.significance?.confidence ?? 0.99),
    stages: Math.max(1, judged),
    tests: Math.max(1, tests),
  };
}

/**
 * Rules of non-dry-run metrics: the tests a stage spends alpha on for `analysis.metrics`
 * (src/custom-metrics/bound-test.ts for min/max), counted in each stage's error budget.
 */
export function customTestCount(
  metrics: readonly Pick<CustomMetricConfig, 'rule' | 'dryRun'>[] | undefined,
): number {
  let n = 0;
  for (const m of metrics ?? []) {
    if (m.dryRun) continue;
    for (const rule of RULE_KEYS) if (m.rule[rule] !== undefined) n++;
  }
  return n;
}
