/** The engine's stageChecks hook, under a fake clock: when checks run, and what a failure does. */
import { describe, expect, it } from 'vitest';
import type { StageChecksContext } from '../../src/rollout/engine.js';
import type { StageCheckResult } from '../../src/rollout/events.js';
import { BASE, CANARY, harness } from '../rollout/harness.js';

const pass = (name: string): StageCheckResult => ({
  name,
  status: 'pass',
  exitCode: 0,
  timedOut: false,
  durationMs: 5,
  output: 'ok',
});

describe('engine: stage checks', () => {
  it('runs the top-level then the stage checks once per stage, after the bake, before stage_passed', async () => {
    const h = harness({ stages: [{ weight: 5 }, { weight: 50 }, { weight: 100, bakeMs: 0 }] });
    h.plan.checks = [{ name: 'smoke', run: './smoke.sh', timeoutMs: 1000 }];
    (h.plan.stages[1] as { checks?: unknown }).checks = [{ name: 'eval', run: './eval.sh', timeoutMs: 1000 }];
    const calls: StageChecksContext[] = [];
    const order: string[] = [];
    const result = await h.run({
      emit: (e) => {
        h.events.push(e);
        order.push(e.type === 'stage_check' ? `check:${e.check.name}` : e.type);
      },
      stageChecks: async (ctx) => {
        calls.push(ctx);
        return ctx.checks.map((c) => pass(c.name));
      },
    });
    expect(result.outcome).toBe('promoted');
    expect(calls.map((c) => [c.stage, c.weight, c.checks.map((x) => x.name)])).toEqual([
      [0, 5, ['smoke']],
      [1, 50, ['smoke', 'eval']],
      [2, 100, ['smoke']],
    ]);
    const firstPass = order.indexOf('stage_passed');
    expect(order.slice(0, firstPass).filter((t) => t.startsWith('check:'))).toEqual(['check:smoke']);
    // The bake came first: the checks were asked only once the stage had baked for its full time.
    const firstCheck = h.of('stage_check')[0];
    const firstStage = h.of('stage_started')[0];
    expect((firstCheck?.at ?? 0) - (firstStage?.at ?? 0)).toBeGreaterThanOrEqual(
      h.plan.stages[0]?.bakeMs ?? 0,
    );
  });

  it('a failing check rolls back at once with cause health, naming it and its output', async () => {
    const h = harness({ stages: [{ weight: 5 }, { weight: 100, bakeMs: 0 }] });
    h.plan.checks = [{ name: 'eval', run: './eval.sh', timeoutMs: 1000 }];
    const result = await h.run({
      stageChecks: async () => [
        {
          name: 'eval',
          status: 'fail',
          exitCode: 2,
          timedOut: false,
          durationMs: 9,
          output: 'x\nscore 0.41 < 0.8',
        },
      ],
    });
    expect(result.outcome).toBe('rolled_back');
    expect(result.exitCode).toBe(3);
    const rollback = h.of('rollback_started')[0];
    expect(rollback?.cause).toBe('health');
    expect(rollback?.reason).toBe("stage check 'eval' failed with exit code 2: score 0.41 < 0.8");
    expect(h.of('stage_check')[0]?.check.output).toBe('x\nscore 0.41 < 0.8');
    expect(h.of('stage_passed')).toHaveLength(0);
    const last = h.relay.patches.at(-1)?.rules;
    expect(last?.find((r) => r.version_tag === BASE)?.weight).toBe(100);
    expect(last?.find((r) => r.version_tag === CANARY)?.weight).toBe(0);
  });

  it('at a gate, the checks run before the question is asked', async () => {
    const h = harness({
      stages: [
        { weight: 5, pause: true },
        { weight: 100, bakeMs: 0 },
      ],
    });
    h.plan.checks = [{ name: 'smoke', run: './smoke.sh', timeoutMs: 1000 }];
    const order: string[] = [];
    await h.run({
      emit: (e) => {
        h.events.push(e);
        if (e.type === 'stage_check' || e.type === 'paused') order.push(e.type);
      },
      gate: async () => {
        order.push('asked');
        return 'promote';
      },
      stageChecks: async (ctx) => ctx.checks.map((c) => pass(c.name)),
    });
    expect(order.slice(0, 3)).toEqual(['stage_check', 'paused', 'asked']);
    expect(h.of('stage_check').filter((e) => e.stage === 0)).toHaveLength(1); // not again after the gate
  });

  it('a plan with checks but no runner is a bug, reported before anything changes', async () => {
    const h = harness({ stages: [{ weight: 5 }, { weight: 100, bakeMs: 0 }] });
    h.plan.checks = [{ name: 'smoke', run: './smoke.sh', timeoutMs: 1000 }];
    await expect(h.run()).rejects.toThrow(/no runner/);
  });
});
