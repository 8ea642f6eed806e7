/**
 * The pre-traffic evaluation's per-prompt table: each prompt with both versions' outcome,
 * latency, output tokens and expectation results, and the canary's agreement and judge score.
 * Reads `per_prompt` / `per_prompt_left_out` of the `prompt_eval_finished` report (journal
 * version 3 on, src/evaluation/per-prompt.ts); an older record says it has none.
 */
import { escapeHtml } from './escape.js';
import { arr, num, obj, pick, type Raw, str } from './fields.js';
import { formatValue } from './units.js';

/** The first journal version whose `prompt_eval_finished` carries `per_prompt`. */
export const PER_PROMPT_SINCE = 3;

export function lacksPerPrompt(report: Raw): boolean {
  return pick(report, 'per_prompt') === undefined;
}

interface Side {
  answered: number;
  error: string | null;
  latency: number | null;
  tokens: number | null;
  checked: number;
  met: number;
  failures: string[];
}

function side(v: Raw): Side {
  return {
    answered: num(pick(v, 'answered')) ?? 0,
    error: str(pick(v, 'error')),
    latency: num(pick(v, 'latency_ms')),
    tokens: num(pick(v, 'output_tokens')),
    checked: num(pick(v, 'expect_checked')) ?? 0,
    met: num(pick(v, 'expect_met')) ?? 0,
    failures: arr(pick(v, 'failures')).flatMap((f) => (typeof f === 'string' ? [f] : [])),
  };
}

function cells(s: Side, repeats: number): string {
  const outcome =
    s.answered === repeats
      ? `${s.answered}/${repeats} answered`
      : `<span class="bad">${s.answered}/${repeats} answered</span>${s.error ? `<br><span class="muted">${escapeHtml(s.error)}</span>` : ''}`;
  const expect =
    s.checked === 0
      ? '<span class="muted">none</span>'
      : `<span class="${s.met === s.checked ? 'good' : 'bad'}">${s.met}/${s.checked} met</span>${s.failures.map((f) => `<br><span class="muted">${escapeHtml(f)}</span>`).join('')}`;
  const tokens = s.tokens === null ? 'no data' : formatValue('number', Math.round(s.tokens * 10) / 10);
  return `<td>${outcome}</td><td>${escapeHtml(formatValue('ms', s.latency))}</td><td>${escapeHtml(tokens)}</td><td>${expect}</td>`;
}

/** A prompt where the canary answered fewer times or met its expectations less often. */
function worse(b: Side, c: Side): boolean {
  const rate = (s: Side) => (s.checked === 0 ? 1 : s.met / s.checked);
  return c.answered < b.answered || rate(c) < rate(b);
}

export function perPromptTable(report: Raw): string {
  if (lacksPerPrompt(report))
    return `<h3>Every prompt</h3><p>Not recorded: the per-prompt results are in the journal from version ${PER_PROMPT_SINCE} on; this record has only the worst prompts (below).</p>`;
  const rows = arr(pick(report, 'per_prompt')).map(obj);
  const leftOut = num(pick(report, 'per_prompt_left_out')) ?? 0;
  const judged = rows.some((r) => num(pick(r, 'judge_score')) !== null);
  const body = rows
    .map((r) => {
      const repeats = num(pick(r, 'repeats')) ?? 1;
      const b = side(obj(pick(r, 'baseline')));
      const c = side(obj(pick(r, 'canary')));
      const file = (str(pick(r, 'file')) ?? '').split(/[\\/]/).pop() ?? '';
      const judge = judged
        ? `<td>${escapeHtml(formatValue('number', num(pick(r, 'judge_score'))))}</td>`
        : '';
      const flag = worse(b, c);
      return `<tr class="prompt-row${flag ? ' prompt-worse' : ''}"><th scope="row"><code>${escapeHtml(str(pick(r, 'prompt_id')) ?? '?')}</code><br><span class="muted">${escapeHtml(file)}:${num(pick(r, 'line')) ?? '?'}</span>${flag ? '<br><span class="bad">canary worse</span>' : ''}</th>${cells(b, repeats)}${cells(c, repeats)}<td>${escapeHtml(formatValue('rate', num(pick(r, 'agreement'))))}</td>${judge}</tr>`;
    })
    .join('\n');
  const sub = '<th>Outcome</th><th>Latency</th><th>Output tokens</th><th>Expectations</th>';
  const more =
    leftOut > 0
      ? `<p class="muted prompts-left-out">${leftOut} more prompt${leftOut === 1 ? '' : 's'} not listed: the record keeps the ${rows.length} that scored worst; ${leftOut === 1 ? 'it' : 'these'} scored better.</p>`
      : '';
  return `<h3>Every prompt</h3>
<p class="muted">${rows.length + leftOut} prompt${rows.length + leftOut === 1 ? '' : 's'}; latency is the median and output tokens the mean over a prompt's answered repeats; <span class="bad">canary worse</span> marks a prompt the canary answered, or met the expectations of, less often than the baseline.</p>
<div class="table-scroll"><table class="grid per-prompt"><thead><tr><th rowspan="2">Prompt</th><th colspan="4">baseline</th><th colspan="4">canary</th><th rowspan="2">Agreement</th>${judged ? '<th rowspan="2">Judge score</th>' : ''}</tr>
<tr>${sub}${sub}</tr></thead><tbody>
${body}
</tbody></table></div>
${more}`;
}
