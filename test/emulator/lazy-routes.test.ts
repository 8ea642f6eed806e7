/**
 * The simulation runs only the routes a call reads, each with its own random stream: a
 * route's figures do not depend on how many other routes the emulator holds or when they
 * were read, and catching up after a long gap draws old traffic a minute at a time without
 * blurring the moment a scenario's behaviour changes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { BASELINE, CANARY, type Harness, HOUR, MINUTE, ROUTE, startHarness } from './helpers.js';

let harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.map((h) => h.emulator.close()));
  harnesses = [];
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness({ seed: 11, rps: 300, ...options });
  harnesses.push(h);
  return h;
}

/** Registers `count` other routes, each with its own two versions, at 50/50. */
async function addOtherRoutes(h: Harness, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    for (const tag of [`other-${i}-a`, `other-${i}-b`]) {
      await h.call('POST', '/models/versions', { body: { version_tag: tag, model: 'm' } });
    }
    const res = await h.call('POST', '/routes/traffic', {
      body: {
        model_alias: `other-${i}`,
        route_rules: [
          { version_tag: `other-${i}-a`, weight: 50 },
          { version_tag: `other-${i}-b`, weight: 50 },
        ],
      },
    });
    expect(res.status).toBe(201);
  }
}

describe('per-route lazy simulation', () => {
  it('gives a route the same figures whatever other routes exist and whenever they are read', async () => {
    const alone = await harness();
    const crowded = await harness();
    for (const h of [alone, crowded]) await h.registerBoth();
    await addOtherRoutes(crowded, 20);
    for (const h of [alone, crowded]) await h.createRoute(10);

    const readings: { request_count: number }[][] = [[], []];
    for (let step = 0; step < 6; step++) {
      for (const [i, h] of [alone, crowded].entries()) {
        h.clock.advance(7_500);
        if (h === crowded && step % 2 === 0) {
          // Reading other routes in between must not move this route's random stream.
          await h.metrics('other-3-a', h.clock.now() - MINUTE, h.clock.now());
        }
        if (step === 3) await h.setWeight(25);
        readings[i]?.push(await h.metrics(CANARY, h.clock.now() - 30_000, h.clock.now()));
        readings[i]?.push(await h.metrics(BASELINE, h.clock.now() - 30_000, h.clock.now()));
      }
    }
    expect(readings[1]).toEqual(readings[0]);
    expect(readings[0]?.[0]?.request_count).toBeGreaterThan(0);
  });

  it('simulates only the routes a call reads', async () => {
    const h = await harness();
    await h.registerBoth();
    await addOtherRoutes(h, 30);
    await h.createRoute(50);
    h.clock.advance(10 * MINUTE);
    await h.metrics(CANARY, h.clock.now() - MINUTE, h.clock.now());
    // Only this route's two versions hold traffic: the 30 others were never run.
    expect(h.emulator.control.stats().trackedVersions).toBe(2);
    await h.metrics('other-7-b', h.clock.now() - MINUTE, h.clock.now());
    expect(h.emulator.control.stats().trackedVersions).toBe(4);
    // A route read directly is run too (its own auto-rollback could have moved it).
    const res = await h.call('GET', '/routes/traffic/other-8');
    expect(res.status).toBe(200);
    expect(h.emulator.control.stats().trackedVersions).toBe(6);
  });

  it('reproduces a seeded run exactly', async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const h = await harness({ clock: new FakeClock(), seed: 1234 });
      await h.registerBoth();
      await h.createRoute(5);
      h.clock.advance(90 * 1000);
      await h.setWeight(50);
      h.clock.advance(2 * HOUR + 30_500);
      runs.push([
        await h.metrics(CANARY, h.clock.now() - 2 * HOUR, h.clock.now()),
        await h.metrics(BASELINE, h.clock.now() - 10_000, h.clock.now()),
      ]);
    }
    expect(runs[1]).toEqual(runs[0]);
  });

  it('draws traffic older than an hour by the minute, splitting at a timed behaviour change', async () => {
    const h = await harness({
      rps: 1_000,
      scenario: {
        versions: {
          [CANARY]: {
            error_rate: 0.01,
            changes: [{ when: { after_ms: 90 * MINUTE + 20_000 }, set: { error_rate: 0.3 } }],
          },
        },
      },
    });
    await h.registerBoth();
    const t0 = h.clock.now();
    await h.createRoute(50);
    // Nothing reads the route for 10 hours: all but the last hour is drawn a minute at a time.
    h.clock.advance(10 * HOUR);
    const before = await h.metrics(CANARY, t0 + 89 * MINUTE, t0 + 90 * MINUTE);
    const after = await h.metrics(CANARY, t0 + 91 * MINUTE, t0 + 92 * MINUTE);
    expect(before.error_rate).toBeLessThan(0.02);
    expect(after.error_rate).toBeGreaterThan(0.25);
    // The minute holding the change: 20 s before it, 40 s after, not the whole minute either way.
    const straddle = await h.metrics(CANARY, t0 + 90 * MINUTE, t0 + 91 * MINUTE);
    expect(straddle.error_rate).toBeGreaterThan(0.15);
    expect(straddle.error_rate).toBeLessThan(0.25);
    const day = await h.metrics(CANARY, h.clock.now() - 10 * HOUR, h.clock.now());
    expect(day.request_count).toBeGreaterThan(1_000 * 0.5 * 36_000 * 0.99);
    expect(day.request_count).toBeLessThan(1_000 * 0.5 * 36_000 * 1.01);
    // The last hour is still exact to the second.
    const tenSeconds = await h.metrics(CANARY, h.clock.now() - 10_000, h.clock.now());
    expect(tenSeconds.request_count).toBeGreaterThan(5_000 * 0.9);
    expect(tenSeconds.request_count).toBeLessThan(5_000 * 1.1);
  });

  it("judges a route's auto-rollback on that route's own traffic", async () => {
    const h = await harness({
      rps: 400,
      scenario: {
        versions: { [CANARY]: { changes: [{ when: { weight_at_least: 40 }, set: { error_rate: 0.3 } }] } },
      },
    });
    await h.registerBoth();
    // Another route sends the canary 50 % of its traffic, and breaks it; no health check there.
    await h.call('POST', '/routes/traffic', {
      body: {
        model_alias: 'unwatched',
        route_rules: [
          { version_tag: BASELINE, weight: 50 },
          { version_tag: CANARY, weight: 50 },
        ],
      },
    });
    await h.createRoute(10, {
      health_check: { enabled: true, error_rate_threshold: 0.05, auto_rollback: true },
    });
    h.clock.advance(5 * MINUTE);
    const all = await h.metrics(CANARY, h.clock.now() - MINUTE, h.clock.now());
    expect(all.error_rate).toBeGreaterThan(0.05);
    // This route's 10 % of canary traffic is healthy, so the relay leaves it alone.
    expect((await h.call('GET', `/routes/traffic/${ROUTE}`)).body.revision).toBe(1);
    const events = await h.call('GET', '/_emulator/auto-rollbacks', { origin: true });
    expect(events.body.auto_rollbacks).toEqual([]);
  });
});
