import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { RouteRule } from '../../src/domain/relay.js';
import { RelayError, RollbackFailedError } from '../../src/errors.js';
import type { RolloutEvent } from '../../src/rollout/events.js';
import {
  isRolledBack,
  RollbackInterruptedError,
  RollbackNotConfirmedError,
  rollbackRoute,
  rollbackRules,
} from '../../src/rollout/rollback.js';
import { FakeRelay, relayError } from '../helpers/index.js';

const ROUTE = 'r1';

function setup(rules: RouteRule[]) {
  const clock = new FakeClock();
  const relay = new FakeRelay(clock);
  for (const r of rules) relay.addVersion(r.version_tag);
  relay.addVersion('v1');
  relay.addRoute(ROUTE, rules, 7);
  const events: RolloutEvent[] = [];
  const base = {
    relay,
    clock,
    route: ROUTE,
    to: 'v1',
    deadlineMs: 60_000,
    baseUrl: 'https://relay.example.com/v1',
    emit: (e: RolloutEvent) => events.push(e),
  };
  return { clock, relay, events, base };
}

const SPLIT = [
  { version_tag: 'v1', weight: 75 },
  { version_tag: 'v2', weight: 25 },
];

describe('rollbackRoute', () => {
  it('puts the target at 100 and every other tag at 0, confirmed by the PATCH answer', async () => {
    const { relay, events, base } = setup([...SPLIT, { version_tag: 'v0', weight: 0 }]);
    const result = await rollbackRoute(base);
    expect(result).toMatchObject({
      changed: true,
      before: [...SPLIT, { version_tag: 'v0', weight: 0 }],
      revision: 8,
    });
    expect(result.after).toEqual([
      { version_tag: 'v1', weight: 100 },
      { version_tag: 'v2', weight: 0 },
      { version_tag: 'v0', weight: 0 },
    ]);
    expect(relay.calls.map((c) => c.op)).toEqual(['getRoute', 'updateRoute']);
    expect(events.map((e) => e.type)).toEqual(['rollback_started', 'rolled_back']);
  });

  it('reads the route back when the PATCH answer does not show the rollback', async () => {
    const { relay, base } = setup(SPLIT);
    const original = relay.updateRoute.bind(relay);
    // A relay whose PATCH answer echoes the old rules, though the write itself holds.
    relay.updateRoute = async (request, options) => ({
      ...(await original(request, options)),
      route_rules: SPLIT,
    });
    const result = await rollbackRoute(base);
    expect(relay.calls.map((c) => c.op)).toEqual(['getRoute', 'updateRoute', 'getRoute']);
    expect(result.after).toEqual([
      { version_tag: 'v1', weight: 100 },
      { version_tag: 'v2', weight: 0 },
    ]);
    expect(result.attempts).toBe(1);
  });

  it('after a failed PATCH, an answer showing the rollback is confirmed by a read (the contract)', async () => {
    const { relay, base } = setup(SPLIT);
    relay.failNext('updateRoute');
    relay.patchMode = 'ignore';
    const original = relay.updateRoute.bind(relay);
    let answered = 0;
    relay.updateRoute = async (request, options) => {
      const update = await original(request, options);
      answered++;
      // The first answer after the 503 claims the rollback, which did not apply; later ones apply.
      if (answered > 1) return update;
      relay.patchMode = 'apply';
      return { ...update, route_rules: request.route_rules };
    };
    const result = await rollbackRoute(base);
    expect(relay.weightOf(ROUTE, 'v1')).toBe(100);
    expect(result.after).toEqual([
      { version_tag: 'v1', weight: 100 },
      { version_tag: 'v2', weight: 0 },
    ]);
    // Every PATCH after the failure was followed by a read of the route.
    expect(relay.calls.map((c) => c.op)).toEqual([
      'getRoute',
      'updateRoute',
      'getRoute',
      'updateRoute',
      'getRoute',
      'getRoute',
      'updateRoute',
      'getRoute',
    ]);
  });

  it('bounds even the immediate first PATCH by one attempt of the rollback deadline, not the client default', async () => {
    const { relay, base } = setup(SPLIT);
    const deadlines: (number | undefined)[] = [];
    const original = relay.updateRoute.bind(relay);
    const attempts: (number | undefined)[] = [];
    relay.updateRoute = (request, options) => {
      deadlines.push(options?.deadlineMs);
      attempts.push(options?.maxAttempts);
      return original(request, options);
    };
    await rollbackRoute({ ...base, deadlineMs: 3_000, knownRules: SPLIT });
    // A quarter of the deadline (at least 1 s): one hung PATCH is abandoned and sent again in time.
    expect(deadlines[0]).toBe(1_000);
    // One attempt per call: the rollback reads the route between tries (the contract).
    expect(attempts[0]).toBe(1);
  });

  it('is idempotent: already at the target, nothing is written', async () => {
    const { relay, base } = setup([
      { version_tag: 'v1', weight: 100 },
      { version_tag: 'v2', weight: 0 },
    ]);
    const result = await rollbackRoute(base);
    expect(result.changed).toBe(false);
    expect(result.before).toEqual(result.after);
    expect(relay.patches).toHaveLength(0);
  });

  it('with known rules the PATCH is sent synchronously, before anything is awaited', async () => {
    const { relay, base } = setup(SPLIT);
    const pending = rollbackRoute({ ...base, knownRules: SPLIT });
    expect(relay.calls.map((c) => c.op)).toEqual(['updateRoute']);
    await pending;
    expect(relay.weightOf(ROUTE, 'v1')).toBe(100);
  });

  it('adds the target when the route does not name it', () => {
    expect(rollbackRules([{ version_tag: 'v2', weight: 100 }], 'v1')).toEqual([
      { version_tag: 'v1', weight: 100 },
      { version_tag: 'v2', weight: 0 },
    ]);
    expect(isRolledBack([{ version_tag: 'v1', weight: 100 }], 'v1')).toBe(true);
    expect(isRolledBack(SPLIT, 'v1')).toBe(false);
  });

  it('retries with the clock until the write holds', async () => {
    const { clock, relay, base } = setup(SPLIT);
    relay.patchMode = 'ignore';
    void clock.sleep(2_000).then(() => {
      relay.patchMode = 'apply';
    });
    const result = await rollbackRoute(base);
    expect(result.attempts).toBeGreaterThan(2);
    expect(relay.weightOf(ROUTE, 'v1')).toBe(100);
    expect(result.durationMs).toBeGreaterThanOrEqual(2_000);
  });

  it('gives up at the deadline with the exact manual command (exit 4)', async () => {
    const { clock, relay, events, base } = setup(SPLIT);
    relay.failAlways('updateRoute');
    const start = clock.now();
    const error = await rollbackRoute(base).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackNotConfirmedError);
    expect(error).toBeInstanceOf(RollbackFailedError);
    const e = error as RollbackNotConfirmedError;
    expect(e.exitCode).toBe(4);
    expect(e.message).toMatch(/could not be confirmed within 1m \(\d+ attempts; last: 503/);
    expect(e.manualCommand).toBe(
      `curl -sS -X PATCH 'https://relay.example.com/v1/routes/traffic' -H "Authorization: Bearer $RELAY_API_KEY" -H 'Content-Type: application/json' --data '{"route_id":"r1","route_rules":[{"version_tag":"v1","weight":100},{"version_tag":"v2","weight":0}]}'`,
    );
    expect(e.hint).toContain(e.manualCommand);
    // It stops once no attempt fits in what is left (a fraction of a second), not after it.
    expect(clock.now() - start).toBeGreaterThanOrEqual(59_000);
    expect(clock.now() - start).toBeLessThanOrEqual(60_000);
    expect(events.at(-1)).toMatchObject({ type: 'rollback_failed', manualCommand: e.manualCommand });
  });

  it('a refused PATCH (422) fails at once rather than retrying a request that cannot succeed', async () => {
    const { clock, relay, base } = setup(SPLIT);
    relay.failNext('updateRoute', 1, () => relayError(422, 'validation_error'));
    const start = clock.now();
    await expect(rollbackRoute(base)).rejects.toBeInstanceOf(RollbackNotConfirmedError);
    expect(clock.now()).toBe(start);
  });

  it('a relay that cannot be reached as configured is reported at once, nothing written', async () => {
    const { clock, relay, base } = setup(SPLIT);
    const untrusted = new RelayError({
      message:
        'GET /routes/traffic/r1: could not reach the relay at relay.example.com: TLS failure (DEPTH_ZERO_SELF_SIGNED_CERT)',
      type: 'network_error',
      operation: 'GET /routes/traffic/r1',
      unreachable: true,
    });
    relay.failNext('getRoute', 1, () => untrusted);
    const start = clock.now();
    await expect(rollbackRoute(base)).rejects.toMatchObject({
      unreachable: true,
      message: expect.stringMatching(
        /TLS failure .* Nothing was written: the rollback of r1 did not reach the relay\./,
      ),
    });
    expect(clock.now()).toBe(start);
    expect(relay.patches).toHaveLength(0);
  });

  it('a network failure that may pass is retried until the deadline', async () => {
    const { relay, base } = setup(SPLIT);
    relay.failNext(
      'getRoute',
      2,
      () => new RelayError({ message: 'reset', type: 'network_error', operation: 'GET' }),
    );
    const result = await rollbackRoute(base);
    expect(result.attempts).toBe(3);
    expect(relay.weightOf(ROUTE, 'v1')).toBe(100);
  });

  it('an unknown route is the caller’s error, reported as the relay said it', async () => {
    const { base } = setup(SPLIT);
    const error = await rollbackRoute({ ...base, route: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).status).toBe(404);
  });

  it('stops retrying when its signal aborts', async () => {
    const { clock, relay, base } = setup(SPLIT);
    relay.failAlways('updateRoute');
    const controller = new AbortController();
    const start = clock.now();
    void clock.sleep(1_000).then(() => controller.abort());
    const error = await rollbackRoute({ ...base, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackNotConfirmedError);
    expect((error as Error).message).toContain('interrupted before it was confirmed');
    expect(clock.now() - start).toBeLessThan(10_000);
  });
});

/** A call that never answers, until its signal aborts it (a hung relay). */
function hangUntilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

describe('rollbackRoute stopped by its signal (Ctrl-C during canary rollback)', () => {
  it('in the back-off wait: stops at once, makes no further call, and says a PATCH went out', async () => {
    const { clock, relay, base } = setup(SPLIT);
    relay.failAlways('updateRoute');
    const controller = new AbortController();
    const start = clock.now();
    let abortedAt = 0;
    relay.onCall((call) => {
      // The first PATCH fails; 100 ms into the 250 ms wait to retry, the signal comes.
      if (call.op === 'updateRoute')
        void clock.sleep(100).then(() => {
          abortedAt = clock.now();
          controller.abort();
        });
    });
    const error = await rollbackRoute({ ...base, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackInterruptedError);
    const known = (error as RollbackInterruptedError).known;
    expect(known).toMatchObject({ patchSent: true, before: SPLIT, attempts: 1, durationMs: 100 });
    expect(known.lastCause).toMatch(/503/);
    expect(abortedAt - start).toBe(100);
    expect(clock.now() - start).toBe(100); // not the 250 ms the wait would have lasted
    expect(relay.calls.map((c) => c.op)).toEqual(['getRoute', 'updateRoute']);
    expect(relay.weightOf(ROUTE, 'v2')).toBe(25);
  });

  it('with a PATCH in flight: abandons it, names the last real cause, not the abort', async () => {
    const { clock, relay, base } = setup(SPLIT);
    const controller = new AbortController();
    relay.failNext('updateRoute'); // first PATCH: 503; the retry's PATCH hangs
    const original = relay.updateRoute.bind(relay);
    let patches = 0;
    relay.updateRoute = (request, options) => {
      patches++;
      if (patches === 1) return original(request, options);
      void clock.sleep(50).then(() => controller.abort(new Error('aborted by the test')));
      return hangUntilAborted(options?.signal);
    };
    const error = await rollbackRoute({ ...base, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackInterruptedError);
    const known = (error as RollbackInterruptedError).known;
    expect(known.patchSent).toBe(true);
    expect(known.attempts).toBe(2);
    expect(known.lastCause).toMatch(/503/);
    expect((error as Error).message).not.toMatch(/aborted by the test/);
    expect(patches).toBe(2);
  });

  it('before any PATCH went out (the first read hangs): nothing was sent, rules unknown', async () => {
    const { clock, relay, base } = setup(SPLIT);
    const controller = new AbortController();
    relay.getRoute = (_route, options) => {
      void clock.sleep(10).then(() => controller.abort());
      return hangUntilAborted(options?.signal);
    };
    const error = await rollbackRoute({ ...base, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackInterruptedError);
    expect((error as RollbackInterruptedError).known).toMatchObject({
      patchSent: false,
      before: null,
      lastCause: undefined,
    });
    expect((error as Error).message).toContain('(last: no answer)');
  });

  it('an answer confirming the rollback that arrives with the signal still counts: confirmed', async () => {
    const { relay, base } = setup(SPLIT);
    const controller = new AbortController();
    const original = relay.updateRoute.bind(relay);
    // The signal comes while the PATCH is on its way; the relay's answer arrives anyway.
    relay.updateRoute = (request) => {
      controller.abort();
      return original(request);
    };
    const result = await rollbackRoute({ ...base, signal: controller.signal });
    expect(result.changed).toBe(true);
    expect(isRolledBack(result.after, 'v1')).toBe(true);
  });
});
