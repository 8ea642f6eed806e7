/**
 * What `canary rollout --dry-run` says beyond the schedule: the pre-traffic evaluation (what will
 * be asked, of whom, how many requests, judged how) and the user-defined metrics (source, rules,
 * how comparisons are judged). Pure: the prompt count is read by the caller.
 */
import path from 'node:path';
import { customTestCount } from '../analysis/sequential.js';
import { show } from '../custom-metrics/judge.js';
import {
  type CustomMetricConfig,
  type EvalMetric,
  type EvaluationConfig,
  type MetricRule,
  type Plan,
  RULE_KEYS,
} from '../domain/plan.js';
import { formatDelta, formatMetric } from '../evaluation/verdict.js';
import { formatConfidence, formatPlanDuration } from '../format.js';

/** One rule as a phrase, values written by `value` and differences by `delta`. */
export function ruleText(
  rule: MetricRule,
  value: (n: number) => string,
  delta: (n: number) => string = value,
): string {
  const parts: string[] = [];
  for (const key of RULE_KEYS) {
    const n = rule[key];
    if (n === undefined) continue;
    switch (key) {
      case 'min':
        parts.push(`≥ ${value(n)}`);
        break;
      case 'max':
        parts.push(`≤ ${value(n)}`);
        break;
      case 'max_ratio':
        parts.push(`≤ ${n}× baseline`);
        break;
      case 'min_ratio':
        parts.push(`≥ ${n}× baseline`);
        break;
      case 'max_increase':
        parts.push(`≤ baseline + ${delta(n)}`);
        break;
      case 'max_decrease':
        parts.push(`≥ baseline − ${delta(n)}`);
        break;
    }
  }
  return parts.join(' and ');
}

export interface PromptCount {
  /** Prompts in the sets, before sampling. */
  total: number;
  /** Prompts sent to each version, once each repeat. */
  sent: number;
}

export function evaluationDetails(e: EvaluationConfig, planFile: string, prompts: PromptCount): string[] {
  const dir = path.dirname(path.resolve(planFile));
  const files = e.prompts.map((f) => path.relative(dir, f) || f).join(', ');
  const perVersion = prompts.sent * e.repeat;
  const sampled = e.sample !== undefined && e.sample < prompts.total ? `, a sample of ${prompts.sent}` : '';
  const repeated = e.repeat > 1 ? `, each ${e.repeat} times` : '';
  const lines = [
    'Evaluation before any traffic moves (skip with --skip-evaluation, journaled):',
    `  prompts   ${files}: ${prompts.total} prompt${prompts.total === 1 ? '' : 's'}${sampled}${repeated}`,
    `  requests  ${perVersion} to each version (${2 * perVersion} in all), pinned with X-Relay-Version, ` +
      `${e.concurrency} at a time, ${formatPlanDuration(e.timeoutMs)} timeout each${e.stream ? ', streamed for time to first token' : ''}`,
  ];
  const rules = (Object.entries(e.rules) as [EvalMetric, MetricRule][]).map(
    ([metric, rule]) =>
      `${metric} ${ruleText(
        rule,
        (n) => formatMetric(metric, n),
        (n) => formatDelta(metric, n),
      )}${e.explicit.includes(metric) ? '' : ' (default)'}`,
  );
  lines.push(`  passes if ${rules.length > 0 ? rules.join('; ') : 'every answer is a success'}`);
  if (e.judge) {
    lines.push(
      `  judge     \`${e.judge.run}\` scores each answer pair (${e.judge.concurrency} at a time, ${formatPlanDuration(e.judge.timeoutMs)} timeout)`,
    );
  }
  lines.push('  A failed evaluation ends the rollout before any traffic moves (exit 3).');
  return lines;
}

/** Host and path of a URL template (placeholders filled with x), or the template itself. */
function where(template: string): string {
  try {
    const url = new URL(template.replace(/\{\{[a-z_]+\}\}/g, 'x'));
    return `${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    // Not a URL until filled in: shown as written (the schema lets no credentials into it).
    return template;
  }
}

function sourceText(m: CustomMetricConfig, plan: Plan): string {
  if (m.source.kind === 'prometheus') {
    const url = plan.analysis.prometheus?.url;
    return `PromQL${url ? ` on ${where(url)}` : ''}`;
  }
  const secrets = m.source.headers.filter((h) => h.env).map((h) => `${h.name} from $${h.env}`);
  return `HTTP ${m.source.method} ${where(m.source.url)} ${m.source.path}${secrets.length > 0 ? ` (${secrets.join(', ')})` : ''}`;
}

export function customMetricDetails(plan: Plan): string[] {
  const a = plan.analysis;
  const metrics = a.customMetrics ?? [];
  if (metrics.length === 0) return [];
  const width = Math.max(...metrics.map((m) => m.name.length));
  const lines = [
    `Custom metrics (analysis.metrics), read for both versions every ${formatPlanDuration(a.intervalMs)} over ${formatPlanDuration(a.windowMs)}:`,
  ];
  for (const m of metrics) {
    const extras = [
      m.minRequests !== a.minRequests ? `after ${m.minRequests} canary requests in the window` : '',
      m.dryRun ? 'dry run: shown and journaled, never rolls back' : '',
    ].filter(Boolean);
    lines.push(
      `  ${m.name.padEnd(width)}  ${ruleText(m.rule, show)}${extras.length > 0 ? `; ${extras.join('; ')}` : ''}  ← ${sourceText(m, plan)}`,
    );
  }
  const tests = customTestCount(metrics);
  if (tests > 0) {
    lines.push(
      a.significance
        ? `  Judged over each stage's non-overlapping windows (${a.significance.minWindows} at least): comparisons by a paired test, ` +
            `a window past min/max against the metric's spread; ${tests} test${tests === 1 ? '' : 's'} per stage within the ` +
            `${formatConfidence(a.significance.confidence)} per-rollout confidence.`
        : '  Judged each window on its own, no significance test (baseline_comparison.significance is off).',
    );
  }
  lines.push(
    '  An absolute bound the baseline breaches too in the same window holds the stage (shared incident).',
  );
  return lines;
}

/** The blocks `--dry-run` prints after the schedule; reads the prompt sets to count them (exit 2 if it cannot). */
export async function dryRunDetails(plan: Plan): Promise<string[][]> {
  const blocks: string[][] = [];
  if (plan.evaluation) {
    const { loadPrompts, samplePrompts } = await import('../evaluation/prompts.js');
    const cases = await loadPrompts(plan.evaluation);
    const sent = samplePrompts(cases, plan.evaluation.sample).length;
    blocks.push(evaluationDetails(plan.evaluation, plan.file, { total: cases.length, sent }));
  }
  const custom = customMetricDetails(plan);
  if (custom.length > 0) blocks.push(custom);
  return blocks;
}
