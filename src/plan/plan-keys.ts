/**
 * The plan's vocabulary: every mapping's keys, the patterns and the defaults a plan leaves out.
 * The JSON Schema (src/plan/json-schema.ts) and `canary init` read them from here too, so the
 * validator and what it is held to cannot drift apart.
 */
import type { SignificanceConfig } from '../domain/plan.js';

export const ROUTE_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const DEFAULTS = {
  apiKeyEnv: 'RELAY_API_KEY',
  bakeMs: 10 * 60_000,
  intervalMs: 30_000,
  windowMs: 5 * 60_000,
  minRequests: 200,
  failureLimit: 2,
  /** With significance on, each look's test is already held to its share of the error budget. */
  failureLimitWithSignificance: 1,
  holdDeadlineMs: 30 * 60_000,
  dataDeadlineFactor: 2,
  maxMetricErrors: 3,
  onMetricErrors: 'rollback',
  rollbackDeadlineMs: 2 * 60_000,
  checkTimeoutMs: 2 * 60_000,
  notifyTimeoutMs: 5_000,
} as const;

/** Above this the emulator would spend its time simulating rather than answering. */
export const MAX_EMULATOR_RPS = 100_000;

export const KEYS = {
  top: [
    'relay',
    'emulator',
    'route',
    'baseline',
    'canary',
    'stages',
    'bake',
    'analysis',
    'route_defaults',
    'rollback',
    'checks',
    'notify',
    'evaluation',
  ],
  relay: ['url', 'api_key_env', 'api_key_file'],
  emulator: ['scenario', 'rps', 'seed'],
  version: [
    'version_tag',
    'model',
    'parameters',
    'system_prompt',
    'upstream_endpoint',
    'cost_limit_per_request',
    'metadata',
  ],
  stage: ['weight', 'bake', 'pause', 'data_deadline', 'checks'],
  check: ['name', 'run', 'timeout'],
  notify: ['url', 'url_env', 'events', 'format', 'timeout'],
  analysis: [
    'interval',
    'window',
    'min_requests',
    'failure_limit',
    'hold_deadline',
    'data_deadline',
    'max_metric_errors',
    'on_metric_errors',
    'thresholds',
    'baseline_comparison',
    'provider',
    'prometheus',
    'metrics',
  ],
  prometheus: ['url', 'bearer_token_env', 'username', 'password_env', 'queries'],
  threshold: ['max'],
  comparison: ['max_increase', 'max_ratio', 'floor'],
  significance: ['enabled', 'confidence', 'min_windows'],
  routeDefaults: ['sticky_sessions', 'health_check'],
  sticky: ['enabled', 'cookie_name', 'ttl_seconds'],
  healthCheck: ['enabled', 'error_rate_threshold', 'latency_p99_threshold_ms', 'auto_rollback'],
  rollback: ['deadline'],
} as const;

/** Every mapping's keys, for the plan's JSON Schema (src/plan/json-schema.ts), which must describe each. */
export const PLAN_KEYS = KEYS;

/** Chosen with `npm run judge` (docs/judgement.md): the settings that scored best on its scenarios. */
export const SIGNIFICANCE_DEFAULTS: SignificanceConfig = { confidence: 0.99, minWindows: 4 };
