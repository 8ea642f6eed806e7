/**
 * Can this plan's analysis reach a verdict at all? A plan can be valid key by key and still end
 * every stage `insufficient_data`: a bake too short for the windows the paired test needs, a
 * window so much longer than the interval that few windows are independent, a margin no canary
 * can meet. `canary validate` refuses the first kind (exit 2) and warns about the others.
 */
import type { JudgedMetric } from '../domain/metrics.js';
import type { Plan } from '../domain/plan.js';
import { formatPlanDuration } from '../format.js';
import { customTestCount } from './sequential.js';

export interface Finding {
  level: 'error' | 'warning';
  /** Keys into the plan file, for file:line:column. */
  at: Array<string | number>;
  message: string;
}

/** Non-overlapping windows a stage's looks yield in `spanMs` (one per ⌈window/interval⌉ looks). */
export function windowsIn(spanMs: number, intervalMs: number, windowMs: number): number {
  const looksPerWindow = Math.max(1, Math.ceil(windowMs / intervalMs));
  return Math.floor(Math.floor(spanMs / intervalMs) / looksPerWindow);
}

export function feasibility(plan: Plan): Finding[] {
  const a = plan.analysis;
  const findings: Finding[] = [];
  // analysis.metrics comparisons are paired over the same windows (src/custom-metrics/sequential.ts).
  const paired: string[] = [
    ...(Object.keys(a.baselineComparison) as JudgedMetric[]).filter((m) => m !== 'error_rate'),
    ...(a.customMetrics ?? []).filter((m) => !m.dryRun && customTestCount([m]) > 0).map((m) => m.name),
  ];
  if (a.significance && paired.length > 0) {
    const needed = Math.max(3, a.significance.minWindows);
    if (a.windowMs > a.intervalMs) {
      findings.push({
        level: 'warning',
        at: ['analysis', 'window'],
        message:
          `analysis.window (${formatPlanDuration(a.windowMs)}) is longer than analysis.interval (${formatPlanDuration(a.intervalMs)}): ` +
          `windows overlap, so the paired ${paired.join(', ')} tests get one new window every ` +
          `${Math.ceil(a.windowMs / a.intervalMs)} checks; set window equal to interval`,
      });
    }
    plan.stages.forEach((stage, i) => {
      if (stage.weight >= 100 || stage.bakeMs <= 0) return;
      const inBake = windowsIn(stage.bakeMs, a.intervalMs, a.windowMs);
      const byDeadline = windowsIn(stage.dataDeadlineMs, a.intervalMs, a.windowMs);
      if (inBake >= needed) return;
      const at = ['stages', i];
      const text =
        `stage ${i + 1} (${stage.weight}%, bake ${formatPlanDuration(stage.bakeMs)}) holds ${inBake} non-overlapping ` +
        `${formatPlanDuration(a.windowMs)} windows; the paired ${paired.join(', ')} tests need ${needed}`;
      findings.push(
        byDeadline < needed
          ? {
              level: 'error',
              at,
              message: `${text}, and even its data deadline (${formatPlanDuration(stage.dataDeadlineMs)}) holds only ${byDeadline}: it would always end insufficient_data. Lengthen the bake or shorten analysis.window and analysis.interval`,
            }
          : { level: 'warning', at, message: `${text}: it will wait past its bake, up to its data deadline` },
      );
    });
  }
  for (const [metric, rule] of Object.entries(a.baselineComparison)) {
    if (rule.max_ratio !== undefined && rule.max_ratio < 1) {
      findings.push({
        level: 'warning',
        at: ['analysis', 'baseline_comparison', metric, 'max_ratio'],
        message: `${metric}.max_ratio ${rule.max_ratio} is below 1: a canary equal to the baseline fails it`,
      });
    }
  }
  for (const [metric, rule] of Object.entries(a.thresholds)) {
    if (rule.max === 0) {
      findings.push({
        level: 'warning',
        at: ['analysis', 'thresholds', metric, 'max'],
        message: `${metric}.max is 0: any ${metric === 'error_rate' ? 'error' : 'value'} fails it`,
      });
    }
  }
  if (!a.significance && Object.keys(a.baselineComparison).length > 0) {
    findings.push({
      level: 'warning',
      at: ['analysis', 'baseline_comparison'],
      message:
        'significance is off: comparisons judge each window’s observed values, so good canaries are rolled back ' +
        'on noise (docs/judgement.md); add significance: { enabled: true, confidence: 0.99 }',
    });
  }
  return findings;
}
