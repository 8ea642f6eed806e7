/**
 * What the evaluation records say, metric by metric: both versions' values per evaluation, the
 * threshold and comparison bounds the checks used and every check's verdict; and the canary's
 * blast radius (requests and errors it served, errors beyond the baseline's rate). The charts
 * and the summary draw these.
 */
import { JUDGED_METRICS } from '../domain/metrics.js';
import { arr, num, obj, pick, type Raw, str } from './fields.js';
import type { MetricView, ReportModel } from './model.js';

/** One evaluation record's body, with when and at which stage it was made. */
export interface EvaluationAt {
  at: number;
  stage: number;
  ev: Raw;
}

const VERDICT_RANK: Record<string, number> = { fail: 4, shared_incident: 3, no_data: 2, pass: 1 };
const rank = (v: string) => VERDICT_RANK[v] ?? 2.5;

/** Canary requests and errors served, estimated from evaluation windows counted once each. */
export function blastRadius(evals: Raw[]): ReportModel['blast'] {
  let requests = 0;
  let errors = 0;
  let excess = 0;
  let excessKnown = true;
  let lastBaseRate: number | null = null;
  let seen = false;
  let coveredTo = Number.NEGATIVE_INFINITY;
  for (const e of evals) {
    const start = num(pick(e, 'windowStart')) ?? 0;
    const end = num(pick(e, 'windowEnd')) ?? 0;
    const c = obj(pick(e, 'canary'));
    const b = obj(pick(e, 'baseline'));
    const n = num(pick(c, 'request_count'));
    if (end <= start || n === null) continue;
    // Trailing windows overlap: count only the part not already counted, at the window's rate.
    const share = Math.max(0, end - Math.max(start, coveredTo)) / (end - start);
    coveredTo = Math.max(coveredTo, end);
    if (share === 0) continue;
    seen = true;
    const rate = num(pick(c, 'error_rate')) ?? 0;
    const served = n * share;
    requests += served;
    errors += served * rate;
    // At 100 % the baseline serves nothing: its last known rate stands in for it.
    const baseRate: number | null = num(pick(b, 'error_rate')) ?? lastBaseRate;
    lastBaseRate = baseRate;
    if (baseRate === null) excessKnown = false;
    else excess += served * (rate - baseRate);
  }
  if (!seen) return null;
  return {
    canaryRequests: Math.round(requests),
    canaryErrors: Math.round(errors),
    excessErrors: excessKnown ? Math.round(excess) : null,
  };
}

function metricNames(evals: Raw[]): string[] {
  const names: string[] = [];
  const add = (m: string) => {
    if (!names.includes(m)) names.push(m);
  };
  for (const e of evals) for (const c of arr(pick(e, 'checks'))) add(str(pick(obj(c), 'metric')) ?? '?');
  // Built-ins first, in their usual order; custom metrics after, as the plan lists them.
  return [
    ...JUDGED_METRICS.filter((m) => names.includes(m)),
    ...names.filter((m) => !(JUDGED_METRICS as readonly string[]).includes(m)),
  ];
}

export function metricViews(evals: EvaluationAt[]): MetricView[] {
  return metricNames(evals.map((e) => e.ev)).map((metric) => {
    const view: MetricView = { metric, points: [], thresholds: [], comparison: [], checks: [] };
    for (const { at, stage, ev } of evals) {
      const checks = arr(pick(ev, 'checks'))
        .map(obj)
        .filter((c) => str(pick(c, 'metric')) === metric);
      let verdict: string | null = null;
      let canary = num(pick(obj(pick(ev, 'canary')), metric));
      let baseline = num(pick(obj(pick(ev, 'baseline')), metric));
      for (const c of checks) {
        const status = str(pick(c, 'status')) ?? 'no_data';
        const kind = str(pick(c, 'kind')) ?? 'threshold';
        const value = num(pick(c, 'value'));
        const base = num(pick(c, 'baseline'));
        const bound = num(pick(c, 'bound'));
        canary = canary ?? value;
        baseline = baseline ?? base;
        if (verdict === null || rank(status) > rank(verdict)) verdict = status;
        if (kind === 'threshold' && bound !== null && !view.thresholds.includes(bound))
          view.thresholds.push(bound);
        if (kind === 'comparison') view.comparison.push({ at, bound });
        view.checks.push({
          at,
          stage,
          id: str(pick(c, 'id')) ?? metric,
          kind,
          status,
          value,
          baseline: base,
          bound,
          reason: str(pick(c, 'reason')) ?? '',
        });
      }
      view.points.push({ at, stage, canary, baseline, verdict });
    }
    return view;
  });
}
