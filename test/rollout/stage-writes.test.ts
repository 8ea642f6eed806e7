/**
 * changeWeights (src/rollout/stage-writes.ts) case by case, against the fake relay: the
 * contract's "read the route back before deciding" after a PATCH that may or may not have
 * landed, and If-Match's 412.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { RouteRule } from '../../src/domain/relay.js';
import { RelayError } from '../../src/errors.js';
import { changeWeights } from '../../src/rollout/stage-writes.js';
import { FakeRelay, relayError } from '../helpers/index.js';

const ROUTE = 'r1';
const BEFORE: RouteRule[] = [
  { version_tag: 'base', weight: 95 },
  { version_tag: 'can', weight: 5 },
];
const TARGET: RouteRule[] = [
  { version_tag: 'base', weight: 75 },
  { version_tag: 'can', weight: 25 },
];

function setup() {
  const clock = new FakeClock();
  const relay = new FakeRelay(clock);
  relay.addVersion('base');
  relay.addVersion('can');
  relay.addRoute(ROUTE, BEFORE, 4);
  const change = (deadlineMs = 10_000) =>
    changeWeights({
      relay,
      clock,
      route: ROUTE,
      target: TARGET,
      previous: { rules: BEFORE, revision: 4 },
      deadlineMs,
      callDeadlineMs: 3_000,
    });
  return { clock, relay, change };
}

const ops = (relay: FakeRelay) => relay.calls.map((c) => c.op);

describe('changeWeights', () => {
  it('a 200 showing the new weights is the change: no read', async () => {
    const { relay, change } = setup();
    expect(await change()).toMatchObject({ kind: 'applied', confirmedBy: 'answer', revision: 5 });
    expect(ops(relay)).toEqual(['updateRoute']);
  });

  it('a 503 after the write landed: the read shows the new weights, nothing is sent again', async () => {
    const { relay, change } = setup();
    relay.onCall((call) => {
      if (call.op === 'updateRoute') relay.drift(ROUTE, TARGET);
    });
    relay.failNext('updateRoute');
    expect(await change()).toMatchObject({ kind: 'applied', confirmedBy: 'read', revision: 5 });
    expect(ops(relay)).toEqual(['updateRoute', 'getRoute']);
  });

  it('a 503 that changed nothing: the read shows the weights and revision it left, so it is sent again', async () => {
    const { relay, change } = setup();
    relay.failNext('updateRoute');
    expect(await change()).toMatchObject({ kind: 'applied', confirmedBy: 'answer' });
    expect(ops(relay)).toEqual(['updateRoute', 'getRoute', 'updateRoute']);
    expect(relay.weightOf(ROUTE, 'can')).toBe(25);
  });

  it('a 503 and a read showing other weights: drift, nothing sent again', async () => {
    const { relay, change } = setup();
    const someoneElse = [
      { version_tag: 'base', weight: 100 },
      { version_tag: 'can', weight: 0 },
    ];
    relay.onCall((call) => {
      if (call.op === 'updateRoute') relay.drift(ROUTE, someoneElse);
    });
    relay.failNext('updateRoute');
    const result = await change();
    expect(result.kind).toBe('drift');
    expect(result.kind === 'drift' && result.route.route_rules).toEqual(someoneElse);
    expect(relay.patches).toHaveLength(1);
  });

  it('the same weights under a moved revision (a read after a 503) are drift too', async () => {
    const { relay, change } = setup();
    relay.failNext('updateRoute');
    // Someone else wrote, then wrote the weights back: the revision moved though the weights did not.
    relay.drift(ROUTE, TARGET);
    relay.drift(ROUTE, BEFORE);
    expect((await change()).kind).toBe('drift');
    expect(relay.patches).toHaveLength(1);
  });

  it('a 412 with none of our attempts applied is drift, even when the route holds our weights', async () => {
    const { relay, change } = setup();
    // An identical rollout wrote the same weights first.
    relay.drift(ROUTE, TARGET);
    relay.failNext('updateRoute', 1, () => relayError(412, 'precondition_failed'));
    expect((await change()).kind).toBe('drift');
    expect(ops(relay)).toEqual(['updateRoute', 'getRoute']);
  });

  it('a 412 after an earlier attempt may have landed: a read with our weights is our own change', async () => {
    const { relay, change } = setup();
    let patches = 0;
    relay.onCall((call) => {
      if (call.op !== 'updateRoute') return;
      patches++;
      // The first attempt lands but its answer is lost (504); the second meets the revision it made.
      if (patches === 1) {
        relay.drift(ROUTE, TARGET);
        relay.failNext('updateRoute', 1, () => relayError(504, 'server_error'));
      }
      if (patches === 2) relay.failNext('updateRoute', 1, () => relayError(412, 'precondition_failed'));
    });
    // The read between the attempts fails, so the second attempt is sent.
    relay.failNext('getRoute');
    expect(await change()).toMatchObject({ kind: 'applied', confirmedBy: 'read' });
  });

  it('a refusal (422) is thrown at once, without a read', async () => {
    const { relay, change } = setup();
    relay.failNext('updateRoute', 1, () => relayError(422, 'validation_error'));
    const error = await change().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).status).toBe(422);
    expect(ops(relay)).toEqual(['updateRoute']);
  });

  it('gives up at its deadline with the last real error', async () => {
    const { clock, relay, change } = setup();
    relay.failAlways('updateRoute');
    const start = clock.now();
    const error = await change(3_000).catch((e: unknown) => e);
    expect((error as RelayError).status).toBe(503);
    expect(clock.now() - start).toBeLessThanOrEqual(3_000);
    expect(relay.patches.length).toBeGreaterThan(1);
    expect(relay.weightOf(ROUTE, 'can')).toBe(5);
  });
});
