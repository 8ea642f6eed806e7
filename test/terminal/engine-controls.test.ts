/** The engine's operator commands on a fake clock: what each key asks for, and what it may not skip. */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ControlQueue } from '../../src/control/queue.js';
import { CANARY, HOUR, harness, MIN, ROUTE } from '../rollout/harness.js';

/** Sends `command` once `at` ms of virtual time have passed since the start. */
function sendAt(
  h: ReturnType<typeof harness>,
  queue: ControlQueue,
  at: number,
  command: Parameters<ControlQueue['push']>[0],
) {
  void h.clock.sleep(at).then(() => queue.push(command));
}

describe('operator controls', () => {
  it('promote ends a bake early once the latest check passed', async () => {
    const h = harness({ stages: [{ weight: 5, bakeMs: 10 * HOUR }, { weight: 100 }] });
    const controls = new ControlQueue();
    sendAt(h, controls, 5 * MIN, 'promote');
    const result = await h.run({ controls });
    expect(result.outcome).toBe('promoted');
    const left = h.of('stage_started')[1]?.at ?? 0;
    expect(left - h.startedAt).toBeLessThan(6 * MIN);
    expect(h.of('operator_action')[0]).toMatchObject({ action: 'promote', stage: 0 });
  });

  it('promote does not skip the checks: with no data the stage waits for a passing one', async () => {
    const h = harness({ stages: [{ weight: 5, bakeMs: 10 * HOUR }, { weight: 100 }] });
    const ok = { error_rate: 0.001 };
    h.relay.setBehaviour(CANARY, (ctx) => (ctx.now < h.startedAt + 20 * MIN ? { request_count: 3 } : ok));
    const controls = new ControlQueue();
    sendAt(h, controls, 5 * MIN, 'promote');
    const result = await h.run({ controls });
    expect(result.outcome).toBe('promoted');
    const left = h.of('stage_started')[1]?.at ?? 0;
    expect(left - h.startedAt).toBeGreaterThanOrEqual(20 * MIN);
    expect(left - h.startedAt).toBeLessThan(30 * MIN);
  });

  it('hold keeps the stage past its bake with checks running; release lets it go', async () => {
    const h = harness({ stages: [{ weight: 5, bakeMs: 10 * MIN }, { weight: 100 }] });
    const controls = new ControlQueue();
    sendAt(h, controls, MIN, 'hold');
    sendAt(h, controls, 3 * HOUR, 'release');
    const result = await h.run({ controls });
    expect(result.outcome).toBe('promoted');
    const left = h.of('stage_started')[1]?.at ?? 0;
    expect(left - h.startedAt).toBeGreaterThanOrEqual(3 * HOUR);
    // Analysis ran throughout the hold (every 30 s).
    expect(h.of('evaluation').filter((e) => e.stage === 0).length).toBeGreaterThan(300);
    expect(h.of('operator_action').map((e) => e.action)).toEqual(['hold', 'release']);
  });

  it('a failing check while held still rolls back', async () => {
    const h = harness({ stages: [{ weight: 5, bakeMs: 10 * MIN }, { weight: 100 }] });
    h.relay.setBehaviour(CANARY, (ctx) => (ctx.now >= h.startedAt + HOUR ? { error_rate: 0.5 } : undefined));
    const controls = new ControlQueue();
    sendAt(h, controls, MIN, 'hold');
    const result = await h.run({ controls });
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'health' });
  });

  it('rollback: the baseline at 100%, cause operator, exit 3 like a gate’s rollback', async () => {
    const h = harness();
    const controls = new ControlQueue();
    sendAt(h, controls, 2 * MIN, 'rollback');
    const result = await h.run({ controls });
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'operator', exitCode: 3 });
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(0);
  });

  it('quit leaves traffic where it is: interrupted, exit 130, and says where', async () => {
    const h = harness();
    const controls = new ControlQueue();
    sendAt(h, controls, 2 * MIN, 'quit');
    const result = await h.run({ controls });
    expect(result).toMatchObject({ outcome: 'interrupted', exitCode: 130, stage: 0 });
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(5);
    expect(result.summary).toBe(
      'stopped by the operator; traffic left at stage 1/4 (canary 5% / baseline 95%)',
    );
    expect(result.next).toContain('canary rollback');
  });

  it('promote at a pause stage is the gate’s answer: no question is asked', async () => {
    const h = harness({ stages: [{ weight: 5, bakeMs: 10 * MIN, pause: true }, { weight: 100 }] });
    const controls = new ControlQueue();
    const asked: number[] = [];
    sendAt(h, controls, 2 * MIN, 'promote');
    const result = await h.run({
      controls,
      gate: async (ctx) => {
        asked.push(ctx.stage);
        return 'rollback';
      },
    });
    expect(result.outcome).toBe('promoted');
    expect(asked).toEqual([]);
  });

  it('commands queued before the run listens are not lost', async () => {
    const h = harness();
    const controls = new ControlQueue();
    controls.push('quit');
    const result = await h.run({ controls });
    expect(result.outcome).toBe('interrupted');
  });
});

describe('requests from the control channel (canary promote|abort from another shell)', () => {
  it('promote --full: every later stage leaves at its first passing check, gates included; no check is skipped', async () => {
    const h = harness({
      stages: [
        { weight: 5, bakeMs: 10 * HOUR },
        { weight: 25, bakeMs: 10 * HOUR, pause: true },
        { weight: 50, bakeMs: 10 * HOUR },
        { weight: 100 },
      ],
    });
    const controls = new ControlQueue();
    sendAt(h, controls, 5 * MIN, { command: 'promote', full: true, by: 'ana@box pid 7' });
    // --full answers the gate: the gate function is never asked.
    let asked = 0;
    const gate = async () => {
      asked++;
      return 'rollback' as const;
    };
    const result = await h.run({ controls, gate });
    expect(asked).toBe(0);
    expect(result.outcome).toBe('promoted');
    expect(h.elapsed()).toBeLessThan(HOUR);
    // Each stage was left on a passing evaluation of its own.
    for (const stage of [0, 1, 2]) {
      expect(h.of('evaluation').some((e) => e.stage === stage && e.evaluation.verdict === 'pass')).toBe(true);
    }
    expect(h.of('paused')).toHaveLength(0);
    expect(h.of('operator_action')[0]?.detail).toContain('later stages leave at their first passing check');
  });

  it('a plain promote still bakes the later stages in full', async () => {
    const h = harness({
      stages: [{ weight: 5, bakeMs: HOUR }, { weight: 25, bakeMs: HOUR }, { weight: 100 }],
    });
    const controls = new ControlQueue();
    sendAt(h, controls, 5 * MIN, 'promote');
    await h.run({ controls });
    const second = h.of('stage_started')[1]?.at ?? 0;
    const third = h.of('stage_started')[2]?.at ?? 0;
    expect(third - second).toBeGreaterThanOrEqual(HOUR);
  });

  it('abort with a reason: who and why are the rollback reason, said once in the summary', async () => {
    const h = harness();
    const controls = new ControlQueue();
    sendAt(h, controls, 2 * MIN, { command: 'rollback', by: 'ana@box pid 7', reason: 'bad answers' });
    const result = await h.run({ controls });
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'operator', exitCode: 3 });
    expect(h.of('rollback_started')[0]?.reason).toBe('ana@box pid 7 asked (canary abort): bad answers');
    expect(result.summary).toMatch(
      /^rolled back at stage 1\/4: ana@box pid 7 asked \(canary abort\): bad answers; /,
    );
    expect(result.summary.match(/rolled back/g)).toHaveLength(1);
  });
});

/**
 * Makes the relay hang the route read of the look after `looks` evaluations: it answers only when
 * the call's signal aborts (the fake relay keeps no deadline, so nothing else ends it). Calls
 * `onHung` when the read is held. Returns how many reads were aborted.
 */
function hangRouteReadAfter(h: ReturnType<typeof harness>, looks: number, onHung: () => void) {
  const original = h.relay.getRoute.bind(h.relay);
  const state = { hung: false, aborted: 0, hungAt: 0 };
  h.relay.getRoute = (id, call) => {
    if (state.hung || h.of('evaluation').length < looks) return original(id, call);
    state.hung = true;
    state.hungAt = h.clock.now();
    return new Promise((_, reject) => {
      call?.signal?.addEventListener('abort', () => {
        state.aborted++;
        reject(call.signal?.reason);
      });
      onHung();
    });
  };
  return state;
}

describe('operator commands during a hung read (issue 15, item 4)', () => {
  it('a rollback asked while a read hangs aborts the read and rolls back at once', async () => {
    const h = harness();
    const controls = new ControlQueue();
    const hang = hangRouteReadAfter(h, 3, () =>
      controls.push({ command: 'rollback', by: 'ana@box pid 7', reason: 'bad answers' }),
    );
    const result = await h.run({ controls });
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'operator', exitCode: 3 });
    expect(hang.aborted).toBe(1);
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(0);
    // Without waiting for the read: the rollback's PATCH went out at the time the read hung.
    expect(h.relay.patches.at(-1)?.at).toBe(hang.hungAt);
    // The aborted read is not a metrics error, and the look it belonged to judged nothing.
    expect(h.of('metrics_error')).toHaveLength(0);
    expect(h.of('evaluation')).toHaveLength(3);
  });

  it('quit asked while a read hangs leaves traffic at the stage at once', async () => {
    const h = harness();
    const controls = new ControlQueue();
    const hang = hangRouteReadAfter(h, 2, () => controls.push('quit'));
    const result = await h.run({ controls });
    expect(result).toMatchObject({ outcome: 'interrupted', exitCode: 130, stage: 0 });
    expect(hang.aborted).toBe(1);
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(5);
  });

  it('other commands wait for the look: promote during a slow read is applied after it', async () => {
    const h = harness({ stages: [{ weight: 5, bakeMs: 10 * HOUR }, { weight: 100 }] });
    const controls = new ControlQueue();
    const original = h.relay.getRoute.bind(h.relay);
    let slowed = false;
    h.relay.getRoute = async (id, call) => {
      if (!slowed && h.of('evaluation').length >= 4) {
        slowed = true;
        controls.push('promote');
        await h.clock.sleep(5_000); // a slow answer, not a hung one
      }
      return original(id, call);
    };
    const result = await h.run({ controls });
    expect(result.outcome).toBe('promoted');
    // The slow look was judged (five evaluations at stage 1), then the promote ended the bake.
    expect(h.of('evaluation').filter((e) => e.stage === 0)).toHaveLength(5);
    expect(h.of('operator_action')[0]).toMatchObject({ action: 'promote', stage: 0 });
    expect(h.of('metrics_error')).toHaveLength(0);
  });
});

describe('interrupt summary', () => {
  it('says what triggered the rollback once, without repeating "interrupted"', async () => {
    const h = harness();
    const controller = new AbortController();
    void h.clock
      .sleep(15 * MIN)
      .then(() =>
        controller.abort({ action: 'rollback', cause: 'interrupt', exitCode: 143, why: 'SIGTERM received' }),
      );
    const result = await h.run({ signal: controller.signal });
    expect(result.outcome).toBe('interrupted');
    expect(result.summary).toMatch(/^rolled back at stage 2\/4: SIGTERM received; traffic at baseline/);
    const { outcomeHeadline } = await import('../../src/format.js');
    const headline = outcomeHeadline(result.outcome, result.summary);
    expect(headline.match(/interrupt/g)).toHaveLength(1);
  });

  it("commands that end waits early leave no listeners behind on the run's signal", async () => {
    // The bake keeps one controller for its waits until a command ends one early; each such
    // controller's link to the run's signal goes with it, so hundreds of commands over a run
    // cannot pile listeners (and Node's leak warning) onto the signal.
    const h = harness({ stages: [{ weight: 5, bakeMs: 10 * HOUR }, { weight: 100 }] });
    const controls = new ControlQueue();
    for (let i = 0; i < 40; i++) sendAt(h, controls, (i + 1) * MIN, i % 2 === 0 ? 'hold' : 'release');
    const stop = new AbortController();
    let most = 0;
    void h.clock.sleep(45 * MIN).then(() => {
      most = getEventListeners(stop.signal, 'abort').length;
      controls.push('promote');
    });
    const result = await h.run({ controls, signal: stop.signal });
    expect(result.outcome).toBe('promoted');
    expect(h.of('operator_action').filter((e) => e.action === 'hold')).toHaveLength(20);
    expect(most).toBeLessThanOrEqual(2);
  });
});
