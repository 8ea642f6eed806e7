/**
 * The live view as a person sees it: the built CLI under a pseudo-terminal, its output applied
 * to a terminal emulator (@xterm/headless), against `canary emulator` running as a process of
 * its own. Every complete frame is read as screen rows: the key footer must be on screen in
 * each one, at 60, 80 and 200 columns and after a resize, with no fragments of older frames,
 * and the baseline and canary rows must stay labelled at 60 columns.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  baseEnv,
  type EmulatorProcess,
  type PlanSpec,
  planYaml,
  ROOT,
  runCli,
  startEmulatorProcess,
  until,
} from '../helpers/index.js';
import { type ScreenRun, spawnScreen } from '../helpers/screen.js';

const API_KEY = 'screen-key-7f3a9c1e';
const BASE = 'screen-v1';
const CAN = 'screen-v2';

vi.setConfig({ testTimeout: 120_000 });

let emulator: EmulatorProcess;

beforeAll(async () => {
  emulator = await startEmulatorProcess({
    apiKey: API_KEY,
    scenario: `${ROOT}/examples/scenarios/healthy.yaml`,
  });
});
afterAll(async () => {
  await emulator.stop();
});

type Finished = (fn: () => void) => void;

/** A new folder holding `file`, a plan for `route` on the emulator process; removed when the test ends. */
function writePlan(
  onTestFinished: Finished,
  route: string,
  stages: PlanSpec['stages'] = [10, 50, 100],
  file = 'plan.yaml',
): string {
  const dir = mkdtempSync(join(tmpdir(), 'canary-screen-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, file),
    planYaml({ route, relayUrl: emulator.baseUrl, baseline: BASE, canary: CAN, stages, bake: '10m' }),
  );
  return dir;
}

/** A screen run of its own per test (each on its own route), killed when the test ends. */
function screenOf(onTestFinished: Finished, run: ScreenRun): ScreenRun {
  onTestFinished(() => run.kill());
  return run;
}

function start(onTestFinished: Finished, route: string, cols: number, rows: number): ScreenRun {
  const dir = writePlan(onTestFinished, route);
  return screenOf(
    onTestFinished,
    spawnScreen(['rollout', 'plan.yaml'], {
      cols,
      rows,
      cwd: dir,
      env: baseEnv({ RELAY_API_KEY: API_KEY, TERM: 'xterm-256color' }),
    }),
  );
}

const FOOTER = /^keys: p promote · h hold/;
const countRows = (rows: string[], pattern: RegExp) => rows.filter((r) => pattern.test(r)).length;

/** Waits for `n` more complete frames. */
async function moreFrames(r: ScreenRun, n: number): Promise<void> {
  const from = r.frames().length;
  await until(`${n} more frames`, () => r.frames().length >= from + n);
  await r.settle();
}

// Each test is its own route and screen, waiting for frames the live view draws in real time:
// they run at once.
describe('the live view on a real screen', { concurrent: true }, () => {
  it.for([
    [60, 24],
    [80, 24],
    [200, 50],
  ] as const)(
    'at %i×%i columns: the footer is in every frame, exactly once; both rows keep their labels',
    async ([cols, rows], { onTestFinished }) => {
      const r = start(onTestFinished, `screen-${cols}`, cols, rows);
      await r.waitForRow(/checks pass/);
      await moreFrames(r, 8);
      const frames = r.frames();
      // From the first frame that shows the table on, every frame has the footer once, on screen.
      const first = frames.findIndex((f) => f.some((row) => row.includes(BASE)));
      expect(first).toBeGreaterThanOrEqual(0);
      for (const frame of frames.slice(first)) {
        expect(countRows(frame, FOOTER), frame.join('\n')).toBe(1);
        expect(countRows(frame, /^canary screen-/), frame.join('\n')).toBe(1);
        expect(frame.every((row) => row.length <= cols)).toBe(true);
      }
      const last = frames[frames.length - 1] as string[];
      expect(
        last.some((row) => row.includes(BASE) && /baseline/.test(row)),
        last.join('\n'),
      ).toBe(true);
      expect(
        last.some((row) => row.includes(CAN) && /canary/.test(row)),
        last.join('\n'),
      ).toBe(true);
      r.write('r');
      expect((await r.exited).code).toBe(3);
    },
  );

  it('after a resize (narrower, then wider) the screen holds one frame: no fragments, the footer on it', async ({
    onTestFinished,
  }) => {
    const r = start(onTestFinished, 'screen-resize', 100, 30);
    await r.waitForRow(/checks pass/);
    await moreFrames(r, 2);
    for (const [cols, rows] of [
      [64, 24],
      [140, 40],
      [60, 20],
    ] as const) {
      await r.resize(cols, rows);
      await moreFrames(r, 3);
      const screen = r.rows();
      expect(countRows(screen, FOOTER), screen.join('\n')).toBe(1);
      expect(countRows(screen, /^canary screen-resize/), screen.join('\n')).toBe(1);
      expect(countRows(screen, /^│ version /), screen.join('\n')).toBe(1);
    }
    r.write('r');
    expect((await r.exited).code).toBe(3);
  });
});

describe('status --watch at a terminal', () => {
  it('refreshes in place under a line naming the interval and the time, and Ctrl-C ends it', async ({
    onTestFinished,
  }) => {
    // A route to watch: a one-stage rollout straight to 100 %.
    const dir = writePlan(onTestFinished, 'screen-watch', [100], 'one.yaml');
    const made = await runCli(['rollout', 'one.yaml', '--output', 'plain'], {
      cwd: dir,
      env: baseEnv({ RELAY_API_KEY: API_KEY }),
    });
    expect(made.code, made.stderr).toBe(0);

    const watch = screenOf(
      onTestFinished,
      spawnScreen(['status', '--route', 'screen-watch', '--watch', '--interval', '1s', '--window', '1m'], {
        cols: 100,
        rows: 30,
        cwd: dir,
        env: baseEnv({ RELAY_API_KEY: API_KEY, TERM: 'xterm-256color' }),
      }),
    );
    await watch.waitForRow(/^every 1s · \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ · Ctrl-C stops$/);
    const first = watch.rows().find((row) => row.startsWith('every 1s'));
    await until('a refresh with a later time', () => {
      const now = watch.rows().find((row) => row.startsWith('every 1s'));
      return now !== undefined && now !== first;
    });
    // Each refresh is one write; the test still waits for the table rather than for silence.
    await until('the table under the refreshed header', () =>
      watch.rows().some((row) => /screen-v2/.test(row)),
    );
    await watch.settle();
    const screen = watch.rows();
    // In place: one header and one table on screen, not a growing scroll of snapshots.
    expect(countRows(screen, /^every 1s/), screen.join('\n')).toBe(1);
    expect(countRows(screen, /screen-v2 \(canary\)|screen-v2/), screen.join('\n')).toBeGreaterThanOrEqual(1);
    watch.write('\u0003');
    expect((await watch.exited).code).toBe(130);
  });
});
