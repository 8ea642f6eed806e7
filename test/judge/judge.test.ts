/**
 * The judgement suite on a few seeds (the full figures are `npm run judge`, in
 * bench/judgement.json): on the plan `canary init` writes, a 3× error rate is rolled back with
 * fewer failed requests than the fixed comparison, a shared incident holds instead of blaming
 * the canary, and 20 requests/s promote a good canary.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../bench/judge/scenarios.js';
import { initPlan, judgeOne, targets } from '../../bench/judge.js';

const scenario = (name: string) => {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(name);
  return found;
};
const SEEDS = 4;

describe('judgement suite (bounded seeds)', () => {
  it('rolls back a 3× error rate at the first stage, with no more failed requests than the fixed comparison', async () => {
    const plan = await initPlan();
    const entry = await judgeOne('init', plan, scenario('errors-3x'), SEEDS, { fixed: true, concurrency: 4 });
    expect(entry).not.toBeNull();
    expect(entry?.rolled_back_pct).toBe(100);
    expect(entry?.outcomes).toEqual({ health: SEEDS });
    expect(entry?.stage_decided).toEqual({ '1': SEEDS });
    expect(entry?.fixed?.rolled_back_pct).toBe(100);
    expect(entry?.failed_canary_requests.median).toBeLessThanOrEqual(
      entry?.fixed?.failed_canary_requests.median ?? 0,
    );
    expect(targets(entry ? [entry] : []).blast_radius_3x_vs_fixed).toBe(true);
  });

  it('holds through a shared incident, saying both versions degraded, and promotes', async () => {
    const plan = await initPlan();
    const entry = await judgeOne('init', plan, scenario('shared-incident'), SEEDS, {
      fixed: false,
      concurrency: 4,
    });
    expect(entry?.outcomes).toEqual({ promoted: SEEDS });
    expect(entry?.shared_incident_seen_pct).toBe(100);
    // The bake clock paused while both were degraded: the run took longer than its 30 min of bakes.
    expect(entry?.decision_seconds.median).toBeGreaterThan(1900);
  });

  it('promotes a good canary at 20 requests/s', async () => {
    const plan = await initPlan();
    const entry = await judgeOne('init', plan, scenario('rps-20'), SEEDS, { fixed: false, concurrency: 4 });
    expect(entry?.outcomes).toEqual({ promoted: SEEDS });
  });
});
