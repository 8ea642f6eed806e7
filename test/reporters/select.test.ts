import { describe, expect, it } from 'vitest';
import { colorEnabled, createChalk, isCi, selectOutput } from '../../src/reporters/select.js';

describe('selectOutput', () => {
  it.each([
    // flag, isTTY, env, expected
    ['auto', true, {}, 'tty'],
    ['auto', true, { CI: 'true' }, 'plain'],
    ['auto', true, { CI: '1' }, 'plain'],
    ['auto', true, { GITHUB_ACTIONS: 'true' }, 'plain'],
    ['auto', true, { CI: 'false' }, 'tty'],
    ['auto', true, { TERM: 'dumb' }, 'plain'],
    ['auto', true, { TERM: 'xterm-256color' }, 'tty'],
    ['auto', false, {}, 'plain'],
    ['auto', undefined, {}, 'plain'],
    ['tty', false, { CI: 'true' }, 'tty'],
    ['plain', true, {}, 'plain'],
    ['json', true, {}, 'json'],
    ['json', false, { CI: 'true' }, 'json'],
  ] as const)('flag %s, isTTY %s, env %o → %s', (flag, isTTY, env, expected) => {
    expect(selectOutput({ flag, isTTY, env: { ...env } })).toBe(expected);
  });

  it('defaults the flag to auto', () => {
    expect(selectOutput({ isTTY: true, env: {} })).toBe('tty');
  });

  it('judges the env object it is given, not the process environment', () => {
    expect(isCi({})).toBe(false);
    expect(isCi({ BUILD_NUMBER: '42' })).toBe(true);
  });
});

describe('colorEnabled', () => {
  it.each([
    // flagColor, isTTY, env, mode, expected
    [true, true, {}, undefined, true],
    [true, false, {}, undefined, false],
    [false, true, {}, undefined, false],
    [false, true, { FORCE_COLOR: '1' }, undefined, false],
    [true, true, { NO_COLOR: '1' }, undefined, false],
    [true, true, { NO_COLOR: '' }, undefined, true],
    [true, false, { FORCE_COLOR: '1' }, undefined, true],
    [true, false, { FORCE_COLOR: '' }, undefined, true],
    [true, true, { FORCE_COLOR: '0' }, undefined, false],
    [true, true, { FORCE_COLOR: 'false' }, undefined, false],
    [true, true, { NO_COLOR: '1', FORCE_COLOR: '1' }, undefined, true],
    [true, true, { TERM: 'dumb' }, undefined, false],
    [true, true, {}, 'plain', false],
    [true, false, { FORCE_COLOR: '1' }, 'plain', true],
    [true, true, { FORCE_COLOR: '1' }, 'json', false],
  ] as const)('--color %s, isTTY %s, env %o, mode %s → %s', (flagColor, isTTY, env, mode, expected) => {
    expect(colorEnabled({ flagColor, isTTY, env: { ...env }, mode })).toBe(expected);
  });

  it('builds a chalk whose level follows the decision, whatever the process supports', () => {
    expect(createChalk(true).red('x')).toBe('\u001B[31mx\u001B[39m');
    expect(createChalk(false).red('x')).toBe('x');
  });
});
