import { afterEach, describe, expect, it } from 'vitest';
import { BASELINE, CANARY, type Harness, MINUTE, ROUTE, startHarness } from './helpers.js';

let h: Harness;
afterEach(async () => {
  await h.emulator.close();
});

const healthCheck = (autoRollback: boolean) => ({
  health_check: {
    enabled: true,
    error_rate_threshold: 0.05,
    latency_p99_threshold_ms: 3000,
    auto_rollback: autoRollback,
  },
});

describe("the relay's own auto-rollback", () => {
  it('moves all traffic to the stable version within a minute of a breach, bumping the revision', async () => {
    h = await startHarness({ scenario: 'examples/scenarios/failing.yaml' });
    await h.registerBoth();
    await h.createRoute(5, healthCheck(true));
    h.clock.advance(10 * MINUTE);
    expect((await h.call('GET', `/routes/traffic/${ROUTE}`)).body.revision).toBe(1);

    const patchedAt = h.clock.now();
    expect((await h.setWeight(25)).revision).toBe(2);
    h.clock.advance(5 * MINUTE);
    const route = (await h.call('GET', `/routes/traffic/${ROUTE}`)).body;
    expect(route.route_rules).toEqual([
      { version_tag: BASELINE, weight: 100 },
      { version_tag: CANARY, weight: 0 },
    ]);
    expect(route.revision).toBe(3);
    const rolledBackAt = Date.parse(route.updated_at);
    expect(rolledBackAt).toBeGreaterThan(patchedAt);
    expect(rolledBackAt).toBeLessThanOrEqual(patchedAt + MINUTE);

    const events = await h.call('GET', '/_emulator/auto-rollbacks', { origin: true });
    expect(events.body.auto_rollbacks).toEqual([
      {
        at: route.updated_at,
        route_id: ROUTE,
        version_tag: CANARY,
        reason: expect.stringMatching(/error rate|p99/),
      },
    ]);
    // After the rollback the canary gets no traffic.
    const after = await h.metrics(CANARY, rolledBackAt, h.clock.now());
    expect(after.request_count).toBe(0);
  });

  it('leaves the route alone when auto_rollback is off', async () => {
    h = await startHarness({ scenario: 'examples/scenarios/failing.yaml' });
    await h.registerBoth();
    await h.createRoute(25, healthCheck(false));
    h.clock.advance(10 * MINUTE);
    const route = (await h.call('GET', `/routes/traffic/${ROUTE}`)).body;
    expect(route.revision).toBe(1);
    expect(route.route_rules[1]).toEqual({ version_tag: CANARY, weight: 25 });
  });

  it('rolls back on p99 latency too, and not while the canary is healthy', async () => {
    h = await startHarness({ rps: 400 });
    await h.registerBoth();
    await h.createRoute(50, healthCheck(true));
    h.clock.advance(10 * MINUTE);
    expect(h.emulator.control.getRoute(ROUTE)?.revision).toBe(1);
    h.emulator.control.setBehaviour(CANARY, { latency_p50_ms: 1500, latency_p99_ms: 6000 });
    h.clock.advance(2 * MINUTE);
    const route = h.emulator.control.getRoute(ROUTE);
    expect(route?.revision).toBe(2);
    expect(route?.route_rules).toEqual([
      { version_tag: BASELINE, weight: 100 },
      { version_tag: CANARY, weight: 0 },
    ]);
  });
});
