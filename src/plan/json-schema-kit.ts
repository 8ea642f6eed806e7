/**
 * The pieces src/plan/json-schema.ts builds the plan's JSON Schema from, shared with the parts
 * that describe one section each (src/plan/json-schema-evaluation.ts).
 */
import { formatPlanDuration } from '../format.js';
import { DURATION_FORMAT } from './duration.js';
import { ENV_NAME_PATTERN } from './plan-keys.js';

export type JsonSchema = { [key: string]: unknown };

export const source = (pattern: RegExp): string => pattern.source;

/** `if`/`then`, built so that no object literal has a `then` (it would look like a promise). */
export const when = (condition: JsonSchema, consequence: JsonSchema): JsonSchema =>
  Object.fromEntries([
    ['if', condition],
    ['then', consequence],
  ]);

export const string = (description: string, extra: JsonSchema = {}): JsonSchema => ({
  type: 'string',
  minLength: 1,
  description,
  ...extra,
});

export const envName = (description: string): JsonSchema => ({
  type: 'string',
  pattern: source(ENV_NAME_PATTERN),
  description: `${description} (the variable's name, never its value)`,
});

/** The validator's duration format; `positive` also refuses one that is all zeros. */
export const duration = (
  description: string,
  options: { positive?: boolean; default?: number } = {},
): JsonSchema => ({
  type: 'string',
  pattern: options.positive ? `(?=.*[1-9])${source(DURATION_FORMAT)}` : source(DURATION_FORMAT),
  description: `${description}: a duration like 30s, 10m or 1h30m${options.positive ? ', above 0' : ''}`,
  ...(options.default !== undefined ? { default: formatPlanDuration(options.default) } : {}),
  examples: ['30s', '10m', '1h30m'],
});

/** A URL the validator accepts: http(s), a host, and no user or password in it. */
export const HTTP_URL = '^[hH][tT][tT][pP][sS]?://[^/?#@\\s]+(?:[/?#]\\S*)?$';

export const whole = (description: string, minimum: number, fallback?: number): JsonSchema => ({
  type: 'integer',
  minimum,
  description,
  ...(fallback !== undefined ? { default: fallback } : {}),
});

export const fraction = (description: string): JsonSchema => ({
  type: 'number',
  minimum: 0,
  maximum: 1,
  description,
});

export const anyJson = (description: string): JsonSchema => ({ type: 'object', description });

/**
 * A mapping whose keys are exactly `keys` (the validator's list): every key must be described,
 * and nothing described that the validator does not know. A mismatch is a bug in this file,
 * found by the first test or build that builds the schema.
 */
export function object(
  where: string,
  keys: readonly string[],
  properties: Record<string, JsonSchema>,
  extra: JsonSchema = {},
): JsonSchema {
  const missing = keys.filter((k) => !(k in properties));
  const unknown = Object.keys(properties).filter((k) => !keys.includes(k));
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(
      `src/plan/json-schema.ts: ${where} ${missing.length ? `does not describe ${missing.join(', ')}` : ''}${
        missing.length && unknown.length ? ' and ' : ''
      }${unknown.length ? `describes ${unknown.join(', ')}, which the validator does not know` : ''}`,
    );
  }
  const required = (extra.required as string[] | undefined) ?? [];
  // The validator reads an optional key written with no value (`bake:`) as "use the default".
  const nullable = (key: string, schema: JsonSchema): JsonSchema => {
    if (required.includes(key)) return schema;
    const { description, default: fallback, examples, ...rest } = schema;
    return {
      ...(description !== undefined ? { description } : {}),
      ...(fallback !== undefined ? { default: fallback } : {}),
      ...(examples !== undefined ? { examples } : {}),
      anyOf: [rest, { type: 'null' }],
    };
  };
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, nullable(k, v)])),
    ...extra,
  };
}
