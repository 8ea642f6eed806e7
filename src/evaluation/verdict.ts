/**
 * From answers to a verdict: per-version statistics, each rule of `evaluation.thresholds` held
 * against them, and the worst prompts to show side by side. Pure.
 *
 * Evidence rules: a rule whose metric has no value (no answer succeeded, the relay reports no
 * cost, nothing was streamed) is `no_data`. A rule the plan wrote fails on `no_data` (the plan
 * asked for it and canary could not check it); a built-in default never does.
 */
import { quantileSorted } from 'simple-statistics';
import { type EvalMetric, type MetricRule, RULE_KEYS, type RuleKey } from '../domain/plan.js';
import { formatMs } from '../format.js';
import { promptRows } from './per-prompt.js';
import {
  CANARY_ONLY_METRICS,
  type CaseResult,
  type ChatAnswer,
  type EvalCheck,
  type EvaluationReport,
  type VersionStats,
  type WorstCase,
} from './types.js';

/** What a plan gets without `evaluation.thresholds`; a metric the plan names replaces its default. */
export const DEFAULT_EVAL_RULES: Partial<Record<EvalMetric, MetricRule>> = {
  success_rate: { min: 0.95 },
  expectation_pass_rate: { max_decrease: 0.05 },
};

/** Metrics in [0, 1] whose values read best as percentages. */
const RATE_METRICS: readonly EvalMetric[] = [
  'success_rate',
  'expectation_pass_rate',
  'agreement',
  'judge_score',
];

function ok(a: ChatAnswer): boolean {
  return a.status >= 200 && a.status < 300 && a.content !== null;
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  return quantileSorted(
    [...values].sort((x, y) => x - y),
    p,
  );
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

export function versionStats(tag: string, results: CaseResult[], role: 'baseline' | 'canary'): VersionStats {
  const answers = results.map((r) => r[role]);
  const good = answers.filter(ok);
  const failures = results.map((r) => (role === 'baseline' ? r.baselineFailures : r.canaryFailures));
  const checked = failures.filter((f): f is string[] => f !== undefined);
  const costs = good.map((a) => a.cost).filter((c): c is number => c !== null && c !== undefined);
  const stats: VersionStats = {
    version_tag: tag,
    requests: answers.length,
    success_rate: answers.length === 0 ? null : good.length / answers.length,
    expectation_pass_rate:
      checked.length === 0 ? null : checked.filter((f) => f.length === 0).length / checked.length,
    expectation_checked: checked.length,
    latency_p50_ms: percentile(
      good.map((a) => a.latencyMs),
      0.5,
    ),
    latency_p99_ms: percentile(
      good.map((a) => a.latencyMs),
      0.99,
    ),
    ttft_p50_ms: percentile(
      good.flatMap((a) => (a.ttftMs === null ? [] : [a.ttftMs])),
      0.5,
    ),
    ttft_p99_ms: percentile(
      good.flatMap((a) => (a.ttftMs === null ? [] : [a.ttftMs])),
      0.99,
    ),
    output_tokens: mean(good.flatMap((a) => (a.completionTokens === null ? [] : [a.completionTokens]))),
    // Only when every good answer carried a cost: a mean over some of them would flatter.
    cost_per_answer: costs.length > 0 && costs.length === good.length ? mean(costs) : null,
  };
  if (role === 'canary') {
    stats.agreement = mean(results.flatMap((r) => (r.agreement === null ? [] : [r.agreement])));
    stats.judge_score = mean(results.flatMap((r) => (r.judgeScore === null ? [] : [r.judgeScore])));
  }
  return stats;
}

export function formatMetric(metric: EvalMetric, value: number | null): string {
  if (value === null) return '—';
  if (RATE_METRICS.includes(metric) && metric !== 'judge_score') return `${(value * 100).toFixed(1)}%`;
  if (metric.endsWith('_ms')) return formatMs(value);
  if (metric === 'cost_per_answer') return `$${value.toPrecision(3)}`;
  if (metric === 'output_tokens') return value.toFixed(1);
  return value.toFixed(3);
}

/** A bound on a difference, in the metric's unit (points for rates). */
export function formatDelta(metric: EvalMetric, value: number): string {
  if (RATE_METRICS.includes(metric) && metric !== 'judge_score') return `${(value * 100).toFixed(1)} points`;
  return formatMetric(metric, value);
}

function judgeOne(
  metric: EvalMetric,
  rule: RuleKey,
  limit: number,
  canary: number | null,
  baseline: number | null,
  explicit: boolean,
): EvalCheck {
  const id = `${metric}.${rule}`;
  const base = { id, metric, rule, value: canary, baseline };
  const relative = rule !== 'min' && rule !== 'max';
  if (canary === null || (relative && baseline === null)) {
    const missing = canary === null ? 'the canary' : 'the baseline';
    return {
      ...base,
      bound: null,
      status: 'no_data',
      reason: `${metric}: no value for ${missing}${explicit ? ' (the plan asks for this check, so it fails)' : ''}`,
    };
  }
  let bound: number;
  let pass: boolean;
  let words: string;
  const b = baseline as number;
  switch (rule) {
    case 'min':
      bound = limit;
      pass = canary >= limit;
      words = `at least ${formatMetric(metric, limit)}`;
      break;
    case 'max':
      bound = limit;
      pass = canary <= limit;
      words = `at most ${formatMetric(metric, limit)}`;
      break;
    case 'max_ratio':
      bound = b * limit;
      pass = canary <= bound;
      words = `at most ${limit}× the baseline's ${formatMetric(metric, b)} = ${formatMetric(metric, bound)}`;
      break;
    case 'min_ratio':
      bound = b * limit;
      pass = canary >= bound;
      words = `at least ${limit}× the baseline's ${formatMetric(metric, b)} = ${formatMetric(metric, bound)}`;
      break;
    case 'max_increase':
      bound = b + limit;
      pass = canary <= bound;
      words = `at most ${formatDelta(metric, limit)} above the baseline's ${formatMetric(metric, b)}`;
      break;
    case 'max_decrease':
      bound = b - limit;
      pass = canary >= bound;
      words = `at most ${formatDelta(metric, limit)} below the baseline's ${formatMetric(metric, b)}`;
      break;
  }
  // Floating point: 0.95 computed as 19/20 must meet a bound of 0.95.
  if (!pass && Math.abs(canary - bound) <= 1e-9 * Math.max(1, Math.abs(bound))) pass = true;
  return {
    ...base,
    bound,
    status: pass ? 'pass' : 'fail',
    reason: `${metric} ${formatMetric(metric, canary)} ${pass ? 'is' : 'is not'} ${words}`,
  };
}

export function judgeStats(
  baseline: VersionStats,
  canary: VersionStats,
  rules: Partial<Record<EvalMetric, MetricRule>>,
  explicit: ReadonlySet<EvalMetric>,
): EvalCheck[] {
  const checks: EvalCheck[] = [];
  for (const [metric, rule] of Object.entries(rules) as [EvalMetric, MetricRule][]) {
    const c = (canary as unknown as Record<string, number | null | undefined>)[metric] ?? null;
    const b = CANARY_ONLY_METRICS.includes(metric)
      ? null
      : ((baseline as unknown as Record<string, number | null | undefined>)[metric] ?? null);
    for (const key of RULE_KEYS) {
      const limit = rule[key];
      if (limit === undefined) continue;
      checks.push(judgeOne(metric, key, limit, c, b, explicit.has(metric)));
    }
  }
  return checks;
}

function promptText(r: CaseResult): string {
  const messages = r.prompt.request.messages as { role?: string; content?: unknown }[];
  const last = [...messages].reverse().find((m) => m.role === 'user') ?? messages[messages.length - 1];
  const content = last?.content;
  return typeof content === 'string' ? content : JSON.stringify(content ?? '');
}

function answerText(a: ChatAnswer): string {
  if (ok(a)) return a.content as string;
  return `(no answer: ${a.error ?? `HTTP ${a.status}`})`;
}

/**
 * How much one answer pair hurts (higher is worse): the canary failed where the baseline
 * answered, then broke expectations the baseline met, then the lowest judge score or agreement.
 */
export function caseScore(r: CaseResult): { score: number; why: string[] } {
  let score = 0;
  const why: string[] = [];
  if (!ok(r.canary)) {
    score += ok(r.baseline) ? 4 : 1;
    why.push(`canary failed: ${r.canary.error ?? `HTTP ${r.canary.status}`}`);
  }
  const cf = r.canaryFailures ?? [];
  const bf = r.baselineFailures ?? [];
  if (cf.length > 0) {
    score += bf.length === 0 ? 3 : 1;
    why.push(`canary answer ${cf.join('; ')}`);
  }
  if (r.judgeScore !== null) score += 1 - r.judgeScore;
  if (r.agreement !== null) score += (1 - r.agreement) / 2;
  return { score, why };
}

/** The prompts that hurt most, worst first (by caseScore). */
export function worstCases(results: CaseResult[], count: number): WorstCase[] {
  const scored = results.map((r) => ({ r, ...caseScore(r) }));
  scored.sort((a, b) => b.score - a.score || a.r.prompt.line - b.r.prompt.line);
  // One row per prompt: its repeats would only show the same failure again.
  const seen = new Set<string>();
  const distinct = scored.filter(({ r }) => !seen.has(r.prompt.id) && seen.add(r.prompt.id));
  return distinct.slice(0, count).map(({ r, why }) => ({
    prompt_id: r.prompt.id,
    file: r.prompt.file,
    line: r.prompt.line,
    repeat: r.repeat,
    prompt: promptText(r),
    baseline: answerText(r.baseline),
    canary: answerText(r.canary),
    why:
      why.length > 0
        ? why.join('; ')
        : `lowest ${r.judgeScore !== null ? `judge score ${r.judgeScore.toFixed(2)}` : `agreement ${formatMetric('agreement', r.agreement)}`}`,
    agreement: r.agreement,
    judge_score: r.judgeScore,
  }));
}

export function buildReport(input: {
  results: CaseResult[];
  baselineTag: string;
  canaryTag: string;
  prompts: number;
  repeat: number;
  durationMs: number;
  rules: Partial<Record<EvalMetric, MetricRule>>;
  explicit: ReadonlySet<EvalMetric>;
  showWorst: number;
}): EvaluationReport {
  const baseline = versionStats(input.baselineTag, input.results, 'baseline');
  const canary = versionStats(input.canaryTag, input.results, 'canary');
  const checks = judgeStats(baseline, canary, input.rules, input.explicit);
  const failed = checks.filter(
    (c) => c.status === 'fail' || (c.status === 'no_data' && input.explicit.has(c.metric)),
  );
  const verdict = failed.length > 0 ? 'fail' : 'pass';
  return {
    verdict,
    prompts: input.prompts,
    repeat: input.repeat,
    requests_per_version: input.results.length,
    duration_ms: input.durationMs,
    baseline,
    canary,
    checks,
    worst: worstCases(input.results, verdict === 'fail' ? input.showWorst : Math.min(1, input.showWorst)),
    ...promptRows(input.results, caseScore),
    summary:
      verdict === 'pass'
        ? `all ${checks.length} evaluation check${checks.length === 1 ? '' : 's'} passed on ${input.results.length} answer${input.results.length === 1 ? '' : 's'} per version`
        : failed.map((c) => c.reason).join('; '),
  };
}
