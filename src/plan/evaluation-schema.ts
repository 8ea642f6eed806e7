/**
 * `evaluation:` in a plan (the pre-traffic evaluation, src/evaluation/): read with the plan's
 * walker, so every problem is reported at its own line:column with what was expected. The
 * prompt files themselves are read when the rollout (or `canary validate`) starts.
 */
import { resolve } from 'node:path';
import {
  EVAL_METRICS,
  type EvalMetric,
  type EvaluationConfig,
  type JudgeConfig,
  type MetricRule,
  RULE_KEYS,
} from '../domain/plan.js';
import { DEFAULT_EVAL_RULES } from '../evaluation/verdict.js';
import { readRuleKeys } from './metrics-schema.js';
import { type Entry, expandHome, type Fields, optionalMapping, type PlanReader } from './reader.js';

export const EVALUATION_DEFAULTS = {
  repeat: 1,
  concurrency: 4,
  timeoutMs: 60_000,
  maxTokens: 512,
  judgeTimeoutMs: 60_000,
  judgeConcurrency: 2,
  showWorst: 3,
} as const;

export const EVALUATION_KEYS = {
  evaluation: [
    'prompts',
    'repeat',
    'sample',
    'concurrency',
    'timeout',
    'max_tokens',
    'stream',
    'judge',
    'thresholds',
    'show_worst',
  ],
  judge: ['run', 'timeout', 'concurrency'],
} as const;

/** Rates and scores live in [0, 1]; a `min: 95` meant 95 %, which the message says. */
const UNIT_METRICS: readonly EvalMetric[] = ['success_rate', 'expectation_pass_rate', 'agreement'];

function readRule(r: PlanReader, entry: Entry, metric: EvalMetric): MetricRule | undefined {
  const fields = r.mapping(entry, RULE_KEYS);
  if (!fields) return undefined;
  const rule = readRuleKeys(r, fields, (key, e) => {
    const absolute = key === 'min' || key === 'max';
    const ratio = key === 'max_ratio' || key === 'min_ratio';
    const unit = UNIT_METRICS.includes(metric) && !ratio;
    return unit
      ? r.number(e, 'a number between 0 and 1 (a rate: 0.95 is 95 %)', (v) => v >= 0 && v <= 1)
      : ratio
        ? r.number(e, 'a ratio above 0, e.g. 1.5', (v) => v > 0)
        : r.number(e, absolute ? 'a number' : 'a number of at least 0', (v) => absolute || v >= 0);
  });
  if (rule && Object.keys(rule).length === 0) {
    r.problem(entry, `${entry.path}: expected at least one of ${RULE_KEYS.join(', ')}`);
    return undefined;
  }
  return rule;
}

function readJudge(r: PlanReader, entry: Entry): JudgeConfig | undefined {
  const command = r.text(entry);
  if (command !== undefined && command.trim() !== '') {
    return {
      run: command,
      timeoutMs: EVALUATION_DEFAULTS.judgeTimeoutMs,
      concurrency: EVALUATION_DEFAULTS.judgeConcurrency,
    };
  }
  if (r.kind(entry) !== 'map')
    return r.fail(entry, 'a command like ./judge.sh, or {run: ./judge.sh, timeout: 30s}');
  const fields = r.mapping(entry, EVALUATION_KEYS.judge);
  const run = r.string(r.required(fields, 'run'), 'a shell command like ./judge.sh');
  const timeoutEntry = r.optional(fields, 'timeout');
  const timeout = r.duration(timeoutEntry, { positive: true });
  const concurrencyEntry = r.optional(fields, 'concurrency');
  const concurrency = r.number(
    concurrencyEntry,
    'a whole number from 1 to 32',
    (n) => Number.isInteger(n) && n >= 1 && n <= 32,
  );
  if (
    run === undefined ||
    (timeoutEntry && timeout === undefined) ||
    (concurrencyEntry && concurrency === undefined)
  )
    return undefined;
  return {
    run,
    timeoutMs: timeout ?? EVALUATION_DEFAULTS.judgeTimeoutMs,
    concurrency: concurrency ?? EVALUATION_DEFAULTS.judgeConcurrency,
  };
}

function readPromptPaths(r: PlanReader, entry: Entry | undefined, baseDir: string): string[] | undefined {
  if (!entry) return undefined;
  const expectation = 'a JSONL file path, or a list of them, like prompts/support.jsonl';
  const one = (e: Entry): string | undefined => {
    const text = r.string(e, expectation);
    return text === undefined ? undefined : resolve(baseDir, expandHome(text));
  };
  const items = r.items(entry);
  if (items !== undefined) {
    if (items.length === 0) return r.fail(entry, expectation);
    const files = items.map(one);
    return files.every((f) => f !== undefined) ? (files as string[]) : undefined;
  }
  const file = one(entry);
  return file === undefined ? undefined : [file];
}

/** Undefined when absent or when a problem was reported (the reader holds the problems). */
export function readEvaluation(
  r: PlanReader,
  entry: Entry | undefined,
  baseDir: string,
): EvaluationConfig | undefined {
  const fields = optionalMapping(r, entry, EVALUATION_KEYS.evaluation);
  if (!fields) return undefined;
  let ok = true;
  const prompts = readPromptPaths(r, r.required(fields, 'prompts'), baseDir);
  const counts = readCounts(r, fields);
  if (!counts) ok = false;
  const timeoutEntry = r.optional(fields, 'timeout');
  const timeout = r.duration(timeoutEntry, { positive: true });
  if (timeoutEntry && timeout === undefined) ok = false;
  const streamEntry = r.optional(fields, 'stream');
  const stream = r.boolean(streamEntry);
  if (streamEntry && stream === undefined) ok = false;
  const judgeEntry = r.optional(fields, 'judge');
  const judge = judgeEntry ? readJudge(r, judgeEntry) : undefined;
  if (judgeEntry && !judge) ok = false;
  const thresholds = readThresholds(r, fields, judgeEntry !== undefined);
  if (!thresholds) ok = false;
  if (!ok || prompts === undefined || !counts || !thresholds) return undefined;
  return {
    prompts,
    repeat: counts.repeat ?? EVALUATION_DEFAULTS.repeat,
    ...(counts.sample !== undefined ? { sample: counts.sample } : {}),
    concurrency: counts.concurrency ?? EVALUATION_DEFAULTS.concurrency,
    timeoutMs: timeout ?? EVALUATION_DEFAULTS.timeoutMs,
    maxTokens: counts.maxTokens ?? EVALUATION_DEFAULTS.maxTokens,
    stream: stream ?? true,
    ...(judge ? { judge } : {}),
    rules: thresholds.rules,
    explicit: thresholds.explicit,
    showWorst: counts.showWorst ?? EVALUATION_DEFAULTS.showWorst,
  };
}

/** The whole-number settings, each within its range when given; undefined when a problem was reported. */
function readCounts(
  r: PlanReader,
  fields: Fields,
):
  | { repeat?: number; sample?: number; concurrency?: number; maxTokens?: number; showWorst?: number }
  | undefined {
  let ok = true;
  const whole = (key: string, low: number, high: number): number | undefined => {
    const e = r.optional(fields, key);
    if (!e) return undefined;
    const n = r.number(
      e,
      `a whole number from ${low} to ${high}`,
      (v) => Number.isInteger(v) && v >= low && v <= high,
    );
    if (n === undefined) ok = false;
    return n;
  };
  const counts = {
    repeat: whole('repeat', 1, 100),
    sample: whole('sample', 1, 10_000),
    concurrency: whole('concurrency', 1, 64),
    maxTokens: whole('max_tokens', 1, 1_000_000),
    showWorst: whole('show_worst', 0, 20),
  };
  return ok ? counts : undefined;
}

/**
 * `evaluation.thresholds`: the default rules, with the plan's own in their place; undefined when
 * a problem was reported.
 */
function readThresholds(
  r: PlanReader,
  fields: Fields,
  judgeGiven: boolean,
): { rules: Partial<Record<EvalMetric, MetricRule>>; explicit: EvalMetric[] } | undefined {
  let ok = true;
  const rules: Partial<Record<EvalMetric, MetricRule>> = { ...DEFAULT_EVAL_RULES };
  const explicit: EvalMetric[] = [];
  const thresholdsEntry = r.optional(fields, 'thresholds');
  const thresholdFields = thresholdsEntry ? r.mapping(thresholdsEntry, EVAL_METRICS) : undefined;
  if (thresholdsEntry && !thresholdFields) ok = false;
  for (const [metric, e] of thresholdFields?.entries ?? []) {
    const m = metric as EvalMetric;
    if (m === 'judge_score' && !judgeGiven) {
      r.problemAtKey(e, `${e.path} needs evaluation.judge: the score comes from the judge command`);
      ok = false;
      continue;
    }
    const rule = readRule(r, e, m);
    if (!rule) {
      ok = false;
      continue;
    }
    if (
      (m === 'agreement' || m === 'judge_score') &&
      Object.keys(rule).some((k) => k !== 'min' && k !== 'max')
    ) {
      r.problem(
        e,
        `${e.path}: ${m} compares the canary's answers with the baseline's already; use min or max`,
      );
      ok = false;
      continue;
    }
    rules[m] = rule;
    explicit.push(m);
  }
  return ok ? { rules, explicit } : undefined;
}
