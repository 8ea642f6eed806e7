/**
 * Scenario keys for real incidents: bounded (`between`) and periodic (`every`/`for`) changes,
 * changes shared by every version (`all_versions`), and a traffic schedule (`rps_changes`).
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/emulator/index.js';
import { BehaviourBook, rpsSchedule } from '../../src/emulator/scenario.js';
import { PlanError } from '../../src/errors.js';
import { CANARY, startHarness } from './helpers.js';

function problems(text: string): string[] {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).problems.map((p) => `${p.line}:${p.column} ${p.message}`);
  }
  throw new Error('expected a PlanError');
}

describe('incident scenarios', () => {
  it('applies a change only between its two times', () => {
    const s = parseScenario(
      'versions:\n  v1:\n    changes:\n      - when: {between: [10m, 12m]}\n        set: {error_rate: 0.5}\n',
      's.yaml',
    );
    const book = new BehaviourBook(s, 0);
    expect(book.resolve('v1', 5, 10 * 60_000 - 1).error_rate).toBe(0.005);
    expect(book.resolve('v1', 5, 10 * 60_000).error_rate).toBe(0.5);
    expect(book.resolve('v1', 5, 12 * 60_000 - 1).error_rate).toBe(0.5);
    expect(book.resolve('v1', 5, 12 * 60_000).error_rate).toBe(0.005);
  });

  it('bursts for `for` out of every `every`, at a phase the seed chooses', () => {
    const s = parseScenario(
      'versions:\n  v1:\n    changes:\n      - when: {every: 2m, for: 10s}\n        set: {error_rate: 0.5}\n',
      's.yaml',
    );
    const burstStarts = (seed: number) => {
      const book = new BehaviourBook(s, 0, seed);
      const on: number[] = [];
      for (let t = 0; t < 6 * 60_000; t += 1000) {
        if (book.resolve('v1', 5, t).error_rate === 0.5) on.push(t);
      }
      return on;
    };
    const a = burstStarts(1);
    // 3 periods of 2 minutes, 10 one-second steps on in each (a burst may straddle t = 0).
    expect(a.length).toBeGreaterThanOrEqual(20);
    expect(a.length).toBeLessThanOrEqual(30);
    const b = burstStarts(2);
    expect(b).not.toEqual(a);
    expect(burstStarts(1)).toEqual(a);
  });

  it('applies all_versions changes to every version, over their own values', () => {
    const s = parseScenario(
      [
        'versions:',
        '  base: {error_rate: 0.01}',
        '  cand: {error_rate: 0.012}',
        'all_versions:',
        '  changes:',
        '    - when: {after: 3m}',
        '      set: {error_rate: 0.04, latency_p99_ms: 3000}',
      ].join('\n'),
      's.yaml',
    );
    const book = new BehaviourBook(s, 0);
    expect(book.resolve('cand', 5, 0).error_rate).toBe(0.012);
    for (const tag of ['base', 'cand', 'unnamed']) {
      expect(book.resolve(tag, 5, 3 * 60_000)).toMatchObject({ error_rate: 0.04, latency_p99_ms: 3000 });
    }
  });

  it('changes the traffic on schedule', async () => {
    const s = parseScenario(
      'rps: 100\nrps_changes:\n  - {after: 1m, rps: 10}\n  - {after: 2m, rps: 1000}\n',
      's.yaml',
    );
    const at = rpsSchedule(s, 100, 0);
    expect([at(0), at(60_000), at(119_999), at(120_000)]).toEqual([100, 10, 10, 1000]);
    // And the emulator's traffic follows it.
    const h = await startHarness({ scenario: s, seed: 3 });
    try {
      const t0 = h.clock.now();
      await h.registerBoth();
      await h.createRoute(100);
      h.clock.advance(180_000);
      const count = async (from: number, to: number) =>
        (await h.metrics(CANARY, t0 + from, t0 + to)).request_count as number;
      expect(await count(0, 60_000)).toBeGreaterThan(5000);
      expect(await count(60_000, 120_000)).toBeLessThan(1000);
      expect(await count(120_000, 180_000)).toBeGreaterThan(50_000);
    } finally {
      await h.emulator.close();
    }
  });

  it('reports bad incident keys with their line and column', () => {
    const text = [
      'rps_changes:', //                                  1
      '  - {after: 2m, rps: 10}', //                      2
      '  - {after: 1m, rps: 0}', //                       3
      'all_versions:', //                                 4
      '  changes:', //                                    5
      '    - when: {between: [5m, 2m]}', //               6
      '      set: {error_rate: 0.1}', //                  7
      '    - when: {every: 1m}', //                       8
      '      set: {error_rate: 0.1}', //                  9
      '    - when: {every: 1m, for: 2m}', //              10
      '      set: {error_rate: 0.1}', //                  11
      '  extra: 1', //                                    12
    ].join('\n');
    expect(problems(text)).toEqual([
      '3:13 rps_changes[1].after: rps_changes must be in time order, but 1m follows 2m',
      '3:22 rps_changes[1].rps: expected a number of requests per second above 0 and at most 1000000, got 0',
      '6:23 all_versions.changes[0].when.between: the second time must be after the first',
      '8:14 all_versions.changes[1].when.every needs for: e.g. { every: 2m, for: 10s } is a 10 s burst every 2 minutes',
      '10:30 all_versions.changes[2].when.for: a burst must be shorter than its period, but for is 2m and every 1m',
      "12:3 unknown key 'extra' in all_versions; expected one of changes",
    ]);
  });
});
