/**
 * `analysis:` in the plan's JSON Schema: how the canary is judged (interval, window, data and
 * hold deadlines), the thresholds and baseline comparison per judged metric, significance, and
 * where metrics come from (the relay, or Prometheus with its queries), from the same key lists
 * and defaults as its readers, src/plan/analysis-schema.ts and metrics-source-schema.ts.
 */
import { JUDGED_METRICS, PROMETHEUS_QUERY_NAMES } from '../domain/metrics.js';
import {
  duration,
  envName,
  fraction,
  HTTP_URL,
  type JsonSchema,
  object,
  string,
  when,
  whole,
} from './json-schema-kit.js';
import { customMetricsSchema } from './json-schema-metrics.js';
import { DEFAULTS, PLAN_KEYS, SIGNIFICANCE_DEFAULTS } from './plan-keys.js';

function metricRules(
  where: string,
  rule: (metric: string) => JsonSchema,
  extra: Record<string, JsonSchema> = {},
) {
  const keys = [...JUDGED_METRICS, ...Object.keys(extra)];
  return object(where, keys, { ...Object.fromEntries(JUDGED_METRICS.map((m) => [m, rule(m)])), ...extra });
}

const threshold = (metric: string): JsonSchema =>
  object(
    `thresholds.${metric}`,
    PLAN_KEYS.threshold,
    {
      max:
        metric === 'error_rate'
          ? fraction('Highest error rate allowed (0-1).')
          : { type: 'number', minimum: 0 },
    },
    { required: ['max'] },
  );

const comparison = (metric: string): JsonSchema =>
  object(
    `baseline_comparison.${metric}`,
    PLAN_KEYS.comparison,
    {
      max_increase:
        metric === 'error_rate'
          ? fraction('How far above the baseline error rate the canary may be (0-1).')
          : {
              type: 'number',
              minimum: 0,
              description: "How far above the baseline's value the canary may be.",
            },
      max_ratio: {
        type: 'number',
        exclusiveMinimum: 0,
        description: 'Highest canary/baseline ratio, e.g. 1.25.',
      },
      floor:
        metric === 'error_rate'
          ? fraction(
              "Least increase over the baseline's error rate ever allowed (0-1), so a near-zero baseline does not make the ratio unmeetable.",
            )
          : {
              type: 'number',
              minimum: 0,
              description: "Least increase over the baseline's value ever allowed.",
            },
    },
    { anyOf: [{ required: ['max_increase'] }, { required: ['max_ratio'] }] },
  );

const significance: JsonSchema = {
  description: 'Judge the comparison with one-sided tests, rolling back only on significant evidence.',
  anyOf: [
    { type: 'boolean' },
    { type: 'null' },
    object('significance', PLAN_KEYS.significance, {
      enabled: { type: 'boolean', default: true },
      confidence: { type: 'number', minimum: 0.5, maximum: 0.999, default: SIGNIFICANCE_DEFAULTS.confidence },
      min_windows: whole(
        'Windows per side before a latency or cost test judges.',
        2,
        SIGNIFICANCE_DEFAULTS.minWindows,
      ),
    }),
  ],
};

const prometheus: JsonSchema = object(
  'analysis.prometheus',
  PLAN_KEYS.prometheus,
  {
    url: string('Prometheus base URL, e.g. http://prometheus:9090 (no credentials in it).', {
      pattern: HTTP_URL,
    }),
    bearer_token_env: envName('Env var holding a bearer token'),
    username: string('Basic-auth user (with password_env).'),
    password_env: envName('Env var holding the basic-auth password'),
    queries: object(
      'analysis.prometheus.queries',
      PROMETHEUS_QUERY_NAMES,
      Object.fromEntries(
        PROMETHEUS_QUERY_NAMES.map((q) => [
          q,
          string('PromQL with {{version_tag}}, {{route}} and {{window}} filled in.'),
        ]),
      ),
    ),
  },
  {
    required: ['url'],
    dependencies: {
      username: ['password_env'],
      password_env: ['username'],
      bearer_token_env: {
        not: {
          anyOf: [
            { type: 'object', required: ['username'] },
            { type: 'object', required: ['password_env'] },
          ],
        },
      },
    },
  },
);

/** A metrics list with a PromQL metric in it. */
const PROMQL_METRICS: JsonSchema = {
  type: 'array',
  contains: { type: 'object', required: ['query'], properties: { query: { type: 'string' } } },
};

export const analysis: JsonSchema = object(
  'analysis',
  PLAN_KEYS.analysis,
  {
    interval: duration('How often the canary is judged', { positive: true, default: DEFAULTS.intervalMs }),
    window: duration('Trailing metrics window each check reads (at least the interval)', {
      positive: true,
      default: DEFAULTS.windowMs,
    }),
    min_requests: whole('Canary requests a check needs before it can judge.', 1, DEFAULTS.minRequests),
    failure_limit: whole('Failed checks within a stage that roll back.', 1, DEFAULTS.failureLimit),
    hold_deadline: duration(
      'How long a shared incident (both versions breaching the same limit) may hold a stage before rolling back',
      { positive: true, default: DEFAULTS.holdDeadlineMs },
    ),
    data_deadline: {
      type: 'string',
      pattern: '^0*[1-9]\\d*(?:\\.\\d+)?x$',
      default: `${DEFAULTS.dataDeadlineFactor}x`,
      description: 'How long a stage may wait for enough data, as a multiple of its bake (at least 1x).',
    },
    max_metric_errors: whole(
      'Consecutive failed metric reads before on_metric_errors applies.',
      1,
      DEFAULTS.maxMetricErrors,
    ),
    on_metric_errors: { enum: ['rollback', 'hold'], default: DEFAULTS.onMetricErrors },
    thresholds: metricRules('analysis.thresholds', threshold),
    baseline_comparison: metricRules('analysis.baseline_comparison', comparison, { significance }),
    provider: { enum: ['relay', 'prometheus'], default: 'relay', description: 'Where metrics come from.' },
    metrics: customMetricsSchema(),
    prometheus,
  },
  {
    description: 'How the canary is judged between steps.',
    // provider: prometheus and a prometheus block come together (a block left empty counts as absent).
    allOf: [
      when(
        { type: 'object', required: ['provider'], properties: { provider: { const: 'prometheus' } } },
        { type: 'object', required: ['prometheus'], properties: { prometheus: { type: 'object' } } },
      ),
      // A prometheus block serves provider: prometheus, or the PromQL ones of analysis.metrics.
      when(
        {
          type: 'object',
          required: ['prometheus'],
          properties: { prometheus: { type: 'object' } },
          not: { required: ['metrics'], properties: { metrics: PROMQL_METRICS } },
        },
        { type: 'object', required: ['provider'], properties: { provider: { const: 'prometheus' } } },
      ),
      when(
        { type: 'object', required: ['metrics'], properties: { metrics: PROMQL_METRICS } },
        { type: 'object', required: ['prometheus'], properties: { prometheus: { type: 'object' } } },
      ),
    ],
  },
);
