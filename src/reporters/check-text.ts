/**
 * How a judged check and a look's error control read, with the values that decided them, in
 * the formatter's units: the live table, the plain log, the gate question and `canary status`
 * all describe a check this way.
 */
import type { CheckResult, ErrorControl } from '../analysis/types.js';
import { formatConfidence, formatMetric, metricLabel } from '../format.js';

/**
 * Error control of a passing look: `confidence 99.67% per stage, 95% per rollout`, and when the
 * plan's `analysis.metrics` share that budget, `(3 of 5 tests a stage are analysis.metrics)`.
 */
export function formatErrorControl(control: ErrorControl): string {
  const custom = control.custom_tests_per_stage ?? 0;
  const share =
    custom > 0 ? ` (${custom} of ${control.tests_per_stage} tests a stage are analysis.metrics)` : '';
  return `confidence ${formatConfidence(control.stage_confidence)} per stage, ${formatConfidence(control.rollout_confidence)} per rollout${share}`;
}

/**
 * What a significance test adds to a check: the p-value against the level it had to beat, or
 * why it could not run. Without it a pass of `3.2% vs 3.06%` would read as a lie.
 */
function significanceNote(check: CheckResult): string {
  if (check.alpha !== undefined && check.pValue != null) {
    // Error control per stage: the p-value is held to this look's share of the budget.
    const alpha = Number(check.alpha.toPrecision(2));
    if (check.pValue < 0.0001) return ` p < 0.0001${check.status === 'fail' ? ` < ${alpha}` : ''}`;
    return ` p ${Number(check.pValue.toPrecision(2))} ${check.status === 'fail' ? '<' : '≥'} ${alpha}`;
  }
  if (check.confidence === undefined) return '';
  const alpha = Number((1 - check.confidence).toPrecision(6));
  if (check.pValue == null) {
    return ` (${check.test ?? 'test'}: too little for ${formatConfidence(check.confidence)} confidence)`;
  }
  if (check.pValue < 0.001) return ' p < 0.001';
  return ` p ${Number(check.pValue.toPrecision(2))} ${check.status === 'fail' ? '<' : '≥'} ${alpha}`;
}

/**
 * One check as a person reads it, with the values that decided it:
 * `error_rate 0.41% ≤ 2.00%`, `error_rate 9.10% > max 2.00%`, `p99 3100ms > 2520ms (baseline 2100ms)`.
 */
export function describeCheck(check: CheckResult): string {
  const label = metricLabel(check.metric);
  if (check.status === 'no_data' || check.value == null) return `${label} no data${significanceNote(check)}`;
  const value = formatMetric(check.metric, check.value);
  // Every verdict shows the baseline's value beside the canary's, thresholds too.
  const baseline = check.baseline != null ? ` (baseline ${formatMetric(check.metric, check.baseline)})` : '';
  if (check.status === 'hold') {
    const bound = check.bound != null ? formatMetric(check.metric, check.bound) : '?';
    return `${label} ${value}${baseline} both > max ${bound}: shared incident`;
  }
  if (check.bound == null) {
    // Without a bound the analysis's own sentence is the only faithful account.
    return check.status === 'fail' ? `${label} ${value}: ${check.reason}` : `${label} ${value}${baseline}`;
  }
  const bound = formatMetric(check.metric, check.bound);
  if (check.confidence !== undefined) {
    // A test can pass a value above the bound (within noise): say "vs", not "≤".
    const relation = check.status === 'fail' ? '>' : 'vs';
    return `${label} ${value} ${relation} ${bound}${baseline}${significanceNote(check)}`;
  }
  if (check.status === 'pass') return `${label} ${value} ≤ ${bound}${baseline}`;
  const qualifier = check.kind === 'threshold' ? 'max ' : '';
  return `${label} ${value} > ${qualifier}${bound}${baseline}`;
}
