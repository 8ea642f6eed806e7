/**
 * The plan as the core runs it: validated and normalised (durations in ms, defaults filled in,
 * paths resolved). src/plan/ produces it from a YAML file; the engine, the analysis, the metric
 * sources, the evaluation and the reporters consume it, and none of them reads YAML or imports
 * the plan's reader for these words.
 */
import type { JudgedMetric, PrometheusQueryName } from './metrics.js';
import type { CreateRouteRequest, JsonValue, VersionSpec } from './relay.js';

export interface ThresholdRule {
  /** The canary's value must be at most this. */
  max: number;
}

export interface ComparisonRule {
  /** canary − baseline must be at most this (absolute, e.g. error-rate points). */
  max_increase?: number;
  /** canary / baseline must be at most this. */
  max_ratio?: number;
  /**
   * The bound is never below baseline + floor: a ratio alone allows almost nothing above a
   * baseline near 0 (1.25 × 0.1 % errors is 0.125 %), which fails good canaries on a few errors.
   */
  floor?: number;
}

export interface AnalysisConfig {
  intervalMs: number;
  windowMs: number;
  /** Canary requests in the window before a verdict counts. */
  minRequests: number;
  /** Failed evaluations within one stage before rollback (not reset by a pass). */
  failureLimit: number;
  /** How long a shared incident (both versions over a threshold) may hold a stage before rolling back. */
  holdDeadlineMs: number;
  /** How long a stage may wait for enough data, as a multiple of its bake (default 2). */
  dataDeadlineFactor: number;
  /** Consecutive unreadable metrics reads before the metrics-error policy applies (default 3). */
  maxMetricErrors: number;
  /** What to do after `maxMetricErrors` failed reads: fail safe (rollback, default) or hold. */
  onMetricErrors: 'rollback' | 'hold';
  thresholds: Partial<Record<JudgedMetric, ThresholdRule>>;
  baselineComparison: Partial<Record<JudgedMetric, ComparisonRule>>;
  /** When set, comparison checks fail only when the canary is worse beyond the margin and the noise. */
  significance?: SignificanceConfig | undefined;
  /** Where metrics come from; absent means `relay` (the relay's metrics API). */
  provider?: 'relay' | 'prometheus' | undefined;
  /** Present when provider is `prometheus`, or when `customMetrics` has PromQL ones. */
  prometheus?: PrometheusConfig | undefined;
  /** `analysis.metrics:`, user-defined metrics (src/custom-metrics/). */
  customMetrics?: CustomMetricConfig[] | undefined;
}

export interface PrometheusConfig {
  /** Base URL of the Prometheus server (its HTTP API lives under /api/v1). */
  url: string;
  /** Env var holding a bearer token. */
  bearerTokenEnv?: string | undefined;
  /** Basic auth; the password comes from an env var. */
  basicAuth?: { username: string; passwordEnv: string } | undefined;
  /** Every query, defaults filled in. */
  queries: Record<PrometheusQueryName, string>;
}

/** `analysis.baseline_comparison.significance`: one-sided tests of H0 canary ≤ bound. */
export interface SignificanceConfig {
  /**
   * Per rollout: a canary within its bounds is rolled back for health with probability at most
   * 1 − confidence, however many stages, metrics and looks (src/analysis/sequential.ts).
   */
  confidence: number;
  /** Non-overlapping windows per side before a latency or cost test can judge. */
  minWindows: number;
}

export interface StagePlan {
  /** 0-based position in the plan. */
  index: number;
  /** Canary weight in percent, (0, 100]. */
  weight: number;
  bakeMs: number;
  /** Manual gate before leaving this stage. */
  pause: boolean;
  /** Give up waiting for enough data after this long in the stage (default 2 × bake). */
  dataDeadlineMs: number;
  /** Commands that must pass before leaving this stage, after the plan's top-level checks. */
  checks?: StageCheck[] | undefined;
}

/** A command run before leaving a stage (a smoke test, an eval); exit 0 passes. */
export interface StageCheck {
  name: string;
  /** Shell command, run by `sh -c` in the plan's folder. */
  run: string;
  timeoutMs: number;
}

export const NOTIFY_EVENTS = [
  'started',
  'stage_passed',
  'paused',
  'promoted',
  'rolled_back',
  'failed',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** A webhook to tell about the rollout. Exactly one of `url` and `urlEnv` is set. */
export interface NotifyTarget {
  /** The webhook URL as written in the plan (a secret: never printed). */
  url?: string | undefined;
  /** Env var holding the URL, read when the rollout starts. */
  urlEnv?: string | undefined;
  events: NotifyEvent[];
  /** `slack`: `{text}`; `json`: a structured body. */
  format: 'slack' | 'json';
  timeoutMs: number;
}

/** A version the plan names; `spec` is present when the plan gives a model, so canary registers it. */
export interface VersionRef {
  tag: string;
  spec?: VersionSpec;
}

export interface RelayConfig {
  /** Base URL ending in /v1, or the literal `emulator`. */
  url: string;
  /** Env var holding the API key (default RELAY_API_KEY). */
  apiKeyEnv: string;
  /** Optional key file path (resolved); used when the env var is unset. */
  apiKeyFile?: string;
}

export interface EmulatorConfig {
  /** A scenario file path (resolved against the plan's folder) or an inline scenario document. */
  scenario?: string | { [key: string]: JsonValue };
  /** Simulated requests per second on the route (default 200). */
  rps?: number;
  seed?: number;
}

export interface Plan {
  /** Absolute path of the plan file. */
  file: string;
  /** sha256 of the plan file's bytes, hex. */
  hash: string;
  relay: RelayConfig;
  emulator?: EmulatorConfig;
  route: string;
  baseline: VersionRef;
  canary: VersionRef;
  stages: StagePlan[];
  analysis: AnalysisConfig;
  /** Route settings used only when canary creates the route. */
  routeDefaults: Pick<CreateRouteRequest, 'sticky_sessions' | 'health_check'>;
  rollback: {
    /** How long to keep retrying a rollback before exit 4. */
    deadlineMs: number;
  };
  /** Checks run before leaving every stage (each stage may add its own). */
  checks?: StageCheck[] | undefined;
  notify?: NotifyTarget[] | undefined;
  /** The pre-traffic evaluation on a prompt set (src/evaluation/), run before the first weight change. */
  evaluation?: EvaluationConfig | undefined;
}

/**
 * One rule on one metric. `min`/`max` hold the canary's value; the others hold it against the
 * baseline's (on the same prompts, or in the same window for `analysis.metrics:`): `max_ratio`/`min_ratio` (canary ÷ baseline) and
 * `max_increase`/`max_decrease` (canary − baseline, in the metric's unit).
 */
export interface MetricRule {
  min?: number;
  max?: number;
  max_ratio?: number;
  min_ratio?: number;
  max_increase?: number;
  max_decrease?: number;
}
export const RULE_KEYS = ['min', 'max', 'max_ratio', 'min_ratio', 'max_increase', 'max_decrease'] as const;
export type RuleKey = (typeof RULE_KEYS)[number];

// `analysis.metrics:`, user-defined metrics (src/custom-metrics/).

/** A header of an HTTP metric source. */
export interface HttpHeader {
  name: string;
  /** A plain value (never a secret: the schema refuses secret-looking headers without `env`). */
  value?: string | undefined;
  /** Env var holding the value, read when the rollout starts. */
  env?: string | undefined;
  /** Put before the env var's value, e.g. `Bearer `. */
  prefix?: string | undefined;
}

export type CustomSource =
  | {
      kind: 'prometheus';
      /** PromQL with `{{version_tag}}`, `{{route}}`, `{{window}}`; one number per version. */
      query: string;
    }
  | {
      kind: 'http';
      /** URL template; placeholders are URL-encoded. No credentials in it. */
      url: string;
      method: 'GET' | 'POST';
      headers: HttpHeader[];
      /** POST body template (JSON); placeholders in its strings are filled in. */
      body?: unknown;
      /** JSONPath to the number in the answer, e.g. `$.data.mean`. */
      path: string;
    };

export interface CustomMetricConfig {
  /** `[a-z][a-z0-9_]*`, unique in the plan. */
  name: string;
  source: CustomSource;
  rule: MetricRule;
  /** Canary requests in the window before this metric counts (default: analysis.min_requests). */
  minRequests: number;
  /** Compute, show and journal it, but never fail a check on it. */
  dryRun: boolean;
}

// `evaluation:`, the pre-traffic evaluation on a prompt set (src/evaluation/).

/** The metrics an evaluation measures per version; thresholds and comparisons name them. */
export const EVAL_METRICS = [
  'success_rate',
  'expectation_pass_rate',
  'agreement',
  'judge_score',
  'latency_p50_ms',
  'latency_p99_ms',
  'ttft_p50_ms',
  'ttft_p99_ms',
  'output_tokens',
  'cost_per_answer',
] as const;
export type EvalMetric = (typeof EVAL_METRICS)[number];

export interface JudgeConfig {
  /** Shell command run by `sh -c` in the plan's folder; both answers as JSON on stdin, a score on stdout. */
  run: string;
  timeoutMs: number;
  /** At most this many judge commands at once (default 2). */
  concurrency: number;
}

export interface EvaluationConfig {
  /** Absolute paths of the JSONL prompt files, in plan order. */
  prompts: string[];
  /** How often each prompt is sent to each version (default 1). */
  repeat: number;
  /** Send only this many prompts, picked evenly and deterministically from the set. */
  sample?: number | undefined;
  /** Requests in flight at once, both versions together (default 4). */
  concurrency: number;
  /** Per request (default 60 s). */
  timeoutMs: number;
  /** `max_tokens` for prompts that give none (default 512). */
  maxTokens: number;
  /** Ask for a streamed answer to measure time to first token (default true). */
  stream: boolean;
  judge?: JudgeConfig | undefined;
  /** Per metric; defaults filled in by the schema. */
  rules: Partial<Record<EvalMetric, MetricRule>>;
  /** Metrics whose rules the plan wrote: a check without data fails only for these. */
  explicit: EvalMetric[];
  /** How many of the worst prompts a failed evaluation shows side by side (default 3). */
  showWorst: number;
}
