/**
 * `evaluation:` (the pre-traffic evaluation) in the plan's JSON Schema, from the same key lists
 * and limits as its reader, src/plan/evaluation-schema.ts.
 */
import { EVAL_METRICS, type EvalMetric, RULE_KEYS } from '../domain/plan.js';
import { EVALUATION_DEFAULTS, EVALUATION_KEYS } from './evaluation-schema.js';
import { duration, type JsonSchema, object, string, when } from './json-schema-kit.js';

const between = (minimum: number, maximum: number, description: string, fallback?: number): JsonSchema => ({
  type: 'integer',
  minimum,
  maximum,
  description,
  ...(fallback !== undefined ? { default: fallback } : {}),
});

/** Rates and scores are fractions; the reader says so when a rule says 95 for 95 %. */
const UNIT_METRICS: readonly EvalMetric[] = ['success_rate', 'expectation_pass_rate', 'agreement'];

function rule(metric: EvalMetric): JsonSchema {
  const unit = UNIT_METRICS.includes(metric);
  const absoluteOnly = metric === 'agreement' || metric === 'judge_score';
  const bound = (key: string): JsonSchema => {
    if (key === 'max_ratio' || key === 'min_ratio') return { type: 'number', exclusiveMinimum: 0 };
    if (unit) return { type: 'number', minimum: 0, maximum: 1 };
    if (key === 'min' || key === 'max') return { type: 'number' };
    return { type: 'number', minimum: 0 };
  };
  const keys = absoluteOnly ? RULE_KEYS.filter((k) => k === 'min' || k === 'max') : RULE_KEYS;
  return object(`evaluation.thresholds.${metric}`, keys, Object.fromEntries(keys.map((k) => [k, bound(k)])), {
    minProperties: 1,
  });
}

export function evaluationSchema(): JsonSchema {
  const file = string('A JSONL prompt file, relative to the plan.');
  return object(
    'evaluation',
    EVALUATION_KEYS.evaluation,
    {
      prompts: {
        description:
          'JSONL prompt file(s), one chat request a line, sent to both versions before any traffic moves.',
        anyOf: [file, { type: 'array', minItems: 1, items: file }],
      },
      repeat: between(1, 100, 'Times each prompt is sent per version.', EVALUATION_DEFAULTS.repeat),
      sample: between(1, 10_000, 'Send only this many prompts, spread evenly.'),
      concurrency: between(
        1,
        64,
        'Requests in flight, both versions together.',
        EVALUATION_DEFAULTS.concurrency,
      ),
      timeout: duration('Per request', { positive: true, default: EVALUATION_DEFAULTS.timeoutMs }),
      max_tokens: between(1, 1_000_000, 'For prompts that set none.', EVALUATION_DEFAULTS.maxTokens),
      stream: { type: 'boolean', default: true, description: 'Stream, to measure time to first token.' },
      judge: {
        description:
          'A judge command (LLM-as-judge or your own script): both answers as JSON on stdin, a score on stdout.',
        anyOf: [
          { type: 'string', pattern: '\\S' },
          object(
            'evaluation.judge',
            EVALUATION_KEYS.judge,
            {
              run: string('Shell command, run by sh -c in the plan folder.'),
              timeout: duration('Per judgement', {
                positive: true,
                default: EVALUATION_DEFAULTS.judgeTimeoutMs,
              }),
              concurrency: between(1, 32, 'Judge commands at once.', EVALUATION_DEFAULTS.judgeConcurrency),
            },
            { required: ['run'] },
          ),
        ],
      },
      thresholds: object(
        'evaluation.thresholds',
        EVAL_METRICS,
        Object.fromEntries(EVAL_METRICS.map((m) => [m, rule(m)])),
        { description: 'Per metric: absolute bounds (min, max) and bounds against the baseline.' },
      ),
      show_worst: between(
        0,
        20,
        'Worst prompts shown side by side when it fails.',
        EVALUATION_DEFAULTS.showWorst,
      ),
    },
    {
      required: ['prompts'],
      description:
        'A pre-traffic evaluation: the same prompts to both versions, judged before the first weight change.',
      // judge_score comes from the judge command.
      ...when(
        {
          type: 'object',
          required: ['thresholds'],
          properties: { thresholds: { type: 'object', required: ['judge_score'] } },
        },
        { type: 'object', required: ['judge'] },
      ),
    },
  );
}
