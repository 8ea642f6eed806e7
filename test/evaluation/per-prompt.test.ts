import { describe, expect, it } from 'vitest';
import { promptRows, redactRows } from '../../src/evaluation/per-prompt.js';
import type { CaseResult, ChatAnswer, PromptCase } from '../../src/evaluation/types.js';
import { buildReport, caseScore, DEFAULT_EVAL_RULES } from '../../src/evaluation/verdict.js';

function answer(over: Partial<ChatAnswer> = {}): ChatAnswer {
  return {
    status: 200,
    servedBy: undefined,
    content: 'the refund is issued in 5 days',
    completionTokens: 8,
    promptTokens: 5,
    cost: null,
    latencyMs: 100,
    ttftMs: null,
    finishReason: 'stop',
    ...over,
  };
}

const prompt = (i: number): PromptCase => ({
  id: `p${i}`,
  file: '/plans/set.jsonl',
  line: i + 1,
  request: { messages: [{ role: 'user', content: `question ${i}` }] },
  expect: { contains: ['refund'] },
});

function result(i: number, repeat: number, over: Partial<CaseResult> = {}): CaseResult {
  return {
    prompt: prompt(i),
    repeat,
    baseline: answer(),
    canary: answer(),
    baselineFailures: [],
    canaryFailures: [],
    agreement: 1,
    judgeScore: null,
    ...over,
  };
}

describe('promptRows', () => {
  it('folds the repeats of each prompt into one row, both versions side by side, in prompt order', () => {
    const results = [
      result(0, 0, { baseline: answer({ latencyMs: 100 }), canary: answer({ latencyMs: 300 }) }),
      result(0, 1, {
        baseline: answer({ latencyMs: 200, completionTokens: 10 }),
        canary: answer({ status: 502, content: null, error: 'upstream failed', completionTokens: null }),
        canaryFailures: undefined,
        agreement: null,
      }),
      result(1, 0, {
        canary: answer({ content: 'I cannot help', completionTokens: 3 }),
        canaryFailures: ['does not contain "refund"'],
        agreement: 0.2,
        judgeScore: 0.1,
      }),
      result(1, 1, { canaryFailures: ['does not contain "refund"'], agreement: 0.4, judgeScore: 0.3 }),
    ];
    const { per_prompt, per_prompt_left_out } = promptRows(results, caseScore);
    expect(per_prompt_left_out).toBe(0);
    expect(per_prompt.map((r) => r.prompt_id)).toEqual(['p0', 'p1']);
    expect(per_prompt[0]).toEqual({
      prompt_id: 'p0',
      file: '/plans/set.jsonl',
      line: 1,
      repeats: 2,
      baseline: { answered: 2, latency_ms: 150, output_tokens: 9, expect_checked: 2, expect_met: 2 },
      canary: {
        answered: 1,
        error: 'HTTP 502: upstream failed',
        latency_ms: 300,
        output_tokens: 8,
        expect_checked: 1,
        expect_met: 1,
      },
      agreement: 1,
      judge_score: null,
    });
    const p1 = per_prompt[1];
    expect(p1?.canary).toMatchObject({ answered: 2, expect_checked: 2, expect_met: 0, output_tokens: 5.5 });
    // The same failure twice is listed once.
    expect(p1?.canary.failures).toEqual(['does not contain "refund"']);
    expect(p1?.baseline.failures).toBeUndefined();
    expect(p1?.agreement).toBeCloseTo(0.3);
    expect(p1?.judge_score).toBeCloseTo(0.2);
  });

  it('past the limit keeps the worst-scoring prompts, still in prompt order, and counts the rest', () => {
    const results = Array.from({ length: 10 }, (_, i) =>
      result(
        i,
        0,
        i === 2 || i === 7
          ? { canary: answer({ status: 500, content: null, error: 'boom' }), canaryFailures: undefined }
          : i === 5
            ? { canaryFailures: ['does not contain "refund"'] }
            : {},
      ),
    );
    const { per_prompt, per_prompt_left_out } = promptRows(results, caseScore, 3);
    expect(per_prompt.map((r) => r.prompt_id)).toEqual(['p2', 'p5', 'p7']);
    expect(per_prompt_left_out).toBe(7);
  });

  it('a request that got no answer names why, and long failure words are shortened', () => {
    const long = `does not match ${'x'.repeat(400)}`;
    const { per_prompt } = promptRows(
      [
        result(0, 0, {
          canary: answer({ status: 0, content: null, error: 'timed out after 20 s', latencyMs: 20000 }),
          canaryFailures: undefined,
          baselineFailures: [long, 'b', 'c', 'd'],
          agreement: null,
        }),
      ],
      caseScore,
    );
    const row = per_prompt[0];
    expect(row?.canary).toMatchObject({ answered: 0, error: 'timed out after 20 s', latency_ms: null });
    expect(row?.baseline.failures).toHaveLength(3);
    expect(row?.baseline.failures?.[0]).toHaveLength(160);
    expect(row?.baseline.expect_met).toBe(0);
  });

  it('redactRows scrubs the words that could echo an answer', () => {
    const { per_prompt } = promptRows(
      [
        result(0, 0, {
          canaryFailures: ['does not contain sk-secret'],
          canary: answer({ status: 401, content: null, error: 'bad key sk-secret' }),
        }),
      ],
      caseScore,
    );
    const red = redactRows(per_prompt, (t) => t.replaceAll('sk-secret', '***'));
    expect(JSON.stringify(red)).not.toContain('sk-secret');
    expect(red[0]?.canary.error).toBe('HTTP 401: bad key ***');
  });

  it('every evaluation report carries the rows, passed or failed', () => {
    const report = buildReport({
      results: [result(0, 0), result(1, 0)],
      baselineTag: 'v1',
      canaryTag: 'v2',
      prompts: 2,
      repeat: 1,
      durationMs: 5,
      rules: DEFAULT_EVAL_RULES,
      explicit: new Set(),
      showWorst: 3,
    });
    expect(report.verdict).toBe('pass');
    expect(report.per_prompt?.map((r) => r.prompt_id)).toEqual(['p0', 'p1']);
    expect(report.per_prompt_left_out).toBe(0);
  });
});
