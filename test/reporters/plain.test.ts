import { describe, expect, it } from 'vitest';
import { PlainReporter } from '../../src/reporters/plain.js';
import {
  ANSI,
  ANSI_COLOR,
  CollectingStream,
  expectedLineCount,
  promotedRun,
  rolledBackRun,
  stripColor,
  waitingRun,
} from './helpers.js';

async function run(events = promotedRun(), color = false, timestamps?: 'relative' | 'iso' | 'both') {
  const out = new CollectingStream();
  const r = new PlainReporter(out, { color, ...(timestamps ? { timestamps } : {}) });
  for (const e of events) r.event(e);
  await r.close();
  return out;
}

describe('PlainReporter', () => {
  it.each([
    ['promoted', promotedRun],
    ['rolled back', rolledBackRun],
    ['waiting', waitingRun],
  ])('writes one line per event for a %s run, without ANSI when colour is off', async (_name, make) => {
    const events = make();
    const out = await run(events);
    const lines = out.text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(expectedLineCount(events));
    // One write per event: nothing is redrawn or rewritten.
    expect(out.chunks).toHaveLength(events.length);
    expect(out.text).not.toMatch(ANSI);
  });

  it('shows stages, passing checks with their values and bounds, and the result', async () => {
    const text = (await run()).text;
    expect(text).toContain('[stage 2/4] canary 25% baseline 75% — bake 1h');
    expect(text).toMatch(/\[check\] pass · error_rate 0\.41% ≤ 2\.00% · p99 1820ms ≤ 2500ms/);
    expect(text).toContain('[promoted] claude-sonnet-4-5-v1 0%, claude-sonnet-4-5-v2 100%');
    expect(text).toMatch(/\[result\] promoted: claude-sonnet-4-5-v2 100% on code-review-production$/m);
  });

  it('shows failed checks with the failure count, the rollback and what to run next', async () => {
    const lines = (await run(rolledBackRun())).text.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/\[check\] FAIL 1\/2 · error_rate 9\.10% > max 2\.00%$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/\[check\] FAIL 2\/2 · error_rate 9\.10% > max 2\.00%$/),
    );
    // The passing p99 check is not listed among failures.
    expect(lines.filter((l) => l.includes('FAIL')).every((l) => !l.includes('p99'))).toBe(true);
    expect(lines).toContainEqual(
      expect.stringMatching(/\[rollback\] rolling back \(health\): error_rate 9\.10%/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/\[rollback\] done in 320ms: .*v1 100%, .*v2 0% \(revision 13\)/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/\[result\] rolled back at stage 2\/4: error_rate/));
    expect(lines).toContainEqual(
      expect.stringMatching(/next: canary status --route code-review-production$/),
    );
  });

  it('shows waiting for traffic with counts and deadline, no-data checks and metric read errors', async () => {
    const text = (await run(waitingRun())).text;
    expect(text).toContain('[wait] waiting for traffic: 18/200 canary requests (deadline in 9m30s)');
    expect(text).toContain('[check] no data · 34/200 canary requests · error_rate no data');
    expect(text).toContain('[metrics] read failed 1/3: relay answered 503');
    expect(text).toContain('[rollback] rolling back (insufficient_data)');
    // The summary does not start with the outcome, so the result line leads with it.
    expect(text).toContain('[result] rolled back: not enough canary traffic to judge');
  });

  it('prefixes lines with +mm:ss since the start, or ISO time on request', async () => {
    const relative = (await run(rolledBackRun())).text.split('\n');
    expect(relative[0]).toMatch(/^\+00:00 \[start\]/);
    expect(relative.find((l) => l.includes('[stage 2/4]'))).toMatch(/^\+1:01:00 /);
    const iso = (await run(rolledBackRun(), false, 'iso')).text.split('\n');
    expect(iso[0]).toMatch(/^2026-11-21T10:00:00\.000Z \[start\]/);
  });

  it('both: local wall-clock time, then the time since the start (what the CLI prints)', async () => {
    const both = (await run(rolledBackRun(), false, 'both')).text.split('\n');
    const at = new Date('2026-11-21T10:00:00.000Z');
    const clock = [at.getHours(), at.getMinutes(), at.getSeconds()]
      .map((n) => String(n).padStart(2, '0'))
      .join(':');
    expect(both[0]).toBe(`${clock} +00:00 ${both[0]?.slice(clock.length + 8)}`);
    expect(both[0]).toMatch(/^\d\d:\d\d:\d\d \+00:00 \[start\]/);
  });

  it('colours only when told to', async () => {
    const text = (await run(rolledBackRun(), true)).text;
    expect(text).toMatch(ANSI_COLOR);
    // Colour, but still never cursor movement.
    expect(stripColor(text)).not.toMatch(ANSI);
  });

  it('never throws into the core, even for an event type it does not know', () => {
    const out = new CollectingStream();
    out.write = () => {
      throw new Error('EPIPE');
    };
    const r = new PlainReporter(out, { color: false });
    expect(() => r.event(promotedRun()[0] as never)).not.toThrow();
    const ok = new PlainReporter(new CollectingStream(), { color: false });
    expect(() => ok.event({ type: 'from_the_future', at: 1 } as never)).not.toThrow();
  });
});
