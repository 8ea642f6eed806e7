/**
 * `analysis.metrics:` judged on a look and folded into the built-in evaluation. Pure; the
 * engine's one call for custom metrics.
 *
 * With significance on and the stage's budget given, the comparisons go through the same
 * error control as the built-in tests (./sequential.ts): this look's alpha comes from the same
 * spending, the rollout's budget counts them (errorBudgetFor), and the evaluation's
 * error_control says how many of a stage's tests are custom. Otherwise ./judge.ts judges each
 * window on its own, as before.
 */
import { customTestCount, type ErrorBudget, FRESH_SPENDING, lookAlpha } from '../analysis/sequential.js';
import type { Evaluation } from '../analysis/types.js';
import type { CustomMetricConfig, SignificanceConfig } from '../domain/plan.js';
import { judgeCustom, withCustomChecks } from './judge.js';
import { judgeCustomSequential } from './sequential.js';
import type { CustomValues } from './types.js';

export interface CustomAnalysisInput {
  metrics: readonly CustomMetricConfig[] | undefined;
  canary: CustomValues | null;
  /** Null at a 100 % stage (no baseline traffic): comparisons are then skipped. */
  baseline: CustomValues | null;
  significance: SignificanceConfig | undefined;
  /** Earlier evaluations of this stage, oldest first (the paired windows come from them). */
  history: readonly Evaluation[];
  /** Where the stage stands, as the built-in look had it; present whenever significance is on. */
  stage?: { bakeFraction: number; budget: ErrorBudget } | undefined;
}

export function analyseCustom(builtIn: Evaluation, input: CustomAnalysisInput): Evaluation {
  const metrics = input.metrics ?? [];
  if (metrics.length === 0) return builtIn;
  const common = {
    metrics,
    canary: input.canary,
    baseline: input.baseline,
    canaryRequests: builtIn.canaryRequests,
  };
  if (!input.significance || !input.stage) {
    return withCustomChecks(
      builtIn,
      judgeCustom({ ...common, significance: input.significance !== undefined }),
    );
  }
  const previous = input.history[input.history.length - 1]?.error_control;
  const spending = previous
    ? { spentFraction: previous.spent_fraction, extraLooks: previous.extra_looks }
    : FRESH_SPENDING;
  // The same alpha the built-in tests had at this look: one spending per stage for all tests.
  const { alpha, next } = lookAlpha(input.stage.budget, spending, input.stage.bakeFraction);
  const { checks, tested } = judgeCustomSequential({
    ...common,
    history: input.history,
    windowStart: builtIn.windowStart,
    alpha,
    confidence: input.significance.confidence,
    minWindows: input.significance.minWindows,
  });
  const folded = withCustomChecks(builtIn, checks);
  const control = builtIn.error_control;
  if (!control) return folded;
  const customTests = customTestCount(metrics);
  // A look where only custom tests ran spends as one where a built-in test ran.
  const spent = tested && control.look_alpha === 0;
  return {
    ...folded,
    error_control: {
      ...control,
      ...(spent
        ? { look_alpha: alpha, spent_fraction: next.spentFraction, extra_looks: next.extraLooks }
        : {}),
      custom_tests_per_stage: customTests,
    },
  };
}
