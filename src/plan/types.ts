/**
 * The validated, normalised plan the core runs. `src/plan/load.ts` turns a YAML file into
 * this (durations in ms, defaults filled in, paths resolved); nothing downstream reads YAML.
 */
import type { CustomMetricConfig } from '../custom-metrics/types.js';
import type { JudgedMetric, PrometheusQueryName } from '../domain/metrics.js';
import type { CreateRouteRequest, JsonValue, VersionSpec } from '../domain/relay.js';
import type { EvaluationConfig } from '../evaluation/types.js';

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
