/**
 * Prompt sets: JSONL files, one chat request a line. Every problem is reported as file:line:column
 * with what was expected (a PlanError, exit 2), all of them at once, before anything is sent.
 *
 * A line: `{"id"?, "messages": [...], "max_tokens"?, "expect"?: {contains, not_contains, regex,
 * json_schema, max_output_tokens}, ...any other OpenAI chat parameter}`. `model` is refused: the
 * route alias and the pin decide which model answers.
 */
// Synchronous, like the plan's own read (src/plan/load.ts): node:fs/promises costs `canary
// validate` about 1 ms to load, and a prompt set is read once, before any traffic moves.
import { readFileSync, statSync } from 'node:fs';
import type { EvaluationConfig } from '../domain/plan.js';
import { PlanError, type PlanProblem, readFailure } from '../errors.js';
import { compileExpectations } from './expectations.js';
import type { Expectations, PromptCase } from './types.js';

const EXPECT_KEYS = ['contains', 'not_contains', 'regex', 'json_schema', 'max_output_tokens'] as const;
/** Keys the line may not set: they would change which version answers or how it is read. */
const REFUSED_KEYS: Record<string, string> = {
  model: 'the route alias and the version pin decide the model; remove `model`',
  stream: 'canary decides whether to stream (evaluation.stream); remove `stream`',
  n: 'one answer per request is judged; remove `n`',
};
const ROLES = new Set(['system', 'user', 'assistant', 'tool', 'developer']);

/** Most prompts canary reads from all files together: a set is a sample, not a data set. */
export const MAX_PROMPTS = 10_000;

function problem(file: string, line: number, message: string, column = 1): PlanProblem {
  return { file, line, column, path: '', message };
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))
    return value as string[];
  return undefined;
}

/** `/source/flags` or a bare source. */
function parseRegex(text: string): { source: string; flags: string } {
  const m = /^\/(.*)\/([dgimsuvy]*)$/s.exec(text);
  return m ? { source: m[1] as string, flags: m[2] as string } : { source: text, flags: '' };
}

function readExpect(value: unknown, where: (message: string) => void): Expectations | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    where('"expect" must be an object like {"contains": ["refund"], "json_schema": {...}}');
    return undefined;
  }
  const out: Expectations = {};
  let ok = true;
  for (const [key, v] of Object.entries(value)) {
    switch (key) {
      case 'contains':
      case 'not_contains': {
        const list = stringList(v);
        if (list) out[key] = list;
        else {
          where(`"expect.${key}" must be a string or a non-empty list of strings`);
          ok = false;
        }
        break;
      }
      case 'regex': {
        const list = stringList(v);
        if (!list) {
          where('"expect.regex" must be a pattern or a list of patterns, e.g. "^\\\\{" or "/refund/i"');
          ok = false;
          break;
        }
        out.regex = [];
        for (const text of list) {
          const r = parseRegex(text);
          try {
            new RegExp(r.source, r.flags);
            out.regex.push(r);
          } catch (error) {
            where(
              `"expect.regex" ${JSON.stringify(text)} is not a valid regular expression: ${(error as Error).message}`,
            );
            ok = false;
          }
        }
        break;
      }
      case 'json_schema':
        if (typeof v === 'object' && v !== null && !Array.isArray(v))
          out.json_schema = v as Record<string, unknown>;
        else if (typeof v === 'boolean') out.json_schema = v ? {} : { not: {} };
        else {
          where('"expect.json_schema" must be a JSON Schema object');
          ok = false;
        }
        break;
      case 'max_output_tokens':
        if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1) out.max_output_tokens = v;
        else {
          where('"expect.max_output_tokens" must be a whole number of at least 1');
          ok = false;
        }
        break;
      default:
        where(`unknown expectation "${key}"; expected one of ${EXPECT_KEYS.join(', ')}`);
        ok = false;
    }
  }
  return ok ? out : undefined;
}

function checkMessages(messages: unknown, where: (message: string) => void): boolean {
  if (!Array.isArray(messages) || messages.length === 0) {
    where('"messages" must be a non-empty list like [{"role": "user", "content": "..."}]');
    return false;
  }
  for (const [i, m] of messages.entries()) {
    const msg = m as { role?: unknown; content?: unknown };
    if (typeof m !== 'object' || m === null || typeof msg.role !== 'string' || !ROLES.has(msg.role)) {
      where(`messages[${i}] needs a "role" of system, user, assistant, tool or developer`);
      return false;
    }
    if (msg.content === undefined) {
      where(`messages[${i}] needs "content"`);
      return false;
    }
  }
  return true;
}

/** Reads one JSONL text; `problems` collects every bad line. */
export function parsePromptLines(text: string, file: string, problems: PlanProblem[]): PromptCase[] {
  const cases: PromptCase[] = [];
  const ids = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('//')) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      const msg = (error as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const column = pos ? Number(pos[1]) + 1 : 1;
      problems.push(
        problem(file, line, `not a JSON object: ${msg.replace(/ in JSON at position \d+.*$/, '')}`, column),
      );
      return;
    }
    const where = (message: string) => problems.push(problem(file, line, message));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      where('expected a JSON object like {"messages": [{"role": "user", "content": "..."}]}');
      return;
    }
    const { id, expect, ...request } = value as Record<string, unknown>;
    let ok = checkMessages(request.messages, where);
    for (const [key, why] of Object.entries(REFUSED_KEYS)) {
      if (key in request) {
        where(`"${key}" is not allowed here: ${why}`);
        ok = false;
      }
    }
    if (
      request.max_tokens !== undefined &&
      !(Number.isSafeInteger(request.max_tokens) && (request.max_tokens as number) >= 1)
    ) {
      where('"max_tokens" must be a whole number of at least 1');
      ok = false;
    }
    if (id !== undefined && (typeof id !== 'string' || id === '') && typeof id !== 'number') {
      where('"id" must be a string or a number');
      ok = false;
    }
    const name = id === undefined ? `${file}:${line}` : String(id);
    if (id !== undefined && ids.has(name)) {
      where(`"id" ${JSON.stringify(name)} is already used on line ${ids.get(name)}`);
      ok = false;
    }
    ids.set(name, line);
    const expectations = expect === undefined ? undefined : readExpect(expect, where);
    if (expect !== undefined && expectations === undefined) ok = false;
    if (expectations?.json_schema) {
      const error = compileExpectations(expectations).schemaError;
      if (error) {
        where(`"expect.json_schema" is not a valid JSON Schema: ${error}`);
        ok = false;
      }
    }
    if (!ok) return;
    cases.push({
      id: name,
      file,
      line,
      request: request as PromptCase['request'],
      ...(expectations ? { expect: expectations } : {}),
    });
  });
  return cases;
}

/** Larger prompt files are refused: a prompt set is a sample, and it is held in memory whole. */
export const MAX_PROMPT_FILE_BYTES = 64 * 1024 * 1024;

function readText(file: string): string {
  let reason: string;
  try {
    const info = statSync(file);
    if (!info.isFile()) reason = 'not a file';
    else if (info.size > MAX_PROMPT_FILE_BYTES)
      reason = `it is ${Math.round(info.size / 1024 / 1024)} MiB, more than the ${MAX_PROMPT_FILE_BYTES / 1024 / 1024} MiB a prompt set may be`;
    else return readFileSync(file, 'utf8');
  } catch (error) {
    reason = readFailure(error);
  }
  throw new PlanError([problem(file, 1, `cannot read the prompt file: ${reason}`)], {
    hint: 'evaluation.prompts paths are resolved next to the plan file',
  });
}

/** Every prompt of the plan's sets, in order; throws PlanError (exit 2) listing every bad line. */
export async function loadPrompts(config: Pick<EvaluationConfig, 'prompts'>): Promise<PromptCase[]> {
  const problems: PlanProblem[] = [];
  const cases: PromptCase[] = [];
  for (const file of config.prompts) {
    let text: string;
    try {
      text = readText(file);
    } catch (error) {
      if (error instanceof PlanError) {
        problems.push(...error.problems);
        continue;
      }
      throw error;
    }
    const found = parsePromptLines(text, file, problems);
    if (found.length === 0 && !problems.some((p) => p.file === file)) {
      problems.push(problem(file, 1, 'the prompt file holds no prompts (one JSON object per line)'));
    }
    cases.push(...found);
  }
  if (cases.length > MAX_PROMPTS) {
    problems.push(
      problem(
        config.prompts[0] ?? '',
        1,
        `the prompt sets hold ${cases.length} prompts; at most ${MAX_PROMPTS} (use evaluation.sample)`,
      ),
    );
  }
  if (problems.length > 0) throw new PlanError(problems.slice(0, 50));
  return cases;
}

/**
 * `sample: n` picks n prompts spread evenly over the set, the same ones every run, so two runs
 * of a plan judge the same prompts.
 */
export function samplePrompts(cases: PromptCase[], sample: number | undefined): PromptCase[] {
  if (sample === undefined || sample >= cases.length) return cases;
  const step = cases.length / sample;
  return Array.from({ length: sample }, (_, i) => cases[Math.floor(i * step)] as PromptCase);
}
