/**
 * Checks one answer against its prompt's expectations. JSON Schemas are validated with
 * @cfworker/json-schema (drafts 4, 7, 2019-09 and 2020-12; an interpreter, so no generated code
 * and nothing for the bundle to load at run time); each prompt's validator is built once,
 * however often its prompt is repeated. `format` is not checked, as model providers do not.
 */
import { type Schema, type SchemaDraft, Validator } from '@cfworker/json-schema';
import type { Expectations } from './types.js';

export interface CompiledExpectations {
  /** Why the schema cannot be used, when it cannot. */
  schemaError?: string | undefined;
  /** Each failed expectation in words; empty when the answer meets them all. */
  check(answer: string, outputTokens: number | null): string[];
}

/** The draft a schema's `$schema` names; 2020-12 when it names none (it reads draft-07 schemas too). */
function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const id = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (id.includes('draft-04')) return '4';
  if (id.includes('draft-07') || id.includes('draft-06')) return '7';
  if (id.includes('2019-09')) return '2019-09';
  return '2020-12';
}

/** What the validator cannot read: not an object or boolean where a schema must be. */
function schemaProblem(schema: unknown, path: string, depth = 0): string | undefined {
  if (depth > 32) return undefined;
  if (typeof schema === 'boolean') return undefined;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    return `${path || 'the schema'} is not a schema`;
  const s = schema as Record<string, unknown>;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const known = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];
    const bad = types.find((t) => typeof t !== 'string' || !known.includes(t));
    if (bad !== undefined) return `${path}/type ${JSON.stringify(bad)} is not a JSON type`;
  }
  if (
    s.required !== undefined &&
    !(Array.isArray(s.required) && s.required.every((r) => typeof r === 'string'))
  )
    return `${path}/required must be a list of property names`;
  if (s.enum !== undefined && !Array.isArray(s.enum)) return `${path}/enum must be a list`;
  for (const key of ['properties', 'patternProperties', '$defs', 'definitions']) {
    const map = s[key];
    if (map === undefined) continue;
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      return `${path}/${key} must be an object`;
    for (const [name, sub] of Object.entries(map)) {
      const p = schemaProblem(sub, `${path}/${key}/${name}`, depth + 1);
      if (p) return p;
    }
  }
  for (const key of ['items', 'additionalProperties', 'not', 'contains']) {
    if (s[key] === undefined || Array.isArray(s[key])) continue;
    const p = schemaProblem(s[key], `${path}/${key}`, depth + 1);
    if (p) return p;
  }
  for (const key of ['anyOf', 'allOf', 'oneOf', 'prefixItems']) {
    if (s[key] === undefined) continue;
    if (!Array.isArray(s[key])) return `${path}/${key} must be a list of schemas`;
    for (const [i, sub] of (s[key] as unknown[]).entries()) {
      const p = schemaProblem(sub, `${path}/${key}/${i}`, depth + 1);
      if (p) return p;
    }
  }
  return undefined;
}

const cache = new WeakMap<Expectations, CompiledExpectations>();

function short(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The JSON in an answer: the whole text, or a fenced ```json block when the model wrapped it. */
function parseJsonAnswer(answer: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(answer);
  const text = fenced ? (fenced[1] as string) : answer;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

export function compileExpectations(expect: Expectations): CompiledExpectations {
  const cached = cache.get(expect);
  if (cached) return cached;
  let validator: Validator | undefined;
  let schemaError: string | undefined;
  if (expect.json_schema) {
    schemaError = schemaProblem(expect.json_schema, '');
    try {
      if (!schemaError)
        validator = new Validator(expect.json_schema as Schema, draftOf(expect.json_schema), true);
    } catch (error) {
      schemaError = (error as Error).message;
    }
  }
  const regexes = (expect.regex ?? []).map((r) => ({
    text: `/${r.source}/${r.flags}`,
    re: new RegExp(r.source, r.flags),
  }));
  const compiled: CompiledExpectations = {
    schemaError,
    check(answer, outputTokens) {
      const failures: string[] = [];
      const lower = answer.toLowerCase();
      for (const needle of expect.contains ?? []) {
        // Case-insensitive: a model's capitalisation is not what a prompt set means to test.
        if (!lower.includes(needle.toLowerCase()))
          failures.push(`does not contain ${JSON.stringify(short(needle))}`);
      }
      for (const needle of expect.not_contains ?? []) {
        if (lower.includes(needle.toLowerCase())) failures.push(`contains ${JSON.stringify(short(needle))}`);
      }
      for (const { text, re } of regexes) {
        re.lastIndex = 0;
        if (!re.test(answer)) failures.push(`does not match ${short(text)}`);
      }
      if (expect.json_schema) {
        const parsed = parseJsonAnswer(answer);
        if (!parsed.ok) failures.push(`is not JSON (${short(parsed.error, 80)})`);
        else if (validator) {
          const result = validator.validate(parsed.value);
          if (!result.valid) {
            // The deepest error says what is wrong; the first ones only say a subschema failed.
            const e = result.errors[result.errors.length - 1];
            const at = e && e.instanceLocation !== '#' ? `${e.instanceLocation.replace(/^#/, '')} ` : '';
            failures.push(`breaks the JSON schema: ${at}${e?.error ?? 'invalid'}`);
          }
        }
      }
      if (
        expect.max_output_tokens !== undefined &&
        outputTokens !== null &&
        outputTokens > expect.max_output_tokens
      ) {
        failures.push(`has ${outputTokens} output tokens, more than ${expect.max_output_tokens}`);
      }
      return failures;
    },
  };
  cache.set(expect, compiled);
  return compiled;
}
