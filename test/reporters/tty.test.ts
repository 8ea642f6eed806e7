import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createReporter } from '../../src/reporters/index.js';
import { visibleWidth } from '../../src/reporters/table.js';
import { TtyReporter } from '../../src/reporters/tty.js';
import type { RolloutEvent } from '../../src/rollout/events.js';
import {
  ANSI_COLOR,
  CAN,
  CollectingStream,
  ESC,
  promotedRun,
  rolledBackRun,
  stripColor,
  T0,
  waitingRun,
} from './helpers.js';

async function runAll(events: RolloutEvent[], color: boolean, columns = 100) {
  const out = new CollectingStream(true, columns, 40);
  const r = new TtyReporter(out, { color });
  for (const e of events) r.event(e);
  await r.close();
  return out;
}

/** The last frame log-update drew plus what followed it, without synchronized-output markers. */
function finalScreen(out: CollectingStream): string {
  return stripColor(out.text).split(`${ESC}[?2026h`).pop() ?? '';
}

describe('TtyReporter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('leaves a final frame with both versions, the verdicts and the outcome', async () => {
    const screen = finalScreen(await runAll(rolledBackRun(), false));
    const table = screen.split('\n').filter((l) => l.startsWith('│'));
    expect(table[0]).toMatch(/version.*weight.*requests.*errors.*error rate.*p50.*p99.*cost\/token/);
    // Every figure fits at 100 columns; the tags give up their middle, never their role.
    expect(table.find((l) => l.includes('(baseline)'))).toMatch(
      /4-5-v1 \(baseline\).*100%.*1834.*8.*0\.40%.*410ms.*1820ms.*\$14\.8\/Mtok/,
    );
    expect(table.find((l) => l.includes('(canary)'))).toMatch(
      /4-5-v2 \(canary\).*0%.*1834.*167.*9\.10%.*410ms.*2450ms.*\$14\.8\/Mtok/,
    );
    expect(screen).toContain('checks FAIL 2/2: ✗ error_rate 9.10% > max 2.00%  ✓ p99 2450ms ≤ 2500ms');
    expect(screen).toContain('[rollback] done in 320ms');
    expect(screen).toMatch(/✗ rolled back at stage 2\/4: error_rate 9\.10% > max 2\.00%/);
    expect(screen).toContain('next: canary status --route code-review-production');
  });

  it.each([60, 80, 200])('labels the baseline and canary rows at %i columns', async (columns) => {
    const screen = finalScreen(await runAll(rolledBackRun(), false, columns));
    const table = screen.split('\n').filter((l) => l.startsWith('│') || l.startsWith('claude'));
    expect(
      table.some((l) => /-v1 \(baseline\)/.test(l)),
      screen,
    ).toBe(true);
    expect(
      table.some((l) => /-v2 \(canary\)/.test(l)),
      screen,
    ).toBe(true);
  });

  it('keeps the frame within the terminal height, the footer last, dropping the oldest log lines', async () => {
    const out = new CollectingStream(true, 80, 20);
    const r = new TtyReporter(out, { color: false, footer: () => 'keys: p promote' });
    for (const e of promotedRun().slice(0, -1)) r.event(e);
    await vi.advanceTimersByTimeAsync(200);
    const frame = stripColor(out.text).split(`${ESC}[?2026h`).pop() ?? '';
    const lines = frame.replace(`${ESC}[?2026l`, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(lines.at(-2)).toBe('keys: p promote');
    await r.close();
  });

  it('keeps the event log to the last 8 entries and leaves routine passes out of it', async () => {
    const screen = finalScreen(await runAll(promotedRun(), false));
    const log = screen.split('\n').filter((l) => /^\+\d/.test(l));
    expect(log).toHaveLength(8);
    expect(log.at(-1)).toContain('[promoted]');
    expect(log.some((l) => l.includes('[check] pass'))).toBe(false);
    expect(screen).toContain('checks pass: ✓ error_rate 0.41% ≤ 2.00%  ✓ p99 1820ms ≤ 2500ms');
    expect(screen).toContain('✓ promoted: claude-sonnet-4-5-v2 100% on code-review-production');
  });

  it('colours cells against the checks’ bounds when colour is on', async () => {
    const text = (await runAll(rolledBackRun(), true)).text;
    const red = `${ESC}[31m`;
    const green = `${ESC}[32m`;
    const yellow = `${ESC}[33m`;
    // Canary error rate 9.10% is beyond the 2% bound; p99 2450ms is within 10% of 2500ms.
    expect(text).toContain(`${red}9.10%`);
    expect(text).toContain(`${yellow}2450ms`);
    // The baseline is held to the same absolute threshold and is well within it.
    expect(text).toContain(`${green}0.40%`);
    expect(text).toContain(`${green}1820ms`);
    // No bound on cost: its cells stay uncoloured.
    expect(text).not.toMatch(new RegExp(`${ESC}\\[3\\dm\\$14\\.8`));
  });

  it('dims cells with no data, and shows waiting for traffic', async () => {
    const out = new CollectingStream(true, 100, 40);
    const r = new TtyReporter(out, { color: true });
    const events = waitingRun();
    // Up to the no-data evaluation and the wait after it, before the rollback.
    for (const e of events.slice(
      0,
      events.findIndex((e) => e.type === 'rollback_started'),
    ))
      r.event(e);
    await vi.advanceTimersByTimeAsync(200);
    const frame = out.text;
    expect(frame).toContain(`${ESC}[2m–${ESC}[22m`);
    // Fewer canary requests than min_requests: the count is marked.
    expect(frame).toContain(`${ESC}[33m34${ESC}[39m`);
    expect(stripColor(frame)).toContain('waiting for traffic: 34/200 canary requests (deadline in 7m)');
    await r.close();
  });

  it('says what the wait is for in the engine’s words, as the event log does', async () => {
    const out = new CollectingStream(true, 100, 40);
    const r = new TtyReporter(out, { color: false });
    const events = waitingRun();
    const upTo = events.findIndex((e) => e.type === 'waiting_for_data');
    for (const e of events.slice(0, upTo)) r.event(e);
    // Enough canary requests, but the paired test still lacks the baseline's traffic.
    r.event({
      type: 'waiting_for_data',
      at: T0 + 1000,
      stage: 0,
      requests: 500,
      minRequests: 200,
      deadlineAt: T0 + 1000 + 7 * 60_000,
      needs: 'baseline requests 40/200 in the stage',
    });
    await vi.advanceTimersByTimeAsync(200);
    const screen = stripColor(out.text);
    // Once in the footer's verdict line and once in the event log, never as canary traffic.
    expect(screen.split('waiting for baseline requests 40/200 in the stage (deadline in 7m)').length).toBe(3);
    expect(screen).not.toContain('waiting for traffic: 500/200');
    await r.close();
  });

  it('writes no colour when colour is off', async () => {
    const out = await runAll(rolledBackRun(), false);
    expect(out.text).not.toMatch(ANSI_COLOR);
  });

  it('never draws inside event(): the first frame comes on a timer', async () => {
    const out = new CollectingStream(true, 100);
    const r = new TtyReporter(out, { color: false });
    r.event(promotedRun()[0] as RolloutEvent);
    expect(out.chunks).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(out.chunks).toHaveLength(1);
    await r.close();
  });

  it('throttles: 100 events in one tick produce at most 2 writes', async () => {
    const out = new CollectingStream(true, 100);
    const r = new TtyReporter(out, { color: false });
    const events = promotedRun();
    for (let i = 0; i < 100; i++) r.event(events[i % events.length] as RolloutEvent);
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.chunks.length).toBeGreaterThanOrEqual(1);
    expect(out.chunks.length).toBeLessThanOrEqual(2);
    await r.close();
  });

  it('redraws at most 10 times a second under a steady stream of events', async () => {
    const out = new CollectingStream(true, 100);
    const r = new TtyReporter(out, { color: false });
    const events = promotedRun();
    // One event per millisecond for two seconds, each changing what is on screen.
    for (let i = 0; i < 2000; i++) {
      const e = events[i % events.length] as RolloutEvent;
      r.event({ ...e, at: T0 + i * 1000 } as RolloutEvent);
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(out.chunks.length).toBeGreaterThan(5);
    expect(out.chunks.length).toBeLessThanOrEqual(21);
    await r.close();
  });

  it('shows the stage, bake elapsed/remaining and the next check, counting down with a clock', async () => {
    const out = new CollectingStream(true, 100);
    let now = T0;
    const r = new TtyReporter(out, { color: false, now: () => now });
    const events = rolledBackRun();
    const firstEval = events.findIndex((e) => e.type === 'evaluation');
    for (const e of events.slice(0, firstEval + 1)) r.event(e);
    const at = (events[firstEval] as { at: number }).at;
    now = at;
    await vi.advanceTimersByTimeAsync(100);
    expect(stripColor(out.text)).toContain(
      'stage 2/4 · canary 25% · baseline 75% · bake 30s/1h (59m30s left) · next check in 30s',
    );
    now = at + 10_000;
    await vi.advanceTimersByTimeAsync(1000);
    expect(stripColor(out.chunks.at(-1) ?? '')).toContain('bake 40s/1h (59m20s left) · next check in 20s');
    await r.close();
  });

  it('fits narrow terminals: no line of a 40-column frame is wider than 40', async () => {
    const out = new CollectingStream(true, 40, 40);
    const r = new TtyReporter(out, { color: true });
    for (const e of rolledBackRun()) r.event(e);
    await vi.advanceTimersByTimeAsync(200);
    const frame = out.text
      .replace(`${ESC}[?25l`, '')
      .replace(`${ESC}[?2026h`, '')
      .replace(`${ESC}[?2026l`, '');
    for (const line of frame.split('\n')) expect(visibleWidth(line)).toBeLessThanOrEqual(40);
    expect(stripColor(frame)).toContain(CAN.slice(0, 10));
    await r.close();
  });

  it('writes nothing when closed without events, and ignores events after close', async () => {
    const out = new CollectingStream(true, 100);
    const r = new TtyReporter(out, { color: false });
    await r.close();
    r.event(promotedRun()[0] as RolloutEvent);
    await vi.advanceTimersByTimeAsync(500);
    expect(out.text).toBe('');
  });

  it('hides the cursor while live and shows it again on close', async () => {
    const out = await runAll(promotedRun(), false);
    expect(out.text.startsWith(`${ESC}[?25l`)).toBe(true);
    expect(out.text.endsWith(`${ESC}[?25h`)).toBe(true);
  });

  it('is what createReporter gives for tty, writing to stdout', async () => {
    const stdout = new CollectingStream(true, 100);
    const stderr = new CollectingStream(true, 100);
    const r = createReporter('tty', { stdout, stderr, color: false });
    for (const e of promotedRun()) r.event(e);
    await r.close();
    expect(stdout.text).toContain('✓ promoted');
    expect(stderr.text).toBe('');
  });
});

describe('TtyReporter event log during a long wait', () => {
  it('logs the first no-data evaluation and wait of a run, not every repeat', async () => {
    vi.useFakeTimers({ now: T0 });
    const out = new CollectingStream(true, 100, 40);
    const r = new TtyReporter(out, { color: false });
    const [start, stage] = waitingRun();
    r.event(start as RolloutEvent);
    r.event(stage as RolloutEvent);
    const noData = waitingRun().find((e) => e.type === 'evaluation') as Extract<
      RolloutEvent,
      { type: 'evaluation' }
    >;
    for (let k = 0; k < 20; k++) {
      const at = T0 + 60_000 + k * 30_000;
      r.event({ ...noData, at, evaluation: { ...noData.evaluation, at } });
      r.event({
        type: 'waiting_for_data',
        at,
        stage: 0,
        requests: 34,
        minRequests: 200,
        deadlineAt: T0 + 3_600_000,
      });
    }
    await r.close();
    vi.useRealTimers();
    const screen = stripColor(out.text);
    expect(screen.match(/\[check\] no data/g)).toHaveLength(1);
    expect(screen.match(/\[wait\]/g)).toHaveLength(1);
    expect(screen).toContain('[start]');
  });
  it('shows the pre-traffic evaluation alive while it runs: answers so far and a moving clock', async () => {
    vi.useFakeTimers({ now: T0 });
    const out = new CollectingStream(true, 100, 40);
    const r = new TtyReporter(out, { color: false, now: () => Date.now() });
    const [started] = promotedRun();
    if (started) r.event({ ...started, at: T0 });
    r.event({
      type: 'prompt_eval_started',
      at: T0,
      baseline: 'claude-sonnet-4-5-v1',
      canary: CAN,
      prompts: 20,
      repeat: 1,
      requests_per_version: 20,
      concurrency: 4,
      judge: true,
    });
    // No event for a while (a slow model, then the judge): the frame still moves each second.
    await vi.advanceTimersByTimeAsync(7_500);
    expect(finalScreen(out)).toMatch(/pre-traffic evaluation running · 7s/);
    r.event({ type: 'prompt_eval_progress', at: T0 + 9_000, done: 12, total: 40 });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(finalScreen(out)).toMatch(/pre-traffic evaluation running · 12\/40 answers · 10s/);
    r.event({ type: 'prompt_eval_skipped', at: T0 + 10_500, reason: 'flag', detail: 'skipped' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(finalScreen(out)).not.toContain('pre-traffic evaluation running');
    await r.close();
    vi.useRealTimers();
  });
});
