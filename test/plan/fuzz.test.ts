import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { CanaryError, PlanError } from '../../src/errors.js';
import { parsePlan } from '../../src/plan/load.js';
import { REPO } from './helpers.js';

const VALID = readFileSync(join(REPO, 'examples/production.yaml'), 'utf8');

/** Parses and checks the only allowed outcomes: a Plan, or a PlanError/CanaryError with sane positions. */
function check(text: string): void {
  let error: unknown;
  try {
    parsePlan(text, 'fuzz.yaml', { cwd: '/plans' });
    return;
  } catch (caught) {
    error = caught;
  }
  if (!(error instanceof CanaryError)) {
    throw new Error(`threw ${String(error)} for ${JSON.stringify(text.slice(0, 300))}`, { cause: error });
  }
  if (error instanceof PlanError) {
    expect(error.problems.length).toBeGreaterThan(0);
    const lines = text.split('\n').length;
    for (const p of error.problems) {
      expect(p.line).toBeGreaterThanOrEqual(1);
      expect(p.column).toBeGreaterThanOrEqual(1);
      expect(p.line).toBeLessThanOrEqual(lines);
      expect(p.file).toBe('fuzz.yaml');
      expect(p.message.length).toBeGreaterThan(0);
    }
  }
}

const TOKENS = [
  'relay',
  'url',
  'emulator',
  'route',
  'baseline',
  'canary',
  'version_tag',
  'stages',
  'weight',
  'bake',
  'analysis',
  'thresholds',
  'error_rate',
  'max',
  'api_key',
  'scenario',
  'parameters',
  'metadata',
  ':',
  ': ',
  ' ',
  '  ',
  '\n',
  '\n  ',
  '\n    ',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '!!str ',
  '!!map ',
  '!tag ',
  '#',
  '"',
  "'",
  '|',
  '>',
  '? ',
  '---',
  '...',
  '\t',
  '\r\n',
  '\\',
  '%YAML 1.2',
  '0',
  '5',
  '100',
  '-1',
  '1.5',
  '.nan',
  '.inf',
  '1e9',
  '10m',
  '30s',
  'true',
  'null',
  '~',
  '<<',
  '\u0000',
  'é',
  '\uFEFF',
  '\uD800',
];

const yamlish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((parts) => parts.join(''));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const leaf: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -200, max: 200 }),
  fc.double({ noNaN: false }),
  fc.constantFrom('10m', '0s', '2x', 'emulator', 'http://x', 'claude-sonnet-4-5-v1', '', 'rollback', '~/k'),
  fc.string({ maxLength: 12 }),
);
const jsonValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Every path to a node of a JSON document. */
function paths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push(...paths(v, [...prefix, i]));
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

function setAt(doc: Json, path: Array<string | number>, replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(doc) as Record<string | number, Json>;
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1] as string | number;
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else {
    node[last] = replacement;
  }
  return copy as Json;
}

describe('hostile input never escapes as anything but PlanError/CanaryError', () => {
  it('the valid plan the mutations start from is valid', () => {
    expect(() => parsePlan(VALID, 'fuzz.yaml')).not.toThrow();
  });

  it('random YAML-ish text', () => {
    fc.assert(fc.property(yamlish, check), { numRuns: 800 });
  });

  it('random unicode strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 300 });
  });

  it('textual mutations of a valid plan', () => {
    const lines = VALID.split('\n');
    const mutation = fc.oneof(
      fc.nat(lines.length - 1).map((i) => lines.filter((_, j) => j !== i).join('\n')),
      fc.nat(lines.length - 1).map((i) => [...lines.slice(0, i + 1), ...lines.slice(i)].join('\n')),
      fc
        .tuple(fc.nat(VALID.length - 1), fc.constantFrom(...TOKENS))
        .map(([i, token]) => VALID.slice(0, i) + token + VALID.slice(i)),
      fc
        .tuple(fc.nat(VALID.length - 1), fc.integer({ min: 1, max: 20 }))
        .map(([i, n]) => VALID.slice(0, i) + VALID.slice(i + n)),
      fc.nat(VALID.length).map((i) => VALID.slice(0, i)),
      fc.tuple(fc.nat(lines.length - 1), fc.nat(lines.length - 1)).map(([a, b]) => {
        const copy = [...lines];
        [copy[a], copy[b]] = [copy[b] as string, copy[a] as string];
        return copy.join('\n');
      }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 1 }), ([text]) => check(text as string)),
      {
        numRuns: 800,
      },
    );
  });

  it('structural mutations of a valid plan (any node replaced or removed)', () => {
    const doc = parseYaml(VALID) as Json;
    const all = paths(doc);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(all.length - 1), fc.option(jsonValue, { nil: undefined })), {
          minLength: 1,
          maxLength: 3,
        }),
        (edits) => {
          let mutated = doc;
          for (const [index, replacement] of edits) {
            const path = all[index] as Array<string | number>;
            try {
              mutated = setAt(mutated, path, replacement);
            } catch {
              // an earlier edit removed this path's parent
            }
          }
          check(stringify(mutated));
        },
      ),
      { numRuns: 600 },
    );
  });
});
