/**
 * The plan's JSON Schema, for editors (yaml-language-server, SchemaStore) and `canary schema`.
 *
 * The validator in src/plan/schema.ts stays the authority: it reports every problem with its
 * line and column and checks what a JSON Schema cannot say (weights that increase, a window no
 * shorter than the interval, PromQL templates, two versions with one tag). This file says the
 * rest in JSON Schema, built from the validator's own key lists, patterns and limits, so the two
 * cannot drift apart on keys: `object()` refuses a key list and a description that disagree.
 * test/plan/json-schema.test.ts runs both over every example and fixture plan with ajv.
 */

import { JUDGED_METRICS, PROMETHEUS_QUERY_NAMES } from '../domain/metrics.js';
import { NOTIFY_EVENTS } from '../domain/plan.js';
import { VERSION_TAG_PATTERN } from '../domain/relay.js';
import { VERSION } from '../version.js';
import { evaluationSchema } from './json-schema-evaluation.js';
import {
  anyJson,
  duration,
  envName,
  fraction,
  HTTP_URL,
  type JsonSchema,
  object,
  source,
  string,
  when,
  whole,
} from './json-schema-kit.js';
import { customMetricsSchema } from './json-schema-metrics.js';
import { DEFAULTS, MAX_EMULATOR_RPS, PLAN_KEYS, ROUTE_PATTERN, SIGNIFICANCE_DEFAULTS } from './plan-keys.js';
import { PLAN_SCHEMA_URL } from './schema-url.js';

export type { JsonSchema } from './json-schema-kit.js';

function version(role: string): JsonSchema {
  const needsModel = [
    'parameters',
    'system_prompt',
    'upstream_endpoint',
    'cost_limit_per_request',
    'metadata',
  ];
  return object(
    role,
    PLAN_KEYS.version,
    {
      version_tag: {
        type: 'string',
        pattern: source(VERSION_TAG_PATTERN),
        description: "The version's tag on the relay: lowercase letters, digits and '-', 1-64 characters.",
      },
      model: string(
        'The model, e.g. anthropic/claude-sonnet-4-20250514. With it canary registers the version when the relay lacks it; without it the version must exist.',
      ),
      parameters: anyJson('Model parameters (temperature, max_tokens, …), sent as given. Needs model.'),
      system_prompt: { type: 'string', description: 'System prompt of this version. Needs model.' },
      upstream_endpoint: string('Provider endpoint override. Needs model.'),
      cost_limit_per_request: { type: 'number', exclusiveMinimum: 0, description: 'Needs model.' },
      metadata: anyJson('Free-form metadata stored with the version. Needs model.'),
    },
    {
      required: ['version_tag'],
      description:
        role === 'baseline'
          ? 'The version serving now; a rollback restores it.'
          : 'The version being rolled out (its tag must differ from the baseline).',
      dependencies: Object.fromEntries(needsModel.map((k) => [k, ['model']])),
    },
  );
}

function checks(description: string): JsonSchema {
  return {
    type: 'array',
    description,
    items: object(
      'a check',
      PLAN_KEYS.check,
      {
        name: string('Name shown in output and events (default: the command). Unique in its list.'),
        run: string('Shell command, run by sh -c in the plan folder; exit 0 passes.'),
        timeout: duration('Kill the check after this long', {
          positive: true,
          default: DEFAULTS.checkTimeoutMs,
        }),
      },
      { required: ['run'] },
    ),
  };
}

const weight: JsonSchema = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 100,
  description: 'Canary weight in percent (above 0, at most 100, at most two decimals).',
};

const stage: JsonSchema = {
  anyOf: [
    weight,
    object(
      'a stage',
      PLAN_KEYS.stage,
      {
        weight,
        bake: duration('How long this stage runs before it may move on (default: the top-level bake)'),
        pause: {
          type: 'boolean',
          default: false,
          description: 'Wait for a person (or --approve-gates) before leaving.',
        },
        data_deadline: duration(
          'Give up waiting for enough data after this long (default: analysis.data_deadline × bake)',
        ),
        checks: checks("Commands run before leaving this stage, after the plan's top-level checks."),
      },
      { required: ['weight'] },
    ),
  ],
};

const stages: JsonSchema = {
  type: 'array',
  minItems: 1,
  // Increasing weights are unique; this catches [5, 5, 100].
  uniqueItems: true,
  items: stage,
  // The validator also wants the weights increasing and 100 last; with weights at most 100,
  // "some stage is 100" is what a JSON Schema can say of that.
  contains: {
    anyOf: [{ const: 100 }, { type: 'object', required: ['weight'], properties: { weight: { const: 100 } } }],
  },
  description:
    'Canary weights, increasing, the last 100: [5, 25, 50, 100], or mappings like {weight: 25, bake: 1h, pause: true}.',
};

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

const analysis: JsonSchema = object(
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

const routeDefaults: JsonSchema = object(
  'route_defaults',
  PLAN_KEYS.routeDefaults,
  {
    sticky_sessions: object(
      'route_defaults.sticky_sessions',
      PLAN_KEYS.sticky,
      {
        enabled: { type: 'boolean' },
        cookie_name: string('Cookie that pins a client to a version.'),
        ttl_seconds: whole('How long a client stays pinned.', 1),
      },
      { required: ['enabled'] },
    ),
    health_check: object(
      'route_defaults.health_check',
      PLAN_KEYS.healthCheck,
      {
        enabled: { type: 'boolean' },
        error_rate_threshold: fraction("The relay's own error-rate limit (0-1)."),
        latency_p99_threshold_ms: { type: 'number', exclusiveMinimum: 0 },
        auto_rollback: { type: 'boolean' },
      },
      { required: ['enabled'] },
    ),
  },
  {
    description:
      "Settings for the route when canary creates it (the relay's own health check, sticky sessions).",
  },
);

const notify: JsonSchema = {
  type: 'array',
  description: 'Webhooks told about the rollout; they never delay it.',
  items: object(
    'a notify target',
    PLAN_KEYS.notify,
    {
      url: string('Webhook URL (a secret: prefer url_env).', { pattern: HTTP_URL }),
      url_env: envName('Env var holding the webhook URL'),
      events: {
        type: 'array',
        minItems: 1,
        items: { enum: [...NOTIFY_EVENTS] },
        description: 'Default: all.',
      },
      format: { enum: ['json', 'slack'], default: 'json' },
      timeout: duration('Per attempt', { positive: true, default: DEFAULTS.notifyTimeoutMs }),
    },
    {
      oneOf: [
        { type: 'object', required: ['url'], properties: { url: { type: 'string' } } },
        { type: 'object', required: ['url_env'], properties: { url_env: { type: 'string' } } },
      ],
    },
  ),
};

/** The whole plan's schema (JSON Schema draft-07, what yaml-language-server and SchemaStore read best). */
export function planJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: PLAN_SCHEMA_URL,
    title: 'canary rollout plan',
    description: `A plan for canary (npm: relay-canary ${VERSION}): which route, which versions, the stages and how the canary is judged. \`canary validate\` checks more than this schema can.`,
    ...object(
      'the plan',
      PLAN_KEYS.top,
      {
        relay: object(
          'relay',
          PLAN_KEYS.relay,
          {
            url: {
              description:
                "Relay base URL ending in /v1, or 'emulator' for the built-in emulator. No credentials in it.",
              anyOf: [{ const: 'emulator' }, { type: 'string', pattern: HTTP_URL }],
            },
            api_key_env: { ...envName('Env var holding the API key'), default: DEFAULTS.apiKeyEnv },
            api_key_file: string('File holding the API key, used when the env var is unset (~ allowed).'),
          },
          {
            required: ['url'],
            description: 'Where the relay is and where its key comes from. The key itself never goes here.',
          },
        ),
        emulator: object(
          'emulator',
          PLAN_KEYS.emulator,
          {
            scenario: {
              description:
                'Scenario file (or inline mapping) for the built-in emulator; only with relay.url: emulator.',
              anyOf: [{ type: 'string', minLength: 1 }, { type: 'object' }],
            },
            rps: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: MAX_EMULATOR_RPS,
              description: 'Simulated requests per second.',
            },
            seed: {
              type: 'integer',
              minimum: 0,
              maximum: 0xffff_ffff,
              description: 'Random seed, for reproducible traffic.',
            },
          },
          { description: 'The built-in emulator (relay.url: emulator).' },
        ),
        route: {
          type: 'string',
          pattern: source(ROUTE_PATTERN),
          description: "The route id: the model alias clients call. Letters, digits, '.', '_' or '-'.",
        },
        baseline: version('baseline'),
        canary: version('canary'),
        stages,
        bake: duration('Bake of every stage that does not set its own', { default: DEFAULTS.bakeMs }),
        analysis,
        route_defaults: routeDefaults,
        rollback: object(
          'rollback',
          PLAN_KEYS.rollback,
          {
            deadline: duration('How long a rollback may keep retrying', {
              positive: true,
              default: DEFAULTS.rollbackDeadlineMs,
            }),
          },
          {},
        ),
        checks: checks('Commands run before leaving every stage (smoke tests, evals).'),
        notify,
        evaluation: evaluationSchema(),
      },
      {
        required: ['relay', 'route', 'baseline', 'canary', 'stages'],
        // emulator.scenario only applies to the built-in emulator.
        ...when(
          {
            type: 'object',
            required: ['relay'],
            properties: {
              relay: {
                type: 'object',
                required: ['url'],
                properties: { url: { not: { const: 'emulator' } } },
              },
            },
          },
          {
            properties: {
              emulator: {
                anyOf: [{ type: 'null' }, { type: 'object', properties: { scenario: { type: 'null' } } }],
              },
            },
          },
        ),
      },
    ),
  };
}
