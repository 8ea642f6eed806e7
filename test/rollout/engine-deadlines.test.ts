/**
 * Issue 15, item 4: every relay call of a rollout carries a deadline that follows from the plan
 * (src/rollout/deadlines.ts), never the client's 60 s default, so one hung call cannot hold a
 * 1 s-interval rollout, or its rollback, for a minute.
 */
import { describe, expect, it } from 'vitest';
import type { CallOptions } from '../../src/domain/relay.js';
import { CANARY, harness, MIN } from './harness.js';

type Op =
  | 'health'
  | 'registerVersion'
  | 'getVersion'
  | 'createRoute'
  | 'getRoute'
  | 'updateRoute'
  | 'readMetrics';
const OPS: Op[] = [
  'health',
  'registerVersion',
  'getVersion',
  'createRoute',
  'getRoute',
  'updateRoute',
  'readMetrics',
];

/** Records each call's deadline, in call order. */
function recordDeadlines(h: ReturnType<typeof harness>) {
  const seen: { op: Op; deadlineMs: number | undefined }[] = [];
  const relay = h.relay as unknown as Record<Op, (...args: unknown[]) => Promise<unknown>>;
  for (const op of OPS) {
    const original = relay[op].bind(h.relay);
    const at = op === 'health' ? 0 : 1; // where CallOptions sits among the arguments
    relay[op] = (...args: unknown[]) => {
      seen.push({ op, deadlineMs: (args[at] as CallOptions | undefined)?.deadlineMs });
      return original(...args);
    };
  }
  return seen;
}

describe('relay call deadlines follow the plan', () => {
  it('a 1 s interval: pre-flight calls 15 s, reads and stage changes 3 s, rollback attempts a quarter of its deadline', async () => {
    const h = harness({
      stages: [
        { weight: 10, bakeMs: MIN },
        { weight: 100, bakeMs: MIN },
      ],
      analysis: { intervalMs: 1_000, windowMs: MIN, minRequests: 10 },
      rollbackDeadlineMs: 8_000,
    });
    h.relay.setBehaviour(CANARY, (ctx) => (ctx.weight >= 100 ? { error_rate: 0.5 } : undefined));
    const seen = recordDeadlines(h);
    const result = await h.run();
    expect(result.outcome).toBe('rolled_back');

    expect(seen.every((c) => c.deadlineMs !== undefined)).toBe(true);
    const firstPatch = seen.findIndex((c) => c.op === 'updateRoute');
    const preflight = seen.slice(0, firstPatch - 1);
    expect(preflight.map((c) => c.op)).toContain('health');
    // Pre-flight: at least 15 s, for a relay slow to register versions or create the route.
    for (const c of preflight) expect(c, c.op).toMatchObject({ deadlineMs: 15_000 });
    // While baking: the interval (1 s) plus the 2 s grace; the last PATCH is the rollback's.
    const later = seen.slice(firstPatch - 1, seen.length - 1);
    expect(later.length).toBeGreaterThan(10);
    for (const c of later) expect(c, c.op).toMatchObject({ deadlineMs: 3_000 });
    // The rollback's PATCH: a quarter of its 8 s deadline, so a hung one is sent again in time.
    expect(seen.at(-1)).toMatchObject({ op: 'updateRoute', deadlineMs: 2_000 });
  });
});
