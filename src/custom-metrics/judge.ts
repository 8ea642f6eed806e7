/**
 * Judges user-defined metrics and folds them into the stage's evaluation. Pure.
 *
 * The same rules as the built-in checks: too few canary requests (the metric's own
 * `min_requests`) or no value is `no_data`, never healthy; a non-dry-run failure fails the
 * evaluation (and counts toward `failure_limit`); a non-dry-run `no_data` keeps a passing
 * evaluation from counting as a pass. A dry-run metric is computed, shown and journaled and
 * never changes the verdict. An absolute bound both versions are past in the same window is a
 * shared incident: `hold`, as for the built-in thresholds.
 *
 * This file judges with significance off: comparisons are plain (canary against the baseline's
 * value over the same window). With significance on, ./sequential.ts judges instead (paired
 * tests over the stage's windows, under the stage's error control); ./analyse.ts picks.
 */
import type { CustomCheck, Evaluation } from '../analysis/types.js';
import { type CustomMetricConfig, RULE_KEYS, type RuleKey } from '../domain/plan.js';
import type { CustomValue, CustomValues } from './types.js';

export function show(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1e-4 && abs < 1e9 ? String(Number(value.toPrecision(4))) : value.toExponential(3);
}

function readValue(v: CustomValue | undefined): { value: number | null; why: string | undefined } {
  if (v === undefined) return { value: null, why: 'not read' };
  if ('error' in v) return { value: null, why: v.error };
  return { value: v.value, why: v.value === null ? (v.note ?? 'no value') : undefined };
}

export interface CustomJudgeInput {
  metrics: readonly CustomMetricConfig[];
  canary: CustomValues | null;
  /** Null at a 100 % stage (no baseline traffic): comparisons are then skipped. */
  baseline: CustomValues | null;
  canaryRequests: number | null;
  /** The plan's significance setting is on: say why it does not apply here. */
  significance: boolean;
}

/** One rule of one metric that has its data: what both judges (this one, ./sequential.ts) go on from. */
export interface JudgedRule {
  metric: CustomMetricConfig;
  rule: RuleKey;
  limit: number;
  relative: boolean;
  canary: number;
  /** The baseline's value (null for an absolute rule when the baseline has none). */
  baseline: number | null;
  /** The fields every check of this rule carries. */
  base: Pick<CustomCheck, 'id' | 'metric' | 'rule' | 'dry_run' | 'value' | 'baseline'>;
  /** ' [dry run]' for a dry-run metric, else ''. */
  tag: string;
}

/**
 * Every configured rule, in RULE_KEYS order per metric: comparisons are skipped without
 * baseline traffic (a 100 % stage), as for the built-in ones; a rule short of the metric's
 * `min_requests` or of a value is pushed onto `checks` as `no_data`; the rest are yielded.
 */
export function* rulesWithData(
  input: Pick<CustomJudgeInput, 'metrics' | 'canary' | 'baseline' | 'canaryRequests'>,
  checks: CustomCheck[],
): Generator<JudgedRule> {
  for (const metric of input.metrics) {
    const c = readValue(input.canary?.[metric.name]);
    const b = readValue(input.baseline?.[metric.name]);
    const short =
      input.canaryRequests === null || input.canaryRequests < metric.minRequests
        ? `${input.canaryRequests ?? 'unknown'}/${metric.minRequests} canary requests in window`
        : undefined;
    const tag = metric.dryRun ? ' [dry run]' : '';
    for (const rule of RULE_KEYS) {
      const limit = metric.rule[rule];
      if (limit === undefined) continue;
      const relative = rule !== 'min' && rule !== 'max';
      if (relative && input.baseline === null) continue;
      const base = {
        id: `${metric.name}.${rule}`,
        metric: metric.name,
        rule,
        dry_run: metric.dryRun,
        value: c.value,
        // The baseline's value beside the canary's, for absolute rules too.
        baseline: b.value,
      };
      if (short || c.value === null || (relative && b.value === null)) {
        const why = short ?? (c.value === null ? `canary: ${c.why}` : `baseline: ${b.why}`);
        checks.push({
          ...base,
          status: 'no_data',
          bound: null,
          reason: `${metric.name} no data: ${why}${tag}`,
        });
        continue;
      }
      yield { metric, rule, limit, relative, canary: c.value, baseline: b.value, base, tag };
    }
  }
}

export function judgeCustom(input: CustomJudgeInput): CustomCheck[] {
  const checks: CustomCheck[] = [];
  for (const { metric, rule, limit, relative, canary, baseline, base, tag } of rulesWithData(input, checks)) {
    const bv = baseline as number;
    let bound: number;
    let pass: boolean;
    let words: string;
    switch (rule) {
      case 'min':
        [bound, pass, words] = [limit, canary >= limit, `min ${show(limit)}`];
        break;
      case 'max':
        [bound, pass, words] = [limit, canary <= limit, `max ${show(limit)}`];
        break;
      case 'max_ratio':
        bound = bv * limit;
        [pass, words] = [canary <= bound, `${limit}× baseline ${show(bv)} = ${show(bound)}`];
        break;
      case 'min_ratio':
        bound = bv * limit;
        [pass, words] = [canary >= bound, `${limit}× baseline ${show(bv)} = ${show(bound)}`];
        break;
      case 'max_increase':
        bound = bv + limit;
        [pass, words] = [canary <= bound, `baseline ${show(bv)} + ${show(limit)}`];
        break;
      case 'max_decrease':
        bound = bv - limit;
        [pass, words] = [canary >= bound, `baseline ${show(bv)} − ${show(limit)}`];
        break;
    }
    const upper = rule === 'max' || rule === 'max_ratio' || rule === 'max_increase';
    const relation = pass ? (upper ? '≤' : '≥') : upper ? '>' : '<';
    // Only reached with significance on when a caller has no stage to spend alpha on.
    const noTest =
      relative && input.significance ? ' (no significance test: no stage error budget given)' : '';
    const beside = !relative && baseline !== null ? ` (baseline ${show(baseline)})` : '';
    // Both versions past an absolute bound over the same window: a shared incident (the
    // upstream, not the canary), judged as the built-in thresholds are: `hold`, the bake
    // paused, until the canary is judged on its own or analysis.hold_deadline passes.
    const baselineBreaches =
      !relative && baseline !== null && (rule === 'max' ? baseline > limit : baseline < limit);
    if (!pass && baselineBreaches) {
      checks.push({
        ...base,
        status: 'hold',
        bound,
        reason: `${metric.name}: both versions degraded (shared incident): canary ${show(canary)}, baseline ${show(baseline as number)}, ${words}${tag}`,
      });
      continue;
    }
    checks.push({
      ...base,
      status: pass ? 'pass' : 'fail',
      bound,
      reason: `${metric.name} ${show(canary)} ${relation} ${words}${beside}${noTest}${tag}`,
    });
  }
  return checks;
}

/**
 * The evaluation with the custom checks beside the built-in ones. Only non-dry-run checks move
 * the verdict, in the built-in order: any failure fails it; else a shared incident holds it;
 * else no data turns a pass into no data.
 */
export function withCustomChecks(evaluation: Evaluation, checks: CustomCheck[]): Evaluation {
  if (checks.length === 0) return evaluation;
  const counted = checks.filter((c) => !c.dry_run);
  let verdict = evaluation.verdict;
  if (counted.some((c) => c.status === 'fail')) verdict = 'fail';
  else if (verdict !== 'fail' && counted.some((c) => c.status === 'hold')) verdict = 'hold';
  else if (verdict === 'pass' && counted.some((c) => c.status === 'no_data')) verdict = 'no_data';
  return { ...evaluation, verdict, custom: checks };
}

/** What decided the verdict among the custom checks, for the rollback reason; '' when nothing. */
export function customReason(evaluation: Evaluation): string {
  const deciding = (evaluation.custom ?? []).filter((c) => !c.dry_run && c.status === evaluation.verdict);
  return deciding.map((c) => c.reason).join('; ');
}
