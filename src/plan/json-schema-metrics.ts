/**
 * `analysis.metrics:` (user-defined metrics) in the plan's JSON Schema, from the same key lists,
 * name pattern and limits as its reader, src/plan/metrics-schema.ts.
 */
import { RULE_KEYS } from '../domain/plan.js';
import { type JsonSchema, object, string } from './json-schema-kit.js';
import { CUSTOM_METRIC_KEYS, CUSTOM_METRIC_NAME } from './metrics-schema.js';
import { ENV_NAME_PATTERN } from './plan-keys.js';

function bound(key: string): JsonSchema {
  if (key === 'max_ratio' || key === 'min_ratio') return { type: 'number', exclusiveMinimum: 0 };
  if (key === 'min' || key === 'max') return { type: 'number' };
  return { type: 'number', minimum: 0 };
}

const http = object(
  'analysis.metrics[].http',
  CUSTOM_METRIC_KEYS.http,
  {
    url: string('http(s) URL; {{version_tag}}, {{route}}, {{window}}… are filled in. No credentials in it.', {
      pattern: '^[hH][tT][tT][pP][sS]?://',
    }),
    method: { type: 'string', pattern: '^([gG][eE][tT]|[pP][oO][sS][tT])$', default: 'GET' },
    headers: {
      type: 'object',
      description: 'Header values, or {env: VAR} for a credential (never written in the plan).',
      additionalProperties: {
        anyOf: [
          { type: 'string', minLength: 1 },
          object(
            'a header',
            CUSTOM_METRIC_KEYS.header,
            { env: { type: 'string', pattern: ENV_NAME_PATTERN.source }, prefix: { type: 'string' } },
            { required: ['env'] },
          ),
        ],
      },
    },
    body: { type: 'object', description: 'JSON body (method: POST).' },
    value: string('JSONPath to the number in the answer, like $.data.mean.', { pattern: '^\\$' }),
  },
  { required: ['url', 'value'] },
);

/** The list of user-defined metrics. */
export function customMetricsSchema(): JsonSchema {
  return {
    type: 'array',
    description: 'Metrics of your own, from PromQL (query) or a JSON API (http), each with its rule.',
    items: object(
      'analysis.metrics[]',
      CUSTOM_METRIC_KEYS.metric,
      {
        name: { type: 'string', pattern: CUSTOM_METRIC_NAME.source, description: 'Unique in the list.' },
        query: string('PromQL, through analysis.prometheus.'),
        http,
        min_requests: { type: 'integer', minimum: 0 },
        dry_run: { type: 'boolean', default: false, description: 'Report the metric, never fail on it.' },
        ...Object.fromEntries(RULE_KEYS.map((k) => [k, bound(k)])),
      },
      {
        required: ['name'],
        allOf: [
          // query or http, not both.
          {
            oneOf: [
              { type: 'object', required: ['query'], properties: { query: { type: 'string' } } },
              { type: 'object', required: ['http'], properties: { http: { type: 'object' } } },
            ],
          },
          { anyOf: RULE_KEYS.map((k) => ({ type: 'object', required: [k] })) },
        ],
      },
    ),
  };
}
