import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, PlanError } from '../../src/errors.js';
import { compileExpectations } from '../../src/evaluation/expectations.js';
import { loadPrompts, samplePrompts } from '../../src/evaluation/prompts.js';

const dir = mkdtempSync(join(tmpdir(), 'canary-prompts-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function problemsOf(files: string[]) {
  try {
    await loadPrompts({ prompts: files });
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    expect((error as PlanError).exitCode).toBe(ExitCode.BadInput);
    return (error as PlanError).problems;
  }
  throw new Error('expected a PlanError');
}

describe('prompt sets (JSONL)', () => {
  it('reads one request a line, passing OpenAI parameters through and keeping expectations apart', async () => {
    const path = file(
      'ok.jsonl',
      [
        '{"id": "a", "messages": [{"role": "user", "content": "hello"}], "temperature": 0.2, "expect": {"contains": "hello"}}',
        '',
        '// a comment line',
        '{"messages": [{"role": "user", "content": "second"}], "max_tokens": 20}',
      ].join('\n'),
    );
    const cases = await loadPrompts({ prompts: [path] });
    expect(cases.map((c) => c.id)).toEqual(['a', `${path}:4`]);
    expect(cases[0]?.request).toEqual({ messages: [{ role: 'user', content: 'hello' }], temperature: 0.2 });
    expect(cases[0]?.expect).toEqual({ contains: ['hello'] });
    expect(cases[1]?.line).toBe(4);
  });

  it('reports every malformed line with file:line and what was expected, all at once', async () => {
    const path = file(
      'bad.jsonl',
      [
        '{"messages": [{"role": "user", "content": "fine"}]}',
        '{"messages": [oops]}',
        '{"model": "gpt", "messages": [{"role": "user", "content": "x"}]}',
        '[1, 2]',
        '{"messages": [{"role": "robot", "content": "x"}]}',
        '{"messages": [{"role": "user", "content": "x"}], "expect": {"contians": ["x"]}}',
        '{"messages": [{"role": "user", "content": "x"}], "expect": {"regex": "(unclosed"}}',
        '{"messages": [{"role": "user", "content": "x"}], "expect": {"json_schema": {"type": "thing"}}}',
        '{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}',
      ].join('\n'),
    );
    const problems = await problemsOf([path]);
    const byLine = (line: number) => problems.filter((p) => p.line === line).map((p) => p.message);
    expect(problems.every((p) => p.file === path)).toBe(true);
    expect(byLine(1)).toEqual([]);
    expect(byLine(2)[0]).toMatch(/^not a JSON object/);
    expect(byLine(3)[0]).toMatch(/"model" is not allowed/);
    expect(byLine(4)[0]).toMatch(/expected a JSON object/);
    expect(byLine(5)[0]).toMatch(/role/);
    expect(byLine(6)[0]).toMatch(/unknown expectation "contians"; expected one of contains/);
    expect(byLine(7)[0]).toMatch(/not a valid regular expression/);
    expect(byLine(8)[0]).toMatch(/not a valid JSON Schema: .*type "thing"/);
    expect(byLine(9)[0]).toMatch(/max_tokens/);
  });

  it('says why a prompt file cannot be read: missing, a folder, no permission, empty', async () => {
    const missing = join(dir, 'nope.jsonl');
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    const empty = file('empty.jsonl', '\n\n');
    const problems = await problemsOf([missing, folder, empty]);
    expect(problems.map((p) => [p.file, p.message])).toEqual([
      [missing, 'cannot read the prompt file: no such file'],
      [folder, 'cannot read the prompt file: not a file'],
      [empty, 'the prompt file holds no prompts (one JSON object per line)'],
    ]);
    if (process.getuid?.() !== 0) {
      const locked = file('locked.jsonl', '{"messages": []}');
      chmodSync(locked, 0o000);
      expect((await problemsOf([locked]))[0]?.message).toBe('cannot read the prompt file: permission denied');
    }
  });

  it('refuses a repeated id, naming the first line', async () => {
    const path = file(
      'dup.jsonl',
      '{"id": "x", "messages": [{"role": "user", "content": "a"}]}\n{"id": "x", "messages": [{"role": "user", "content": "b"}]}\n',
    );
    const problems = await problemsOf([path]);
    expect(problems).toEqual([
      expect.objectContaining({ line: 2, message: '"id" "x" is already used on line 1' }),
    ]);
  });

  it('samples evenly and the same way every time', () => {
    const cases = Array.from({ length: 10 }, (_, i) => ({
      id: String(i),
      file: 'f',
      line: i + 1,
      request: { messages: [] },
    }));
    expect(samplePrompts(cases, 3).map((c) => c.id)).toEqual(['0', '3', '6']);
    expect(samplePrompts(cases, 20)).toHaveLength(10);
    expect(samplePrompts(cases, undefined)).toHaveLength(10);
  });
});

describe('expectations', () => {
  it('checks contains (case-insensitive), not_contains, regex, JSON schema and output tokens', () => {
    const e = compileExpectations({
      contains: ['Refund'],
      not_contains: ['sorry'],
      regex: [{ source: '^\\{', flags: '' }],
      json_schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
      max_output_tokens: 10,
    });
    expect(e.check('{"ok": true, "note": "refund"}', 5)).toEqual([]);
    expect(e.check('sorry, no', 50)).toEqual([
      'does not contain "Refund"',
      'contains "sorry"',
      'does not match /^\\{/',
      expect.stringMatching(/^is not JSON/),
      'has 50 output tokens, more than 10',
    ]);
    expect(e.check('{"ok": "yes", "x": "refund"}', 1)).toEqual([
      expect.stringMatching(/^breaks the JSON schema: \/ok /),
    ]);
    expect(e.check('```json\n{"ok": false, "r": "refund"}\n```', 1)).toEqual(['does not match /^\\{/']);
  });
});
