import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/load.js';
import { planSchedule } from '../../src/plan/schedule.js';
import { renderSchedule } from '../../src/reporters/schedule.js';
import { MINIMAL, yaml } from './helpers.js';

const START = Date.UTC(2026, 10, 21, 10, 0, 0);

const plan = parsePlan(
  yaml(
    ...MINIMAL.slice(0, 7),
    'stages:',
    '  - {weight: 5, bake: 10m}',
    '  - {weight: 33.33, bake: 1h, data_deadline: 1h30m}',
    '  - {weight: 50, bake: 4h, pause: true}',
    '  - {weight: 100}',
  ),
  'plan.yaml',
  { cwd: '/plans' },
);

describe('planSchedule', () => {
  const schedule = planSchedule(plan, START);

  it('splits each stage between baseline and canary without float noise', () => {
    expect(schedule.stages.map((s) => s.weights)).toEqual([
      { baseline: 95, canary: 5 },
      { baseline: 66.67, canary: 33.33 },
      { baseline: 50, canary: 50 },
      { baseline: 0, canary: 100 },
    ]);
  });

  it('ends each stage no earlier than the sum of bakes and no later than the sum of data deadlines', () => {
    const min = 60_000;
    expect(schedule.stages.map((s) => (s.earliestEndAt - START) / min)).toEqual([10, 70, 310, 310]);
    // default deadlines are 2 × bake; stage 2 sets its own 1h30m
    expect(schedule.stages.map((s) => (s.latestEndAt - START) / min)).toEqual([20, 110, 590, 590]);
    expect(schedule.totalBakeMs).toBe(310 * min);
    expect(schedule.earliestEndAt).toBe(START + 310 * min);
    expect(schedule.latestEndAt).toBe(START + 590 * min);
    expect(schedule.pauses).toBe(1);
    expect(schedule.stages.map((s) => s.pause)).toEqual([false, false, true, false]);
  });

  it('never lets a stage end before its bake even with a shorter deadline', () => {
    const odd = {
      ...plan,
      stages: [{ index: 0, weight: 100, bakeMs: 60_000, pause: false, dataDeadlineMs: 0 }],
    };
    expect(planSchedule(odd, 0).latestEndAt).toBe(60_000);
  });
});

describe('renderSchedule', () => {
  it('prints one row per stage with offsets and UTC times, and the manual gate', () => {
    const text = renderSchedule(planSchedule(plan, START), plan);
    const lines = text.split('\n');
    const squeezed = lines.map((line) => line.replace(/ +/g, ' '));
    const header = lines.findIndex((line) => line.startsWith('stage'));
    expect(squeezed.slice(header, header + 5)).toEqual([
      'stage baseline canary bake gate earliest end latest end',
      '1 95% 5% 10m +10m (2026-11-21T10:10:00Z) +20m (2026-11-21T10:20:00Z)',
      '2 66.67% 33.33% 1h +1h10m (2026-11-21T11:10:00Z) +1h50m (2026-11-21T11:50:00Z)',
      '3 50% 50% 4h pause +5h10m (2026-11-21T15:10:00Z) +9h50m (2026-11-21T19:50:00Z)',
      '4 0% 100% - +5h10m (2026-11-21T15:10:00Z) +9h50m (2026-11-21T19:50:00Z)',
    ]);
    // columns line up under their headings
    const column = (lines[header] as string).indexOf('earliest end');
    for (const row of lines.slice(header + 1, header + 5)) expect(row.indexOf('+')).toBe(column);
    expect(text).toContain('Total bake 5h10m; at most 9h50m if every stage waits its full data deadline.');
    expect(text).toContain('Manual gate after stage 3: the times above exclude the wait for approval.');
    expect(text).toContain('Route code-review-production on https://relay.example.com/v1');
    expect(text).toContain(
      'Checks every 30s over 5m, after 200 canary requests; rollback after 2 failed checks in a row.',
    );
    for (const line of lines) expect(line).toBe(line.trimEnd());
    // plain text: no ANSI escapes
    expect(text).not.toContain(String.fromCharCode(27));
  });
});
