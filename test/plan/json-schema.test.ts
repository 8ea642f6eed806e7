/**
 * The plan's JSON Schema against the plan validator, with ajv (what editors' YAML servers and
 * SchemaStore's own tests use): every plan the validator accepts, the schema accepts (an editor
 * must never mark a good plan red), and every broken plan is refused by both, except the rules
 * only the validator can check, listed below with the reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { runInitCommand } from '../../src/commands/init.js';
import { planJsonSchema } from '../../src/plan/json-schema.js';
import { PLAN_KEYS } from '../../src/plan/plan-keys.js';
import { SCHEMA_MODELINE } from '../../src/plan/schema-url.js';
import { BROKEN } from './broken-plans.js';
import { captureIo, MINIMAL, problemsOf, REPO, yaml } from './helpers.js';

const schema = planJsonSchema();
// strictRequired off: `if`/`not` clauses name keys the enclosing object defines.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(schema);

function schemaErrors(text: string): string[] {
  return validate(parse(text)) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Every key the validator knows, each set: the schema must accept it. */
const EVERYTHING = yaml(
  'relay:',
  '  url: https://relay.example.com/v1',
  '  api_key_env: RELAY_KEY',
  '  api_key_file: ~/.config/relay/key',
  'route: code-review.prod_1',
  'baseline:',
  '  version_tag: v1',
  '  model: anthropic/claude-sonnet-4-20250514',
  '  parameters: {temperature: 0.7, stop: ["\\n"]}',
  '  system_prompt: ""',
  '  upstream_endpoint: https://api.example.com',
  '  cost_limit_per_request: 0.5',
  '  metadata: {team: ml, nested: {a: [1, 2]}}',
  'canary:',
  '  version_tag: v2',
  'stages:',
  '  - 1.5',
  '  - {weight: 25, bake: 1h30m, pause: true, data_deadline: 3h, checks: [{run: ./smoke.sh}]}',
  '  - weight: 100',
  'bake: 500ms',
  'analysis:',
  '  interval: 30s',
  '  window: 5m',
  '  min_requests: 1',
  '  failure_limit: 3',
  '  data_deadline: 1.5x',
  '  max_metric_errors: 2',
  '  on_metric_errors: hold',
  '  thresholds:',
  '    error_rate: {max: 1}',
  '    latency_p50_ms: {max: 0}',
  '    latency_p99_ms: {max: 3000}',
  '    cost_per_token: {max: 0.001}',
  '  baseline_comparison:',
  '    significance: {enabled: false, confidence: 0.999, min_windows: 2}',
  '    error_rate: {max_increase: 0.01}',
  '    latency_p50_ms: {max_ratio: 2}',
  '    latency_p99_ms: {max_increase: 100, max_ratio: 1.25}',
  '    cost_per_token: {max_ratio: 1.1}',
  '  provider: prometheus',
  '  prometheus:',
  '    url: http://prometheus:9090',
  '    username: canary',
  '    password_env: PROM_PASSWORD',
  '    queries:',
  '      request_count: sum(increase(http_requests_total{version="{{version_tag}}"}[{{window}}]))',
  'route_defaults:',
  '  sticky_sessions: {enabled: true, cookie_name: c, ttl_seconds: 60}',
  '  health_check: {enabled: true, error_rate_threshold: 0.5, latency_p99_threshold_ms: 900, auto_rollback: false}',
  'rollback: {deadline: 30s}',
  'checks:',
  '  - {name: smoke, run: ./smoke.sh, timeout: 2m}',
  'notify:',
  '  - {url_env: SLACK_WEBHOOK_URL, format: slack, events: [started, failed], timeout: 5s}',
  '  - {url: "https://hooks.example.com/x", url_env: ~}',
  'evaluation:',
  '  prompts: [prompts/a.jsonl, prompts/b.jsonl]',
  '  repeat: 2',
  '  sample: 5',
  '  concurrency: 2',
  '  timeout: 30s',
  '  max_tokens: 100',
  '  stream: false',
  '  judge: {run: ./judge.sh, timeout: 10s, concurrency: 1}',
  '  thresholds:',
  '    success_rate: {min: 0.9}',
  '    agreement: {min: 0.4}',
  '    judge_score: {min: 0.5}',
  '    latency_p99_ms: {max: 100, max_ratio: 1.5}',
  '    output_tokens: {min_ratio: 0.5, max_increase: 10}',
  '  show_worst: 0',
);

/** Broken `evaluation:` blocks (the plan's other sections are in test/plan/broken-plans.ts). */
const EVALUATION_BROKEN: Array<[string, string]> = [
  ['no prompts', yaml(...MINIMAL, 'evaluation: {repeat: 2}')],
  ['repeat 0', yaml(...MINIMAL, 'evaluation: {prompts: p.jsonl, repeat: 0}')],
  ['a rate of 95', yaml(...MINIMAL, 'evaluation: {prompts: p.jsonl, thresholds: {success_rate: {min: 95}}}')],
  [
    'agreement against the baseline',
    yaml(...MINIMAL, 'evaluation: {prompts: p.jsonl, thresholds: {agreement: {max_ratio: 2}}}'),
  ],
  [
    'judge_score without a judge',
    yaml(...MINIMAL, 'evaluation: {prompts: p.jsonl, thresholds: {judge_score: {min: 0.5}}}'),
  ],
  ['an empty rule', yaml(...MINIMAL, 'evaluation: {prompts: p.jsonl, thresholds: {latency_p99_ms: {}}}')],
  ['an unknown metric', yaml(...MINIMAL, 'evaluation: {prompts: p.jsonl, thresholds: {bleu: {min: 1}}}')],
  ['a blank judge', yaml(...MINIMAL, 'evaluation: {prompts: p.jsonl, judge: " "}')],
];

const VALID: Array<[string, string]> = [
  ['the minimal plan', yaml(...MINIMAL)],
  ['every key set', EVERYTHING],
  ['explicit nulls for optional keys', yaml(...MINIMAL, 'bake:', 'analysis:', 'rollback: ~', 'emulator: ~')],
  ['significance: true', yaml(...MINIMAL, 'analysis: {baseline_comparison: {significance: true}}')],
  [
    'an inline emulator scenario',
    yaml(
      'relay: {url: emulator}',
      ...MINIMAL.slice(2),
      'emulator: {scenario: {versions: {}}, rps: 1, seed: 0}',
    ),
  ],
  ['an upper-case scheme', yaml('relay: {url: "HTTPS://relay.example.com/v1"}', ...MINIMAL.slice(2))],
  [
    'bearer token for prometheus',
    yaml(
      ...MINIMAL,
      'analysis: {provider: prometheus, prometheus: {url: "http://p:9090", bearer_token_env: T}}',
    ),
  ],
];

/** Broken plans a JSON Schema cannot refuse; the validator does (test/plan/load.test.ts). */
const VALIDATOR_ONLY: Record<string, string> = {
  'weights not ascending': 'weights must increase: a schema cannot compare one list item with the next',
  'more than two decimals':
    "multipleOf 0.01 misjudges binary fractions (0.29 / 0.01 is not whole) in editors' validators",
  'window shorter than interval': 'compares two keys',
  'interval longer than the default window': 'compares a key with a default',
  'baseline and canary the same': 'compares two keys',
  'non-JSON parameter values': '.nan and .inf have no JSON form, and are numbers to a schema',
};

/** Cases whose text is not one YAML document: the editor's YAML parser reports them, before any schema. */
function isYamlError(text: string): boolean {
  const docs = parseAllDocuments(text);
  const doc = Array.isArray(docs) && docs.length === 1 ? docs[0] : undefined;
  return !doc || doc.errors.length > 0 || doc.warnings.length > 0 || doc.contents === null;
}

describe('the plan JSON Schema', () => {
  it('is a draft-07 schema ajv compiles in strict mode, describing every key the validator knows', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(ajv.validateSchema(schema)).toBe(true);
    const top = schema.properties as Record<string, unknown>;
    expect(Object.keys(top).sort()).toEqual([...PLAN_KEYS.top].sort());
  });

  it.each(readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.yaml')))(
    'accepts examples/%s, as the validator does',
    (file) => {
      const text = readFileSync(join(REPO, 'examples', file), 'utf8');
      expect(problemsOf(text)).toEqual([]);
      expect(schemaErrors(text)).toEqual([]);
    },
  );

  it.each([
    ['default', {}],
    [
      'careful, on a real relay, with a model',
      { stages: 'careful', relayUrl: 'https://relay.example.com/v1', model: 'm/x' },
    ],
  ])(
    'accepts what canary init writes (%s), which names the schema on its first line',
    async (_name, flags) => {
      const dir = await mkdtemp(join(tmpdir(), 'canary-schema-init-'));
      try {
        const cap = captureIo(dir);
        const opts = { file: 'plan.yaml', route: 'r', baseline: 'a', canary: 'b', yes: true, ...flags };
        expect(await runInitCommand(opts, cap.io), cap.stderr()).toBe(0);
        const text = await readFile(join(dir, 'plan.yaml'), 'utf8');
        expect(text.split('\n')[0]).toBe(SCHEMA_MODELINE);
        expect(SCHEMA_MODELINE).toBe(`# yaml-language-server: $schema=${schema.$id}`);
        expect(problemsOf(text)).toEqual([]);
        expect(schemaErrors(text)).toEqual([]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it.each(VALID)('accepts %s, as the validator does', (_name, text) => {
    expect(problemsOf(text)).toEqual([]);
    expect(schemaErrors(text)).toEqual([]);
  });

  const broken = BROKEN.filter(([, text]) => !isYamlError(text));
  it.each(broken)('refuses %s, as the validator does', (name, text) => {
    expect(problemsOf(text)).not.toEqual([]);
    if (name in VALIDATOR_ONLY) {
      // Kept honest: a rule the schema learns to check leaves this list.
      expect(
        schemaErrors(text),
        `${name} is now refused by the schema: remove it from VALIDATOR_ONLY`,
      ).toEqual([]);
    } else {
      expect(schemaErrors(text), `${name}: the schema accepts what the validator refuses`).not.toEqual([]);
    }
  });

  it.each(EVALUATION_BROKEN)('refuses an evaluation with %s, as the validator does', (_name, text) => {
    expect(problemsOf(text)).not.toEqual([]);
    expect(schemaErrors(text)).not.toEqual([]);
  });

  it('names only real cases as validator-only', () => {
    const names = new Set(broken.map(([name]) => name));
    expect(Object.keys(VALIDATOR_ONLY).filter((n) => !names.has(n))).toEqual([]);
  });

  it('accepts every mutation of a valid plan that the validator accepts', () => {
    const base = parse(EVERYTHING) as Record<string, unknown>;
    const paths = leafPaths(base);
    const values = fc.oneof(
      fc.constantFrom(null, true, false, 0, 1, 100, 0.5, -1, '', '10m', '0s', 'emulator', 'x', '2x', [], {}),
      fc.string({ maxLength: 8 }),
      fc.double({ noNaN: true }),
    );
    const edit = fc.tuple(fc.constantFrom(...paths), fc.oneof(values, fc.constant(DELETE)));
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const plan = structuredClone(base);
        for (const [path, value] of edits) setPath(plan, path, value);
        const text = stringify(plan);
        if (problemsOf(text).length > 0) return;
        accepted++;
        expect(schemaErrors(text), text).toEqual([]);
      }),
      { numRuns: 400, seed: 19 },
    );
    // The property means something only if some mutations stay valid.
    expect(accepted).toBeGreaterThan(40);
  });
});

const DELETE = Symbol('delete');

function leafPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [path];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [path, ...entries.flatMap(([k, v]) => leafPaths(v, [...path, k]))].filter((p) => p.length > 0);
}

function setPath(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<string | number, unknown>)[key];
  }
  if (node === null || typeof node !== 'object') return;
  const last = path.at(-1) as string | number;
  if (value === DELETE) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete (node as Record<string, unknown>)[last];
  } else (node as Record<string | number, unknown>)[last] = value;
}
