/**
 * The engine with the stage analysis, against the emulator in virtual time: a shared incident
 * holds the stage (bake paused) and rolls back only past hold_deadline; the wait line names
 * what is missing; the verdict carries the confidence per stage and per rollout.
 */
import { describe, expect, it } from 'vitest';
import { initPlan } from '../../bench/judge.js';
import type { RolloutEvent } from '../../src/rollout/events.js';
import { runSeed } from '../../src/simulate/run-seed.js';

const BASE = { error_rate: 0.01, latency_p50_ms: 400, latency_p99_ms: 1800, cost_per_token: 0.000015 };

describe('stage analysis in the engine', () => {
  it('holds through a shared incident and rolls back when it outlasts hold_deadline', async () => {
    const plan = await initPlan();
    const short = { ...plan, analysis: { ...plan.analysis, holdDeadlineMs: 5 * 60_000 } };
    const events: RolloutEvent[] = [];
    const run = await runSeed(
      {
        plan: short,
        rps: 1000,
        scenario: {
          default: BASE,
          all_versions: { changes: [{ when: { after_ms: 3 * 60_000 }, set: { error_rate: 0.05 } }] },
        },
        onEvent: (e) => events.push(e),
      },
      7,
    );
    expect(run.outcome).toBe('rolled_back');
    expect(run.cause).toBe('shared_incident');
    expect(run.summary).toMatch(/both versions degraded for \d+m.*past the hold deadline of 5m/);
    const holds = events.flatMap((e) =>
      e.type === 'evaluation' && e.evaluation.verdict === 'hold' ? [e] : [],
    );
    expect(holds.length).toBeGreaterThanOrEqual(9);
    const check = holds[0]?.evaluation.checks.find((c) => c.status === 'hold');
    expect(check?.reason).toMatch(
      /both versions degraded \(shared incident\): error_rate canary [\d.]+% > max 2\.00%, baseline [\d.]+%/,
    );
    expect(check?.baseline).toBeGreaterThan(0.02);
  });

  it('says what a stage waits for, and reports its confidence per stage and per rollout', async () => {
    const plan = await initPlan();
    const hungry = { ...plan, analysis: { ...plan.analysis, minRequests: 2000 } };
    const events: RolloutEvent[] = [];
    const run = await runSeed(
      { plan: hungry, rps: 200, scenario: { default: BASE }, onEvent: (e) => events.push(e) },
      3,
    );
    const wait = events.find((e) => e.type === 'waiting_for_data');
    expect(wait && 'needs' in wait ? wait.needs : undefined).toMatch(
      /^canary requests \d+\/2000 in the stage$/,
    );
    const passed = events.find((e) => e.type === 'evaluation' && e.evaluation.verdict === 'pass');
    expect(passed?.type === 'evaluation' && passed.evaluation.error_control).toMatchObject({
      rollout_confidence: 0.99,
      stage_confidence: 0.9975,
      judged_stages: 4,
      tests_per_stage: 5,
    });
    // 10 canary requests a second: the 5 % stage pools its 2 000 after its 10 minutes are nearly over.
    expect(run.outcome).toBe('promoted');
  });

  it('at 100 %, with no baseline left, a limit the baseline breached too is not the canary’s fault', async () => {
    const plan = await initPlan();
    const events: RolloutEvent[] = [];
    const run = await runSeed(
      {
        plan,
        rps: 200,
        scenario: { default: { ...BASE, error_rate: 0.03 } },
        onEvent: (e) => events.push(e),
      },
      1958489465,
    );
    expect(run.outcome).toBe('promoted');
    const last = events.filter((e) => e.type === 'evaluation').at(-1);
    const check =
      last?.type === 'evaluation' ? last.evaluation.checks.find((c) => c.id === 'error_rate.max') : undefined;
    expect(check?.status).toBe('pass');
    expect(check?.reason).toMatch(
      /> max 2\.00% in the window, but the baseline was at [\d.]+% over its last stage/,
    );
  });
});
