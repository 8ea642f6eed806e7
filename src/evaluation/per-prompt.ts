/**
 * The per-prompt record of a pre-traffic evaluation: one compact row per prompt (its repeats
 * folded together), both versions side by side, for `canary report`'s per-prompt table. Pure.
 *
 * No answer text: the rows go into the `prompt_eval_finished` event and its journal line, and a
 * prompt set of thousands would make that line megabytes. Answers are kept only for the worst
 * prompts (`worst`). Past PROMPT_ROWS_LIMIT prompts the worst-scoring are kept and the rest are
 * counted, so a reader knows how many are missing and that they scored better.
 */
import type { CaseResult, ChatAnswer, PromptRow, PromptVersionRow } from './types.js';

/** Rows kept per evaluation: ~200 bytes each, so a journal line stays well under 100 kB. */
export const PROMPT_ROWS_LIMIT = 200;
const MAX_FAILURES = 3;
const MAX_TEXT = 160;

function answered(a: ChatAnswer): boolean {
  return a.status >= 200 && a.status < 300 && a.content !== null;
}

function shorten(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

function versionRow(cases: CaseResult[], role: 'baseline' | 'canary'): PromptVersionRow {
  const answers = cases.map((c) => c[role]);
  const good = answers.filter(answered);
  const bad = answers.find((a) => !answered(a));
  const checked = cases
    .map((c) => (role === 'baseline' ? c.baselineFailures : c.canaryFailures))
    .filter((f): f is string[] => f !== undefined);
  const failures = [...new Set(checked.flat())].slice(0, MAX_FAILURES).map(shorten);
  const row: PromptVersionRow = {
    answered: good.length,
    latency_ms: median(good.map((a) => a.latencyMs)),
    output_tokens: mean(good.flatMap((a) => (a.completionTokens === null ? [] : [a.completionTokens]))),
    expect_checked: checked.length,
    expect_met: checked.filter((f) => f.length === 0).length,
  };
  if (bad)
    row.error = shorten(
      bad.status === 0
        ? (bad.error ?? 'no answer')
        : `HTTP ${bad.status}${bad.error ? `: ${bad.error}` : bad.content === null ? ' without content' : ''}`,
    );
  if (failures.length > 0) row.failures = failures;
  return row;
}

/**
 * One row per prompt, in prompt-set order. `score` ranks an answer pair (higher hurts more, as
 * for the worst prompts); a prompt's score is its worst repeat's.
 */
export function promptRows(
  results: CaseResult[],
  score: (r: CaseResult) => { score: number },
  limit = PROMPT_ROWS_LIMIT,
): { per_prompt: PromptRow[]; per_prompt_left_out: number } {
  const groups = new Map<string, CaseResult[]>();
  for (const r of results) {
    const key = `${r.prompt.file}\u0000${r.prompt.line}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const rows = [...groups.values()].map((cases, order) => {
    const first = cases[0] as CaseResult;
    const row: PromptRow = {
      prompt_id: first.prompt.id,
      file: first.prompt.file,
      line: first.prompt.line,
      repeats: cases.length,
      baseline: versionRow(cases, 'baseline'),
      canary: versionRow(cases, 'canary'),
      agreement: mean(cases.flatMap((c) => (c.agreement === null ? [] : [c.agreement]))),
      judge_score: mean(cases.flatMap((c) => (c.judgeScore === null ? [] : [c.judgeScore]))),
    };
    return { row, order, score: Math.max(...cases.map((c) => score(c).score)) };
  });
  const kept =
    rows.length <= limit
      ? rows
      : [...rows]
          .sort((a, b) => b.score - a.score || a.order - b.order)
          .slice(0, limit)
          .sort((a, b) => a.order - b.order);
  return { per_prompt: kept.map((k) => k.row), per_prompt_left_out: rows.length - kept.length };
}

/** Failure words may quote an answer (and an answer may echo a token): through redact. */
export function redactRows(rows: PromptRow[], redact: (text: string) => string): PromptRow[] {
  const side = (v: PromptVersionRow): PromptVersionRow => ({
    ...v,
    ...(v.error !== undefined && { error: redact(v.error) }),
    ...(v.failures && { failures: v.failures.map(redact) }),
  });
  return rows.map((r) => ({
    ...r,
    prompt_id: redact(r.prompt_id),
    baseline: side(r.baseline),
    canary: side(r.canary),
  }));
}
