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

import { NOTIFY_EVENTS } from '../domain/plan.js';
import { VERSION_TAG_PATTERN } from '../domain/relay.js';
import { VERSION } from '../version.js';
import { analysis } from './json-schema-analysis.js';
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
import { checks, stages } from './json-schema-stages.js';
import { DEFAULTS, MAX_EMULATOR_RPS, PLAN_KEYS, ROUTE_PATTERN } from './plan-keys.js';
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

const relay: JsonSchema = object(
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
);

const emulator: JsonSchema = object(
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

/** emulator.scenario only applies to the built-in emulator. */
const emulatorOnly = when(
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
);

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
        relay,
        emulator,
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
        ...emulatorOnly,
      },
    ),
  };
}
