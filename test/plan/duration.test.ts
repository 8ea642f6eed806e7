import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPlanDuration as formatDuration } from '../../src/format.js';
import { parseDuration } from '../../src/plan/duration.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['0s', 0],
    ['2h0m5s', 7_205_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '10',
    '-5m',
    '10 minutes',
    '10 minutes please',
    '10m please',
    ' 10m',
    '10m ',
    '10M',
    '1w',
    '1y',
    '',
    'm',
    '1h-30m',
    '.5h',
    '1e3s',
    'Infinity',
    `${'9'.repeat(400)}d`,
  ])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1_500, '1s500ms'],
    [30_000, '30s'],
    [600_000, '10m'],
    [5_400_000, '1h30m'],
    [90_061_000, '1d1h1m1s'],
    [-60_000, '-1m'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
