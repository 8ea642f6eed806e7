/**
 * The pieces the records' JSON Schemas (src/output/record-schemas.ts) are built from: the
 * primitives and the nested objects several records share (weights, a version's metrics, an
 * evaluation, the pre-traffic evaluation's report). Objects canary defines are closed
 * (additionalProperties: false), so a field added in code but not here fails the tests and the
 * contract changes on purpose; objects the relay defines (a route, a version's metrics) and the
 * plan as written stay open.
 */
export type Schema = Record<string, unknown>;

export const str: Schema = { type: 'string' };
export const int: Schema = { type: 'integer' };
export const num: Schema = { type: 'number' };
export const bool: Schema = { type: 'boolean' };
export const iso: Schema = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$',
};
export const open: Schema = { type: 'object' };
export const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
export const oneOf = (...values: string[]): Schema => ({ enum: values });
export const list = (items: Schema): Schema => ({ type: 'array', items });
export const mapOf = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });

/** A closed object: every field required unless named in `optional`. */
export function object(fields: Record<string, Schema>, optional: readonly string[] = []): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(fields).filter((k) => !optional.includes(k)),
    properties: fields,
  };
}

export const rules = list(object({ version_tag: str, weight: num }));
export const stageIndex: Schema = { type: 'integer', minimum: 0, description: '0-based stage index' };

/** A version's metrics as the relay reports them: the relay's object, open to its additions. */
export const versionMetrics: Schema = {
  type: 'object',
  required: ['version_tag'],
  properties: {
    version_tag: str,
    start_time: str,
    end_time: str,
    request_count: nullable(num),
    error_count: nullable(num),
    error_rate: nullable(num),
    latency_p50_ms: nullable(num),
    latency_p99_ms: nullable(num),
    cost_per_token: nullable(num),
  },
};

const verdicts = ['pass', 'fail', 'no_data'] as const;

const check = object(
  {
    id: str,
    metric: str,
    kind: oneOf('threshold', 'comparison'),
    status: oneOf(...verdicts, 'hold'),
    value: nullable(num),
    baseline: nullable(num),
    bound: nullable(num),
    reason: str,
    p_value: nullable(num),
    confidence: num,
    test: str,
    alpha: num,
  },
  ['baseline', 'bound', 'p_value', 'confidence', 'test', 'alpha'],
);

/** An `analysis.metrics:` check (src/custom-metrics/types.ts). */
const customCheck = object(
  {
    id: str,
    metric: str,
    rule: str,
    status: oneOf(...verdicts, 'hold'),
    dry_run: bool,
    value: nullable(num),
    baseline: nullable(num),
    bound: nullable(num),
    reason: str,
    p_value: num,
    alpha: num,
    confidence: num,
    test: str,
  },
  ['p_value', 'alpha', 'confidence', 'test'],
);

/** One look at the canary (src/analysis/types.ts Evaluation). */
export const evaluation = object(
  {
    at: int,
    window_start: int,
    window_end: int,
    canary: nullable(versionMetrics),
    baseline: nullable(versionMetrics),
    canary_requests: nullable(num),
    min_requests: int,
    checks: list(check),
    verdict: oneOf(...verdicts, 'hold'),
    custom: list(customCheck),
    pooled: object({
      canary_requests: nullable(num),
      baseline_requests: nullable(num),
      canary_errors: nullable(num),
      baseline_errors: nullable(num),
    }),
    error_control: object(
      {
        rollout_confidence: num,
        stage_confidence: num,
        look_alpha: num,
        bake_fraction: num,
        spent_fraction: num,
        extra_looks: int,
        tests_per_stage: int,
        judged_stages: int,
        custom_tests_per_stage: int,
      },
      ['custom_tests_per_stage'],
    ),
    waiting_for: str,
  },
  ['custom', 'pooled', 'error_control', 'waiting_for'],
);

const figure = nullable(num);

const versionStats = object(
  {
    version_tag: str,
    requests: int,
    success_rate: figure,
    expectation_pass_rate: figure,
    expectation_checked: int,
    latency_p50_ms: figure,
    latency_p99_ms: figure,
    ttft_p50_ms: figure,
    ttft_p99_ms: figure,
    output_tokens: figure,
    cost_per_answer: figure,
    agreement: figure,
    judge_score: figure,
  },
  ['agreement', 'judge_score'],
);

const promptVersionRow = object(
  {
    answered: int,
    error: str,
    latency_ms: figure,
    output_tokens: figure,
    expect_checked: int,
    expect_met: int,
    failures: list(str),
  },
  ['error', 'failures'],
);

/** The pre-traffic evaluation's result (src/evaluation/types.ts EvaluationReport). */
export const evalReport = object(
  {
    verdict: oneOf('pass', 'fail'),
    prompts: int,
    repeat: int,
    requests_per_version: int,
    duration_ms: num,
    baseline: versionStats,
    canary: versionStats,
    checks: list(
      object({
        id: str,
        metric: str,
        rule: str,
        status: oneOf(...verdicts),
        value: figure,
        baseline: figure,
        bound: figure,
        reason: str,
      }),
    ),
    worst: list(
      object({
        prompt_id: str,
        file: str,
        line: int,
        repeat: int,
        prompt: str,
        baseline: str,
        canary: str,
        why: str,
        agreement: figure,
        judge_score: figure,
      }),
    ),
    per_prompt: list(
      object({
        prompt_id: str,
        file: str,
        line: int,
        repeats: int,
        baseline: promptVersionRow,
        canary: promptVersionRow,
        agreement: figure,
        judge_score: figure,
      }),
    ),
    per_prompt_left_out: int,
    summary: str,
  },
  ['per_prompt', 'per_prompt_left_out'],
);

/** Who started a rollout and where (src/rollout/events.ts RunBy): names only. */
export const runBy = object(
  { user: nullable(str), host: str, pid: int, ci: nullable(str), github: mapOf(str) },
  ['github'],
);

/** A plan problem, at its place in the file (positions null when the file could not be read). */
export const problem = object({
  file: str,
  line: nullable(int),
  column: nullable(int),
  path: nullable(str),
  message: str,
});

/** Where a running rollout stands (control answers; src/control/channel.ts LiveInfo). */
export const liveInfo = object({
  route: str,
  pid: int,
  host: str,
  plan: str,
  stage: nullable(stageIndex),
  stage_count: int,
  weight: nullable(num),
  held: bool,
  gate_open: bool,
});

/** The rollout running on a route, as `status` reads it from the journal (1-based stage). */
export const statusRollout = object({
  run: str,
  pid: int,
  host: str,
  user: nullable(str),
  plan: nullable(str),
  started_at: iso,
  stage: nullable(int),
  stage_count: nullable(int),
  weight: nullable(num),
  bake_elapsed_ms: nullable(int),
  bake_ms: nullable(int),
  held: bool,
  gate_open: bool,
  last_evaluation: nullable(
    object({
      at: iso,
      verdict: str,
      checks: list(object({ id: str, status: str, value: nullable(num) })),
    }),
  ),
});
