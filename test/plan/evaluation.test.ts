import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/load.js';
import { MINIMAL, problemsOf, yaml } from './helpers.js';

describe('evaluation: in a plan', () => {
  it('reads a full block: paths next to the plan, durations, judge, rules over the defaults', () => {
    const plan = parsePlan(
      yaml(
        ...MINIMAL,
        'evaluation:',
        '  prompts: [prompts/a.jsonl, /abs/b.jsonl]',
        '  repeat: 3',
        '  sample: 20',
        '  concurrency: 8',
        '  timeout: 45s',
        '  max_tokens: 256',
        '  stream: false',
        '  judge: {run: ./judge.sh, timeout: 10s}',
        '  thresholds:',
        '    judge_score: {min: 0.7}',
        '    latency_p99_ms: {max_ratio: 1.5, max: 4000}',
        '    success_rate: {min: 0.99}',
      ),
      'plan.yaml',
      { cwd: '/plans' },
    );
    expect(plan.evaluation).toEqual({
      prompts: ['/plans/prompts/a.jsonl', '/abs/b.jsonl'],
      repeat: 3,
      sample: 20,
      concurrency: 8,
      timeoutMs: 45_000,
      maxTokens: 256,
      stream: false,
      judge: { run: './judge.sh', timeoutMs: 10_000, concurrency: 2 },
      rules: {
        success_rate: { min: 0.99 },
        expectation_pass_rate: { max_decrease: 0.05 },
        judge_score: { min: 0.7 },
        latency_p99_ms: { max: 4000, max_ratio: 1.5 },
      },
      explicit: ['judge_score', 'latency_p99_ms', 'success_rate'],
      showWorst: 3,
    });
  });

  it('gives the defaults a newcomer gets from `prompts:` alone', () => {
    const plan = parsePlan(yaml(...MINIMAL, 'evaluation: {prompts: p.jsonl}'), 'plan.yaml', {
      cwd: '/plans',
    });
    expect(plan.evaluation).toMatchObject({
      prompts: ['/plans/p.jsonl'],
      repeat: 1,
      concurrency: 4,
      timeoutMs: 60_000,
      maxTokens: 512,
      stream: true,
      rules: { success_rate: { min: 0.95 }, expectation_pass_rate: { max_decrease: 0.05 } },
      explicit: [],
    });
  });

  it('reports each problem at its line and column with what was expected', () => {
    expect(
      problemsOf(
        yaml(
          ...MINIMAL,
          'evaluation:', // 9
          '  repeat: 0', // 10
          '  concurency: 4', // 11
          '  timeout: soon', // 12
          '  thresholds:', // 13
          '    success_rate: {min: 95}', // 14
          '    judge_score: {min: 0.5}', // 15
          '    agreement: {max_ratio: 2}', // 16
          '    latency: {max: 3}', // 17
          '    output_tokens: {}', // 18
        ),
      ),
    ).toEqual([
      "9:1: missing required key 'prompts' in evaluation",
      '10:11: evaluation.repeat: expected a whole number from 1 to 100, got 0',
      "11:3: unknown key 'concurency' in evaluation; did you mean 'concurrency'?",
      "12:12: evaluation.timeout: expected a duration like 30s, 10m or 1h30m, got 'soon'",
      '14:25: evaluation.thresholds.success_rate.min: expected a number between 0 and 1 (a rate: 0.95 is 95 %), got 95',
      '15:5: evaluation.thresholds.judge_score needs evaluation.judge: the score comes from the judge command',
      "16:16: evaluation.thresholds.agreement: agreement compares the canary's answers with the baseline's already; use min or max",
      "17:5: unknown key 'latency' in evaluation.thresholds; expected one of success_rate, expectation_pass_rate, agreement, judge_score, latency_p50_ms, latency_p99_ms, ttft_p50_ms, ttft_p99_ms, output_tokens, cost_per_answer",
      '18:20: evaluation.thresholds.output_tokens: expected at least one of min, max, max_ratio, min_ratio, max_increase, max_decrease',
    ]);
  });
});
