import { stripVTControlCharacters } from 'node:util';
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { evaluationLines, evaluationMarkdown, renderEvaluationTable } from '../../src/evaluation/format.js';
import type { EvaluationReport } from '../../src/evaluation/types.js';

const stats = (tag: string, pass: number) => ({
  version_tag: tag,
  requests: 8,
  success_rate: 1,
  expectation_pass_rate: pass,
  expectation_checked: 8,
  latency_p50_ms: 410,
  latency_p99_ms: 900,
  ttft_p50_ms: 120,
  ttft_p99_ms: 300,
  output_tokens: 80.5,
  cost_per_answer: null,
});

const failed: EvaluationReport = {
  verdict: 'fail',
  prompts: 8,
  repeat: 1,
  requests_per_version: 8,
  duration_ms: 2300,
  baseline: stats('v1', 1),
  canary: { ...stats('v2', 0.5), agreement: 0.31, judge_score: null },
  checks: [
    {
      id: 'success_rate.min',
      metric: 'success_rate',
      rule: 'min',
      status: 'pass',
      value: 1,
      baseline: 1,
      bound: 0.95,
      reason: 'success_rate 100.0% is at least 95.0%',
    },
    {
      id: 'expectation_pass_rate.max_decrease',
      metric: 'expectation_pass_rate',
      rule: 'max_decrease',
      status: 'fail',
      value: 0.5,
      baseline: 1,
      bound: 0.95,
      reason: "expectation_pass_rate 50.0% is not at most 5.0 points below the baseline's 100.0%",
    },
  ],
  worst: [
    {
      prompt_id: 'refunds|pipe',
      file: '/plans/p.jsonl',
      line: 3,
      repeat: 0,
      prompt: 'How long do refunds take?',
      baseline: 'Refunds take 5 business days.',
      canary: "I'm sorry, but I can't help with that request.",
      why: 'canary answer does not contain "refund"',
      agreement: 0.1,
      judge_score: null,
    },
  ],
  summary: "expectation_pass_rate 50.0% is not at most 5.0 points below the baseline's 100.0%",
};

describe('the evaluation report for people', () => {
  it('a terminal table: both versions per metric, the failing check, and the worst prompt side by side', () => {
    const text = stripVTControlCharacters(renderEvaluationTable(failed, new Chalk({ level: 1 }), 100));
    expect(text).toContain('pre-traffic evaluation FAILED: 8 prompts, 8 answers per version in 2.3s');
    expect(text).toMatch(/expectations met\s+│ 100\.0%\s+│ 50\.0%\s+│ max_decrease fail/);
    expect(text).toMatch(/first token p50\s+│ 120ms\s+│ 120ms/);
    expect(text).not.toContain('cost / answer'); // neither version has a value, and no rule asks
    expect(text).toContain('✗ expectation_pass_rate 50.0%');
    expect(text).toMatch(/baseline answer\s+│ canary answer/);
    expect(text).toMatch(/Refunds take 5 business days\.\s+│ I'm sorry, but I can't help with that/);
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('plain lines, one fact each', () => {
    const lines = evaluationLines(failed).map((l) => l.text);
    expect(lines).toContain('expectations met: baseline 100.0% · canary 50.0% · fail');
    expect(lines).toContain('agreement with baseline: canary 31.0%');
    expect(
      lines.some((l) =>
        l.startsWith('worst 1: refunds|pipe (/plans/p.jsonl:3): canary answer does not contain'),
      ),
    ).toBe(true);
    expect(lines).toContain("  canary:   I'm sorry, but I can't help with that request.");
  });

  it('a Markdown section whose cells cannot break the table', () => {
    const md = evaluationMarkdown(failed);
    expect(md).toContain('### ❌ pre-traffic evaluation FAILED');
    expect(md).toContain('| expectations met | 100.0% | 50.0% | ❌ expectation_pass_rate 50.0%');
    expect(md).toContain('**refunds\\|pipe**');
    // Every row of each table has as many (unescaped) cell borders as its header.
    const tables = md.split('\n\n').filter((b) => b.startsWith('|'));
    expect(tables).toHaveLength(2);
    for (const table of tables) {
      const borders = table.split('\n').map((row) => row.match(/(?<!\\)\|/g)?.length);
      expect(new Set(borders).size, table).toBe(1);
    }
  });
});
