/**
 * Chaos: whole rollouts under random relay faults (seeded, so any failure is reproducible by
 * its seed), each checked against invariants 1–4. In-process on a fake clock, so dozens of
 * full rollouts take seconds.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/emulator/random.js';
import type { Fault } from '../../src/emulator/types.js';
import { checkInvariants, execute, reliabilityPlan, SEC, startRun } from './harness.js';

const SEEDS = Array.from({ length: 30 }, (_, i) => 1000 + i);
const MODES = ['rate_limit', 'server_error', 'reset'] as const;
const PREFIXES = [undefined, '/v1/routes', '/v1/metrics', '/v1/models'] as const;

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[Math.floor(rng.uniform() * items.length)] as T;
}

describe('chaos: random relay faults never break the invariants', () => {
  const outcomes: Record<string, number> = {};

  it.each(SEEDS)('seed %i', async (seed) => {
    const rng = new Random(Math.imul(seed, 0x9e3779b1));
    for (let i = 0; i < 16; i++) rng.uniform(); // neighbouring seeds start out correlated
    const failing = rng.uniform() < 0.4;
    const plan = reliabilityPlan({
      stages: [
        { weight: 5, bakeMs: 30 * SEC },
        { weight: 25, bakeMs: 30 * SEC },
        { weight: 50, bakeMs: 30 * SEC },
        { weight: 100, bakeMs: 0 },
      ],
      rollbackDeadlineMs: 30 * SEC,
    });
    const run = await startRun(plan, { seed, headersMs: 500 });
    const breakAt = 1 + Math.floor(rng.uniform() * 3); // the stage at which a failing canary breaks
    let faults = 0;
    run.beforeCall = () => {
      if (failing && run.events.some((e) => e.type === 'stage_started' && e.stage === breakAt)) {
        run.emulator.control.setBehaviour(plan.canary.tag, { error_rate: 0.25 });
      }
      if (faults >= 12 || rng.uniform() >= 0.12) return;
      faults++;
      const fault: Fault = { mode: pick(rng, MODES), count: 1 + Math.floor(rng.uniform() * 3) };
      const prefix = pick(rng, PREFIXES);
      if (prefix) fault.path_prefix = prefix;
      if (fault.mode === 'rate_limit') fault.retry_after_seconds = Math.floor(rng.uniform() * 3);
      if (fault.mode === 'server_error') fault.status = pick(rng, [500, 502, 503, 504]);
      run.emulator.control.injectFault(fault);
    };
    try {
      let result: Awaited<ReturnType<typeof execute>>;
      try {
        result = await execute(run);
      } catch (error) {
        // Pre-flight errors (before any weight was set) surface as thrown relay errors: the
        // route must be untouched and the key absent.
        expect(run.patchedCanary, `seed ${seed}`).toEqual([]);
        expect(String(error)).not.toContain('sk-');
        outcomes.preflight_error = (outcomes.preflight_error ?? 0) + 1;
        return;
      }
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
      checkInvariants(run, result);
      if (result.outcome === 'promoted')
        expect(failing && breakAt < 3, `seed ${seed} promoted a failing canary`).toBe(false);
    } finally {
      await run.close();
    }
  });

  it('the seeds exercised more than one ending', () => {
    expect(Object.keys(outcomes).length, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(2);
    expect(outcomes.promoted ?? 0).toBeGreaterThan(0);
    expect(outcomes.rolled_back ?? 0).toBeGreaterThan(0);
  });
});
