/**
 * The pre-traffic evaluation (`evaluation:` in a plan): before the first weight change, a prompt
 * set goes to the baseline and to the canary through the relay's data plane, each request pinned
 * to one version, and the answers are judged per version and side by side.
 *
 * Field names of anything written as JSON (events, journal) are snake_case (issue 19's rule).
 * The plan's `evaluation:` settings (EvaluationConfig, its metrics and rules) are in src/domain/plan.ts.
 */
import type { EvalMetric, RuleKey } from '../domain/plan.js';

/** Metrics that only the canary has: they compare the canary's answers with the baseline's. */
export const CANARY_ONLY_METRICS: readonly EvalMetric[] = ['agreement', 'judge_score'];

export type Role = 'baseline' | 'canary';

export interface Expectations {
  contains?: string[];
  not_contains?: string[];
  /** Source of a JavaScript regular expression, with its flags. */
  regex?: { source: string; flags: string }[];
  /** A JSON Schema the answer (parsed as JSON) must satisfy. */
  json_schema?: Record<string, unknown>;
  max_output_tokens?: number;
}

/** One prompt of a set, as read from its JSONL line. */
export interface PromptCase {
  /** `id` from the line, or `file:line`. */
  id: string;
  file: string;
  line: number;
  /** The chat request body without `model` (any OpenAI chat parameter the line gives passes through). */
  request: Record<string, unknown> & { messages: unknown[] };
  expect?: Expectations | undefined;
}

/** What the data plane answered for one request. */
export interface ChatAnswer {
  /** HTTP status; 0 when no answer came (network error, timeout). */
  status: number;
  /** The `X-Relay-Version` answer header, when the relay sent one. */
  servedBy: string | undefined;
  content: string | null;
  completionTokens: number | null;
  promptTokens: number | null;
  /** `usage.cost` (USD) when the relay reports it, as OpenRouter-style relays do; else null. */
  cost: number | null;
  /** From sending to the whole answer. */
  latencyMs: number;
  /** From sending to the first content chunk; null when the answer was not streamed. */
  ttftMs: number | null;
  finishReason: string | null;
  /** Why the request failed, in words (never holds the key). */
  error?: string | undefined;
  /** The relay's `error.type`, or `timeout` / `network_error`. */
  errorType?: string | undefined;
}

export interface ChatCall {
  version: string;
  route: string;
  request: PromptCase['request'];
  timeoutMs: number;
  stream: boolean;
  signal?: AbortSignal | undefined;
}

/** The relay's data plane, as the evaluation sees it. Implemented over HTTP in ./data-plane.ts. */
export interface DataPlanePort {
  complete(call: ChatCall): Promise<ChatAnswer>;
}

export interface JudgeInput {
  prompt: PromptCase;
  baseline: string;
  canary: string;
  repeat: number;
  signal?: AbortSignal | undefined;
}

/** Scores a canary answer against the baseline's; throws JudgeError when the command fails. */
export type JudgePort = (input: JudgeInput) => Promise<number>;

/** One prompt × repeat, both versions. */
export interface CaseResult {
  prompt: PromptCase;
  repeat: number;
  baseline: ChatAnswer;
  canary: ChatAnswer;
  /** Expectation failures per version, in words; undefined when the prompt has none or no answer came. */
  baselineFailures: string[] | undefined;
  canaryFailures: string[] | undefined;
  /** Similarity of the two answers in [0, 1]; null when either failed. */
  agreement: number | null;
  judgeScore: number | null;
}

export interface VersionStats {
  version_tag: string;
  requests: number;
  success_rate: number | null;
  expectation_pass_rate: number | null;
  /** Answers that had expectations to check. */
  expectation_checked: number;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p99_ms: number | null;
  output_tokens: number | null;
  cost_per_answer: number | null;
  /** Canary only. */
  agreement?: number | null;
  judge_score?: number | null;
}

export interface EvalCheck {
  /** e.g. `success_rate.min`, `latency_p99_ms.max_ratio`. */
  id: string;
  metric: EvalMetric;
  rule: RuleKey;
  status: 'pass' | 'fail' | 'no_data';
  value: number | null;
  baseline: number | null;
  /** The bound the value was held against, in the metric's unit. */
  bound: number | null;
  reason: string;
}

export interface WorstCase {
  prompt_id: string;
  file: string;
  line: number;
  repeat: number;
  prompt: string;
  baseline: string;
  canary: string;
  /** Why this one is among the worst, in words. */
  why: string;
  agreement: number | null;
  judge_score: number | null;
}

/** One version's answers to one prompt, over its repeats (src/evaluation/per-prompt.ts). */
export interface PromptVersionRow {
  /** Repeats answered (2xx with content), of the row's `repeats`. */
  answered: number;
  /** Why the first unanswered repeat failed (`HTTP 502: upstream failed`); absent when all answered. */
  error?: string;
  /** Median latency of the answered repeats; null when none was. */
  latency_ms: number | null;
  /** Mean `usage.completion_tokens` of the answered repeats; null when none reported it. */
  output_tokens: number | null;
  /** Answers checked against the prompt's `expect` (0 when it has none) and how many met all of it. */
  expect_checked: number;
  expect_met: number;
  /** The distinct expectation failures, in words (at most 3, each shortened to 160 characters). */
  failures?: string[];
}

/** One prompt of the set, both versions side by side: the report's per-prompt table. */
export interface PromptRow {
  prompt_id: string;
  file: string;
  line: number;
  repeats: number;
  baseline: PromptVersionRow;
  canary: PromptVersionRow;
  /** Means over the repeats where both answered; null when none did (or no judge ran). */
  agreement: number | null;
  judge_score: number | null;
}

/** The whole evaluation, as events and the journal carry it. */
export interface EvaluationReport {
  verdict: 'pass' | 'fail';
  prompts: number;
  repeat: number;
  requests_per_version: number;
  duration_ms: number;
  baseline: VersionStats;
  canary: VersionStats;
  checks: EvalCheck[];
  worst: WorstCase[];
  /**
   * Every prompt sent, in prompt-set order, at most PROMPT_ROWS_LIMIT (the worst-scoring are kept);
   * `per_prompt_left_out` counts the better-scoring prompts past the limit. Both are absent in
   * journals before version 3.
   */
  per_prompt?: PromptRow[];
  per_prompt_left_out?: number;
  /** One sentence: what failed, or that everything passed. */
  summary: string;
}
