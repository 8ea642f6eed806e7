import { describe, expect, it } from 'vitest';
import { canPrompt } from '../src/interactive.js';
import type { InStream, OutStream } from '../src/io.js';

const tty = (isTTY: boolean) => ({ isTTY }) as InStream;
const out = (isTTY: boolean): OutStream => ({ isTTY, write: () => true });

describe('canPrompt: one rule for every command that asks', () => {
  it.each([
    ['both ends terminals, no CI', { stdin: true, stdout: true, env: {} }, true],
    ['stdin not a terminal', { stdin: false, stdout: true, env: {} }, false],
    ['stdout not a terminal', { stdin: true, stdout: false, env: {} }, false],
    ['CI=true', { stdin: true, stdout: true, env: { CI: 'true' } }, false],
    [
      'a vendor CI variable without CI (GitHub Actions)',
      { stdin: true, stdout: true, env: { GITHUB_ACTIONS: 'true' } },
      false,
    ],
    ['CI=false says it is not CI', { stdin: true, stdout: true, env: { CI: 'false' } }, true],
  ])('%s', (_name, c, expected) => {
    expect(canPrompt({ stdin: tty(c.stdin), stdout: out(c.stdout), env: c.env })).toBe(expected);
  });

  it('checks the stream the prompt is drawn on (rollback draws on stderr)', () => {
    const io = { stdin: tty(true), stdout: out(false), env: {} };
    expect(canPrompt(io, out(true))).toBe(true);
    expect(canPrompt(io, out(false))).toBe(false);
  });
});
