/**
 * `stages:` and `checks:` in the plan's JSON Schema: a stage as a bare weight or a mapping (bake,
 * pause, data deadline, its own checks), and the check commands run before a stage is left, from
 * the same key lists and defaults as their reader, src/plan/stages-schema.ts.
 */
import { duration, type JsonSchema, object, string } from './json-schema-kit.js';
import { DEFAULTS, PLAN_KEYS } from './plan-keys.js';

export function checks(description: string): JsonSchema {
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

export const stages: JsonSchema = {
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
