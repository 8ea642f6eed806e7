import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { createJudge, JudgeError } from '../../src/evaluation/judge.js';
import type { PromptCase } from '../../src/evaluation/types.js';

const dir = mkdtempSync(join(tmpdir(), 'canary-judge-'));
const prompt: PromptCase = {
  id: 'p1',
  file: 'f',
  line: 1,
  request: { messages: [{ role: 'user', content: 'q' }] },
};
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function judge(run: string, timeoutMs = 5_000) {
  return createJudge({
    config: { run, timeoutMs, concurrency: 1 },
    cwd: dir,
    env,
    redact: (t) => t.replaceAll('s3cret', '[REDACTED]'),
  });
}

describe('the judge command', () => {
  it('gets both answers as JSON on stdin and its last line is the score', async () => {
    writeFileSync(
      join(dir, 'judge.mjs'),
      `let s='';process.stdin.on('data',c=>s+=c).on('end',()=>{const j=JSON.parse(s);console.log('thinking…');console.log(j.canary===j.baseline?1:0.25);console.error(j.prompt_id)})`,
    );
    const score = judge(`node judge.mjs`);
    expect(await score({ prompt, baseline: 'same', canary: 'same', repeat: 0 })).toBe(1);
    expect(await score({ prompt, baseline: 'a', canary: 'b', repeat: 0 })).toBe(0.25);
  });

  it('a judge that fails: exit 2 with its last words, secrets redacted', async () => {
    const run = judge('echo "model s3cret refused" >&2; exit 7');
    const error = await run({ prompt, baseline: 'a', canary: 'b', repeat: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(JudgeError);
    expect(error.exitCode).toBe(ExitCode.BadInput);
    expect(error.message).toBe(
      'evaluation.judge (`echo "model [REDACTED] refused" >&2; exit 7`) on prompt p1 exited with code 7: model [REDACTED] refused',
    );
  });

  it('a judge that prints no number, or nothing: exit 2 saying what it printed', async () => {
    await expect(
      judge('cat >/dev/null; echo great')({ prompt, baseline: 'a', canary: 'b', repeat: 0 }),
    ).rejects.toThrow(/printed "great" where a score \(a number\) was expected/);
    await expect(judge('cat >/dev/null')({ prompt, baseline: 'a', canary: 'b', repeat: 0 })).rejects.toThrow(
      /printed nothing where a score/,
    );
  });

  it('a judge that hangs is killed at its timeout', async () => {
    const error = await judge(
      'sleep 30',
      200,
    )({ prompt, baseline: 'a', canary: 'b', repeat: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(JudgeError);
    expect(error.message).toMatch(/on prompt p1 did not finish within 200ms$/);
  });
});
