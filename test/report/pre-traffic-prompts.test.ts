import { describe, expect, it } from 'vitest';
import { perPromptTable } from '../../src/report/pre-traffic-prompts.js';

const side = (over: Record<string, unknown> = {}) => ({
  answered: 2,
  latency_ms: 120,
  output_tokens: 30,
  expect_checked: 2,
  expect_met: 2,
  ...over,
});

const row = (id: string, over: Record<string, unknown> = {}) => ({
  prompt_id: id,
  file: '/plans/prompts/set.jsonl',
  line: 4,
  repeats: 2,
  baseline: side(),
  canary: side(),
  agreement: 0.5,
  judge_score: null,
  ...over,
});

describe('perPromptTable', () => {
  it('says how many prompts the bounded record left out', () => {
    const html = perPromptTable({ per_prompt: [row('a'), row('b')], per_prompt_left_out: 5 });
    expect(html.match(/<tr class="prompt-row/g)).toHaveLength(2);
    expect(html).toContain('7 prompts;');
    expect(html).toContain(
      '5 more prompts not listed: the record keeps the 2 that scored worst; these scored better.',
    );
    expect(html).not.toContain('Judge score');
  });

  it('escapes what the record holds, marks a worse canary, shows a judge column when one scored', () => {
    const html = perPromptTable({
      per_prompt: [
        row('<b>x</b>', {
          canary: side({
            answered: 1,
            error: 'HTTP 502: <oops>',
            expect_checked: 1,
            expect_met: 0,
            failures: ['does not contain "a&b"'],
          }),
          judge_score: 0.25,
        }),
      ],
      per_prompt_left_out: 0,
    });
    expect(html).toContain('<code>&lt;b&gt;x&lt;/b&gt;</code>');
    expect(html).toContain('set.jsonl:4');
    expect(html).not.toContain('/plans/prompts');
    expect(html).toContain('<tr class="prompt-row prompt-worse">');
    expect(html).toContain('1/2 answered');
    expect(html).toContain('HTTP 502: &lt;oops&gt;');
    expect(html).toContain('0/1 met');
    expect(html).toContain('does not contain &quot;a&amp;b&quot;');
    expect(html).toContain('<th rowspan="2">Judge score</th>');
    expect(html).toContain('<td>0.25</td>');
    expect(html).not.toContain('not listed');
  });

  it('a record from before journal version 3: says the rows are not recorded', () => {
    const html = perPromptTable({ verdict: 'fail', worst: [] });
    expect(html).toContain('Not recorded: the per-prompt results are in the journal from version 3 on');
    expect(html).not.toContain('<table');
  });
});
