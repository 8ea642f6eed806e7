import { describe, expect, it } from 'vitest';
import { CanaryError, ExitCode } from '../../src/errors.js';
import type { GateContext, GateDecision } from '../../src/rollout/engine.js';
import { type MetricValues, relayError } from '../helpers/index.js';
import { BASE, CANARY, expectWeightsFollowThePlan, HOUR, harness, MIN, ROUTE } from './harness.js';

const TEN_HOURS = [
  { weight: 5, bakeMs: 1 * HOUR },
  { weight: 25, bakeMs: 2 * HOUR },
  { weight: 50, bakeMs: 3 * HOUR },
  { weight: 100, bakeMs: 4 * HOUR },
];

/** Makes the canary misbehave from the moment it holds `fromWeight` % or more. */
function breakAt(h: ReturnType<typeof harness>, fromWeight: number, values: Partial<MetricValues>) {
  h.relay.setBehaviour(CANARY, (ctx) => (ctx.weight >= fromWeight ? values : undefined));
}

describe('promotion', () => {
  it('runs a 10-hour plan to 100% in virtual time', async () => {
    const h = harness({ stages: TEN_HOURS });
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'promoted', exitCode: ExitCode.Ok, stage: 3 });
    expect(result.cause).toBeUndefined();
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(100);
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(0);
    expect(h.elapsed()).toBeGreaterThanOrEqual(10 * HOUR);
    expect(h.elapsed()).toBeLessThan(10 * HOUR + 10 * MIN);
    expect(h.relay.patches.map((p) => p.rules)).toEqual([
      [
        { version_tag: BASE, weight: 95 },
        { version_tag: CANARY, weight: 5 },
      ],
      [
        { version_tag: BASE, weight: 75 },
        { version_tag: CANARY, weight: 25 },
      ],
      [
        { version_tag: BASE, weight: 50 },
        { version_tag: CANARY, weight: 50 },
      ],
      [
        { version_tag: BASE, weight: 0 },
        { version_tag: CANARY, weight: 100 },
      ],
    ]);
    expect(h.of('stage_passed').map((e) => e.stage)).toEqual([0, 1, 2, 3]);
    expect(h.events.at(-1)).toMatchObject({
      type: 'rollout_finished',
      outcome: 'promoted',
      exitCode: 0,
      summary: `promoted: canary ${CANARY} 100% on ${ROUTE}`,
    });
    expect(h.events[0]?.type).toBe('rollout_started');
    expectWeightsFollowThePlan(h);
  });

  it('pre-flight registers versions and creates a missing route at baseline 100%', async () => {
    const h = harness({ stages: [{ weight: 100, bakeMs: MIN }] });
    await h.run();
    const ops = h.relay.calls.map((c) => c.op);
    expect(ops.slice(0, 5)).toEqual([
      'health',
      'registerVersion',
      'registerVersion',
      'getRoute',
      'createRoute',
    ]);
    expect(h.relay.calls[4]?.rules).toEqual([
      { version_tag: BASE, weight: 100 },
      { version_tag: CANARY, weight: 0 },
    ]);
    expect(h.of('preflight').map((e) => e.step)).toEqual(['relay', 'version', 'version', 'route', 'start']);
  });

  it('re-running over existing versions and a route at baseline 100% is safe', async () => {
    const h = harness({ stages: [{ weight: 100, bakeMs: MIN }] });
    h.relay.addVersion(BASE);
    h.relay.addVersion(CANARY);
    h.relay.addRoute(ROUTE, [{ version_tag: BASE, weight: 100 }]);
    const result = await h.run();
    expect(result.outcome).toBe('promoted');
    expect(
      h
        .of('preflight')
        .filter((e) => e.step === 'version')
        .map((e) => e.detail),
    ).toEqual([
      `baseline ${BASE} already registered with the same configuration`,
      `canary ${CANARY} already registered with the same configuration`,
    ]);
    expect(h.relay.calls.some((c) => c.op === 'createRoute')).toBe(false);
  });

  it('keeps other tags on the route at 0', async () => {
    const h = harness({
      stages: [
        { weight: 50, bakeMs: MIN },
        { weight: 100, bakeMs: MIN },
      ],
    });
    for (const t of [BASE, CANARY, 'old-v0']) h.relay.addVersion(t);
    h.relay.addRoute(ROUTE, [
      { version_tag: 'old-v0', weight: 0 },
      { version_tag: BASE, weight: 100 },
    ]);
    await h.run();
    expect(h.relay.patches[0]?.rules).toContainEqual({ version_tag: 'old-v0', weight: 0 });
  });
});

describe('rollback on failed checks', () => {
  const thresholdCases = [
    { metric: 'error_rate', bad: { error_rate: 0.05 }, reason: 'error_rate 5.00% > max 2.00%' },
    { metric: 'latency_p99_ms', bad: { latency_p99_ms: 4000 }, reason: 'p99 4000ms > max 2500ms' },
    { metric: 'latency_p50_ms', bad: { latency_p50_ms: 900 }, reason: 'p50 900ms > max 800ms' },
    {
      metric: 'cost_per_token',
      bad: { cost_per_token: 0.00003 },
      reason: 'cost $30/Mtok > max $20/Mtok',
    },
  ];
  it.each(thresholdCases)('threshold $metric', async ({ metric, bad, reason }) => {
    const h = harness();
    breakAt(h, 25, bad);
    const result = await h.run();
    expect(result).toMatchObject({
      outcome: 'rolled_back',
      exitCode: ExitCode.RolledBack,
      cause: 'health',
      stage: 1,
    });
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(0);
    const started = h.of('rollback_started')[0];
    expect(started?.cause).toBe('health');
    expect(started?.reason).toContain(reason);
    const failing = h.of('evaluation').filter((e) => e.evaluation.verdict === 'fail');
    expect(failing.map((e) => e.consecutiveFailures)).toEqual([1, 2]);
    expect(failing[1]?.evaluation.checks.find((c) => c.id === `${metric}.max`)?.status).toBe('fail');
    expect(result.summary).toContain(`rolled back at stage 2/4: ${reason}`);
    expect(result.summary).toContain(`traffic at baseline ${BASE} 100%`);
    expect(h.events.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'rolled_back', exitCode: 3 });
    expectWeightsFollowThePlan(h);
  });

  const comparisonCases = [
    {
      metric: 'error_rate',
      base: { errorRate: 0.005 },
      bad: { error_rate: 0.018 },
      reason: 'error_rate 1.80% > baseline 0.50% + 1.00 pp = 1.50%',
    },
    {
      metric: 'latency_p99_ms',
      base: { p99: 1500 },
      bad: { latency_p99_ms: 2000 },
      reason: 'p99 2000ms > 1.25 × baseline 1500ms = 1875ms',
    },
    {
      metric: 'cost_per_token',
      base: { costPerToken: 0.00001 },
      bad: { cost_per_token: 0.000015 },
      reason: 'cost $15/Mtok > 1.1 × baseline $10/Mtok = $11/Mtok',
    },
  ];
  it.each(comparisonCases)('comparison $metric vs baseline', async ({ metric, base, bad, reason }) => {
    const h = harness();
    h.relay.setProfile(BASE, base);
    breakAt(h, 50, bad);
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'rolled_back', exitCode: 3, stage: 2 });
    const last = h.of('evaluation').at(-1);
    const check = last?.evaluation.checks.find((c) => c.id === `${metric}.vs_baseline`);
    expect(check).toMatchObject({ status: 'fail', reason });
    expect(
      last?.evaluation.checks.filter((c) => c.kind === 'threshold').every((c) => c.status === 'pass'),
    ).toBe(true);
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
  });

  it('the rollback PATCH is the first relay call after the failing metrics read, before any event', async () => {
    const h = harness();
    breakAt(h, 25, { error_rate: 0.5 });
    let callsAtDecisiveEvent = -1;
    const emitted: string[] = [];
    const result = await h.run({
      emit: (e) => {
        h.events.push(e);
        emitted.push(e.type);
        if (e.type === 'evaluation' && e.consecutiveFailures === 2)
          callsAtDecisiveEvent = h.relay.calls.length;
      },
    });
    expect(result.outcome).toBe('rolled_back');
    const calls = h.relay.calls;
    const rollbackIndex = calls.findIndex(
      (c) => c.op === 'updateRoute' && c.rules?.find((r) => r.version_tag === CANARY)?.weight === 0,
    );
    const readsBefore = calls.slice(0, rollbackIndex).filter((c) => c.op === 'readMetrics');
    const lastRead = readsBefore.at(-1);
    expect(calls[rollbackIndex - 1]?.op).toBe('readMetrics');
    expect(calls[rollbackIndex]?.at).toBe(lastRead?.at);
    // The decisive evaluation was emitted only once the PATCH had been handed to the relay.
    expect(callsAtDecisiveEvent).toBe(rollbackIndex + 1);
    const order = emitted
      .filter((t) => ['evaluation', 'rollback_started', 'rolled_back'].includes(t))
      .slice(-3);
    expect(order).toEqual(['evaluation', 'rollback_started', 'rolled_back']);
  });
});

describe('failure_limit counts failures over the stage', () => {
  function alternating(h: ReturnType<typeof harness>, pattern: ('fail' | 'pass' | 'none')[], repeat = true) {
    let n = 0;
    h.relay.setBehaviour(CANARY, () => {
      const step = repeat ? pattern[n++ % pattern.length] : (pattern[n++] ?? 'pass');
      if (step === 'fail') return { error_rate: 0.5 };
      if (step === 'none') return { request_count: 3 };
      return undefined;
    });
  }

  it('fail, pass, fail rolls back with a limit of 2: a pass between does not reset the count', async () => {
    const h = harness({ analysis: { minRequests: 10 } });
    alternating(h, ['fail', 'pass']);
    const result = await h.run();
    expect(result.outcome).toBe('rolled_back');
    expect(h.of('evaluation').map((e) => e.evaluation.verdict)).toEqual(['fail', 'pass', 'fail']);
    expect(h.of('evaluation').map((e) => e.consecutiveFailures)).toEqual([1, 1, 2]);
    expect(result.summary).toMatch(/2 failed evaluations in this stage/);
  });

  it('fail, fail rolls back with a limit of 2', async () => {
    const h = harness({ analysis: { minRequests: 10 } });
    alternating(h, ['pass', 'pass', 'pass', 'fail', 'fail']);
    const result = await h.run();
    expect(result.outcome).toBe('rolled_back');
    expect(h.of('evaluation').filter((e) => e.evaluation.verdict === 'fail')).toHaveLength(2);
  });

  it('a lull in data between failures does not reset the count', async () => {
    const h = harness({ analysis: { minRequests: 10 } });
    alternating(h, ['pass', 'fail', 'none', 'fail']);
    const result = await h.run();
    expect(result.outcome).toBe('rolled_back');
    expect(h.of('evaluation').map((e) => e.evaluation.verdict)).toEqual(['pass', 'fail', 'no_data', 'fail']);
  });

  it('a limit of 3 tolerates two failures in a stage, and a new stage starts from 0', async () => {
    const h = harness({ analysis: { minRequests: 10, failureLimit: 3 } });
    alternating(h, ['fail', 'pass', 'fail'], false);
    expect((await h.run()).outcome).toBe('promoted');
    expect(Math.max(...h.of('evaluation').map((e) => e.consecutiveFailures))).toBe(2);
  });
});

describe('no data', () => {
  it('waits for traffic, saying how much it has, then rolls back at the data deadline', async () => {
    const h = harness({
      stages: [{ weight: 5, bakeMs: 10 * MIN, dataDeadlineMs: 20 * MIN }, { weight: 100 }],
    });
    h.relay.rps = 1; // 5% of 1 rps never reaches 200 requests in a 5-minute window
    const result = await h.run();
    expect(result).toMatchObject({
      outcome: 'rolled_back',
      exitCode: 3,
      cause: 'insufficient_data',
      stage: 0,
    });
    const waiting = h.of('waiting_for_data');
    expect(waiting.length).toBeGreaterThan(30);
    expect(waiting[0]).toMatchObject({ requests: 1, minRequests: 200 });
    const stageStart = h.of('stage_started')[0]?.at ?? 0;
    expect(waiting[0]?.deadlineAt).toBe(stageStart + 20 * MIN);
    expect(h.of('rollback_started')[0]?.at).toBe(stageStart + 20 * MIN);
    expect(h.of('rollback_started')[0]?.reason).toMatch(
      /not enough data by the deadline: no data: \d+\/200 canary/,
    );
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
  });

  it('leaves the stage once data arrives, before the deadline', async () => {
    const h = harness({
      stages: [
        { weight: 5, bakeMs: 10 * MIN },
        { weight: 100, bakeMs: MIN },
      ],
    });
    h.relay.setBehaviour(CANARY, (ctx) =>
      ctx.now < h.startedAt + 15 * MIN ? { request_count: 50 } : undefined,
    );
    const result = await h.run();
    expect(result.outcome).toBe('promoted');
    const passed = h.of('stage_passed')[0];
    expect(passed?.at).toBeGreaterThanOrEqual(h.startedAt + 15 * MIN);
    expect(passed?.at).toBeLessThan(h.startedAt + 16 * MIN);
  });

  it.each([
    ['null', { error_rate: null }],
    ['missing', { error_rate: undefined }],
    ['NaN', { latency_p99_ms: Number.NaN }],
  ])('a %s metric is never healthy: the stage cannot pass', async (_name, values) => {
    const h = harness({ stages: [{ weight: 5, bakeMs: 10 * MIN }, { weight: 100 }] });
    h.relay.setBehaviour(CANARY, () => values as never);
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'insufficient_data' });
    expect(h.of('stage_passed')).toHaveLength(0);
    expect(h.of('evaluation').every((e) => e.evaluation.verdict === 'no_data')).toBe(true);
  });

  it('a version with no traffic reports nulls: the comparison lacks data', async () => {
    const h = harness({ stages: [{ weight: 5, bakeMs: MIN }, { weight: 100 }] });
    h.relay.setBehaviour(BASE, () => ({ request_count: 0, error_rate: null, latency_p99_ms: null }));
    const result = await h.run();
    expect(result.cause).toBe('insufficient_data');
    const checks = h.of('evaluation')[0]?.evaluation.checks ?? [];
    expect(checks.find((c) => c.id === 'error_rate.vs_baseline')?.status).toBe('no_data');
  });

  it('at 100% the baseline serves nothing: comparisons are skipped, thresholds decide', async () => {
    const h = harness({ stages: [{ weight: 100, bakeMs: 10 * MIN }] });
    const result = await h.run();
    expect(result.outcome).toBe('promoted');
    const checks = h.of('evaluation').at(-1)?.evaluation.checks ?? [];
    expect(checks.every((c) => c.kind === 'threshold')).toBe(true);
    expect(h.relay.calls.filter((c) => c.op === 'readMetrics' && c.target === BASE)).toHaveLength(0);
  });
});

describe('metrics read errors', () => {
  it('roll back after max_metric_errors consecutive failed reads', async () => {
    const h = harness();
    h.relay.onCall((call) => {
      if (call.op === 'readMetrics' && call.at >= h.startedAt + 15 * MIN) throw relayError(503);
    });
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'rolled_back', exitCode: 3, cause: 'metrics_unavailable' });
    expect(h.of('metrics_error').map((e) => e.consecutive)).toEqual([1, 2, 3]);
    expect(h.of('metrics_error')[0]).toMatchObject({ limit: 3 });
    expect(h.of('metrics_error')[0]?.message).toContain('reading metrics failed: 503');
  });

  it('a good read in between resets the count', async () => {
    const h = harness({ analysis: { minRequests: 10 } });
    let n = 0;
    h.relay.onCall((call) => {
      if (call.op === 'readMetrics' && call.target === CANARY && n++ % 3 !== 2) throw relayError(503);
    });
    const result = await h.run();
    expect(result.outcome).toBe('promoted');
    expect(Math.max(...h.of('metrics_error').map((e) => e.consecutive))).toBe(2);
  });

  it('hold policy: keeps holding through errors, continues when reads recover', async () => {
    const h = harness({ analysis: { onMetricErrors: 'hold' } });
    h.relay.onCall((call) => {
      if (call.op === 'readMetrics' && call.at >= h.startedAt + 2 * MIN && call.at < h.startedAt + 8 * MIN) {
        throw relayError(503);
      }
    });
    const result = await h.run();
    expect(result.outcome).toBe('promoted');
    expect(h.of('metrics_error').length).toBeGreaterThan(3);
  });

  it('hold policy still gives up at the data deadline: a failed read is no data', async () => {
    const h = harness({ analysis: { onMetricErrors: 'hold' } });
    h.relay.failAlways('readMetrics');
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'insufficient_data' });
    expect(h.of('rollback_started')[0]?.reason).toContain('the latest metrics read failed');
  });
});

describe('drift', () => {
  it('stops without writing when someone else moves the weights', async () => {
    const h = harness();
    let drifted = false;
    h.relay.onCall((call) => {
      if (!drifted && call.op === 'getRoute' && call.at >= h.startedAt + 15 * MIN) {
        drifted = true;
        h.relay.drift(ROUTE, [
          { version_tag: BASE, weight: 100 },
          { version_tag: CANARY, weight: 0 },
        ]);
      }
    });
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'aborted', exitCode: ExitCode.Aborted, cause: 'drift' });
    expect(h.relay.patches).toHaveLength(2); // stage 1 and stage 2, nothing after the drift
    expect(h.relay.calls.filter((c) => c.at > h.startedAt + 15 * MIN && c.op === 'updateRoute')).toHaveLength(
      0,
    );
    expect(result.summary).toContain(`expected ${BASE} 75%, ${CANARY} 25% (revision 3)`);
    expect(result.summary).toContain(`found ${BASE} 100%, ${CANARY} 0% (revision 4)`);
    expect(result.traffic).toEqual([
      { version_tag: BASE, weight: 100 },
      { version_tag: CANARY, weight: 0 },
    ]);
    expect(h.of('aborted')).toHaveLength(1);
  });

  it('a revision change with the same weights is drift too', async () => {
    const h = harness();
    let drifted = false;
    h.relay.onCall((call) => {
      if (!drifted && call.op === 'getRoute' && call.at >= h.startedAt + 5 * MIN) {
        drifted = true;
        h.relay.drift(ROUTE, [
          { version_tag: BASE, weight: 95 },
          { version_tag: CANARY, weight: 5 },
        ]);
      }
    });
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'aborted', cause: 'drift', exitCode: 5 });
    expect(h.relay.patches).toHaveLength(1);
  });

  it('refuses to start from weights that are not the plan’s starting point, changing nothing', async () => {
    const h = harness();
    h.relay.addVersion(BASE);
    h.relay.addVersion(CANARY);
    h.relay.addRoute(ROUTE, [
      { version_tag: BASE, weight: 75 },
      { version_tag: CANARY, weight: 25 },
    ]);
    const error = await h.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CanaryError);
    expect((error as CanaryError).exitCode).toBe(ExitCode.BadInput);
    expect((error as CanaryError).message).toContain(`is at ${BASE} 75%, ${CANARY} 25%`);
    expect((error as CanaryError).message).toContain('not supported yet');
    expect(h.relay.patches).toHaveLength(0);
  });

  it('startStage accepts the route at the previous stage’s weights', async () => {
    const h = harness();
    h.relay.addVersion(BASE);
    h.relay.addVersion(CANARY);
    h.relay.addRoute(ROUTE, [
      { version_tag: BASE, weight: 75 },
      { version_tag: CANARY, weight: 25 },
    ]);
    const result = await h.run({}, { startStage: 3 });
    expect(result.outcome).toBe('promoted');
    expect(h.relay.patches.map((p) => p.rules?.find((r) => r.version_tag === CANARY)?.weight)).toEqual([
      50, 100,
    ]);
  });
});

describe('pause gates', () => {
  const gated = [{ weight: 5 }, { weight: 25, pause: true }, { weight: 100 }];

  function gate(decision: GateDecision, afterMs = 5 * MIN, seen: GateContext[] = []) {
    return (h: ReturnType<typeof harness>) => async (ctx: GateContext) => {
      seen.push(ctx);
      await h.clock.sleep(afterMs, ctx.signal);
      return decision;
    };
  }

  it('promote: continues after the operator says so, not before', async () => {
    const h = harness({ stages: gated });
    const seen: GateContext[] = [];
    const result = await h.run({ gate: gate('promote', 30 * MIN, seen)(h) });
    expect(result.outcome).toBe('promoted');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ stage: 1, stageCount: 3, weight: 25 });
    expect(seen[0]?.evaluation.verdict).toBe('pass');
    const paused = h.of('paused')[0];
    const decided = h.of('gate_decision')[0];
    expect(decided).toMatchObject({ decision: 'promote', stage: 1 });
    expect((decided?.at ?? 0) - (paused?.at ?? 0)).toBe(30 * MIN);
    // Analysis kept running while the gate was open.
    expect(
      h.of('evaluation').filter((e) => e.at > (paused?.at ?? 0) && e.at < (decided?.at ?? 0)).length,
    ).toBe(59);
    expectWeightsFollowThePlan(h);
  });

  it('rollback: the operator’s choice rolls back', async () => {
    const h = harness({ stages: gated });
    const result = await h.run({ gate: gate('rollback')(h) });
    expect(result).toMatchObject({ outcome: 'rolled_back', exitCode: 3, cause: 'operator' });
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
  });

  it('hold: stops with traffic held at the stage, exit 0', async () => {
    const h = harness({ stages: gated });
    const result = await h.run({ gate: gate('hold')(h) });
    expect(result).toMatchObject({ outcome: 'held', exitCode: 0, cause: 'gate_hold', stage: 1 });
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(25);
    expect(result.summary).toBe(
      `held at stage 2/3 by the operator; traffic left at stage 2/3 (canary 25% / baseline 75%)`,
    );
    expect(result.next).toContain('canary rollback plan.yaml');
  });

  it('a failed check during the pause rolls back and cancels the gate', async () => {
    const h = harness({ stages: gated });
    const seen: GateContext[] = [];
    const pausedAt = () => h.of('paused')[0]?.at ?? Number.POSITIVE_INFINITY;
    h.relay.setBehaviour(CANARY, (ctx) =>
      ctx.now >= pausedAt() + 3 * MIN ? { error_rate: 0.5 } : undefined,
    );
    const result = await h.run({ gate: gate('promote', 10 * HOUR, seen)(h) });
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'health', stage: 1 });
    expect(seen[0]?.signal.aborted).toBe(true);
    expect(h.of('gate_decision')).toHaveLength(0);
    expect(h.elapsed()).toBeLessThan(HOUR);
  });

  it('a plan with a gate and no gate function is refused before anything happens', async () => {
    const h = harness({ stages: gated });
    await expect(h.run()).rejects.toThrow(/no gate/);
    expect(h.relay.calls).toHaveLength(0);
  });
});

describe('untilStage', () => {
  it('stops after that stage’s bake passes, holding traffic there', async () => {
    const h = harness({ stages: TEN_HOURS });
    const result = await h.run({}, { untilStage: 2 });
    expect(result).toMatchObject({ outcome: 'held', exitCode: 0, cause: 'until_stage', stage: 1 });
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(25);
    expect(h.elapsed()).toBeGreaterThanOrEqual(3 * HOUR);
    expect(h.elapsed()).toBeLessThan(3 * HOUR + 5 * MIN);
    expect(h.events.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'held' });
  });

  it('does not ask the gate of the stage it stops at', async () => {
    const h = harness({ stages: [{ weight: 5 }, { weight: 25, pause: true }, { weight: 100 }] });
    const result = await h.run({}, { untilStage: 2 });
    expect(result.outcome).toBe('held');
    expect(h.of('paused')).toHaveLength(0);
  });
});

describe('relay errors mid-rollout', () => {
  it('a failed read before a weight change, while the canary holds traffic, restores the baseline (exit 5)', async () => {
    const h = harness();
    h.relay.onCall((call) => {
      if (call.op === 'getRoute' && h.events.at(-1)?.type === 'stage_passed') throw relayError(503);
    });
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'rolled_back', exitCode: 5, cause: 'relay_error', stage: 0 });
    expect(result.summary).toMatch(/^rolled back at stage 1\/4: a relay call failed at stage 1\/4: .*503/);
    expect(result.summary).toContain(`traffic at baseline ${BASE} 100%`);
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
    expect(h.of('rollback_started')[0]?.cause).toBe('relay_error');
  });

  it('a weight change that keeps failing is read back, sent again, then given up: the baseline is restored', async () => {
    const h = harness();
    h.relay.onCall((call) => {
      if (call.op === 'updateRoute' && call.rules?.some((r) => r.weight === 25)) throw relayError(503);
    });
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'rolled_back', exitCode: 5, cause: 'relay_error', stage: 1 });
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
    // Each failed PATCH was followed by a read of the route before anything else (the contract).
    const ops = h.relay.calls.map((c) => c.op);
    const patches = ops.flatMap((op, i) => (op === 'updateRoute' ? [i] : []));
    expect(patches.length).toBeGreaterThan(3);
    for (const i of patches.slice(1, -2)) expect(ops[i + 1]).toBe('getRoute');
  });

  it('a weight change whose answer was lost but which landed is found by reading back: the rollout goes on', async () => {
    const h = harness();
    let lost = false;
    h.relay.onCall((call) => {
      if (!lost && call.op === 'updateRoute' && call.rules?.some((r) => r.weight === 25)) {
        lost = true;
        h.relay.drift(ROUTE, call.rules); // the relay applied it; the answer never arrived
        throw relayError(503);
      }
    });
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'promoted', exitCode: 0 });
    expect(h.relay.patches.filter((p) => p.rules?.some((r) => r.weight === 25))).toHaveLength(1);
  });
});

describe('abort signal', () => {
  async function abortAt(h: ReturnType<typeof harness>, ms: number, reason: unknown) {
    const controller = new AbortController();
    void h.clock.sleep(ms).then(() => controller.abort(reason));
    return h.run({ signal: controller.signal });
  }

  it('rollback: rolls back, then reports interrupted with the caller’s exit code', async () => {
    const h = harness();
    const result = await abortAt(h, 15 * MIN, { action: 'rollback', cause: 'interrupt', exitCode: 143 });
    expect(result).toMatchObject({ outcome: 'interrupted', exitCode: 143, cause: 'interrupt' });
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
    expect(h.of('rollback_started')[0]?.cause).toBe('interrupt');
  });

  it('interrupt defaults to 130, timeout to 5', async () => {
    const a = harness();
    expect((await abortAt(a, 15 * MIN, { action: 'rollback', cause: 'interrupt' })).exitCode).toBe(130);
    const b = harness();
    const timedOut = await abortAt(b, 15 * MIN, { action: 'rollback', cause: 'timeout' });
    expect(timedOut).toMatchObject({ outcome: 'interrupted', exitCode: 5, cause: 'timeout' });
  });

  it('leave: stops with traffic at the current stage and says so', async () => {
    const h = harness();
    const result = await abortAt(h, 15 * MIN, { action: 'leave', cause: 'interrupt' });
    expect(result).toMatchObject({ outcome: 'interrupted', exitCode: 130, stage: 1 });
    expect(h.relay.weightOf(ROUTE, CANARY)).toBe(25);
    expect(result.summary).toBe(
      'interrupted; leaving traffic as it is; traffic left at stage 2/4 (canary 25% / baseline 75%)',
    );
    expect(result.next).toContain('canary rollback plan.yaml');
    expect(h.relay.patches).toHaveLength(2);
  });

  it('an unknown reason fails safe: rollback', async () => {
    const h = harness();
    const result = await abortAt(h, 15 * MIN, new Error('boom'));
    expect(result.outcome).toBe('interrupted');
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
  });

  it('aborting the gate’s wait with a signal also cancels the gate', async () => {
    const h = harness({ stages: [{ weight: 5, pause: true }, { weight: 100 }] });
    let gateSignal: AbortSignal | undefined;
    const controller = new AbortController();
    const result = await h.run({
      signal: controller.signal,
      gate: async (ctx) => {
        gateSignal = ctx.signal;
        await h.clock.sleep(MIN);
        controller.abort({ action: 'leave', cause: 'interrupt' });
        await h.clock.sleep(HOUR, ctx.signal);
        return 'promote';
      },
    });
    expect(result).toMatchObject({ outcome: 'interrupted', stage: 0 });
    expect(gateSignal?.aborted).toBe(true);
  });
});

describe('rollback that does not hold', () => {
  it('retries until the route reads back at baseline 100%', async () => {
    const h = harness();
    breakAt(h, 25, { error_rate: 0.5 });
    h.relay.onCall((call) => {
      if (call.op === 'updateRoute' && call.rules?.find((r) => r.version_tag === CANARY)?.weight === 0) {
        const attempt = h.relay.patches.filter(
          (p) => p.rules?.find((r) => r.version_tag === CANARY)?.weight === 0,
        );
        h.relay.patchMode = attempt.length >= 3 ? 'apply' : 'ignore';
      }
    });
    const result = await h.run();
    expect(result).toMatchObject({ outcome: 'rolled_back', exitCode: 3 });
    expect(h.relay.weightOf(ROUTE, BASE)).toBe(100);
    expect(
      h.relay.patches.filter((p) => p.rules?.find((r) => r.version_tag === CANARY)?.weight === 0),
    ).toHaveLength(3);
  });

  it('exit 4 with the exact manual command after the deadline', async () => {
    const h = harness({ rollbackDeadlineMs: 30_000 });
    breakAt(h, 25, { error_rate: 0.5 });
    h.relay.onCall((call) => {
      if (call.op === 'updateRoute' && call.rules?.find((r) => r.version_tag === CANARY)?.weight === 0) {
        throw relayError(503);
      }
    });
    const result = await h.run({ apiKeyEnv: 'MY_RELAY_KEY' });
    expect(result).toMatchObject({
      outcome: 'rollback_failed',
      exitCode: ExitCode.RollbackFailed,
      traffic: null,
    });
    const command = `curl -sS -X PATCH 'http://127.0.0.1:8787/v1/routes/traffic' -H "Authorization: Bearer $MY_RELAY_KEY" -H 'Content-Type: application/json' --data '{"route_id":"${ROUTE}","route_rules":[{"version_tag":"${BASE}","weight":100},{"version_tag":"${CANARY}","weight":0}]}'`;
    expect(result.next).toBe(`restore the baseline by hand: ${command}`);
    expect(h.of('rollback_failed')[0]?.manualCommand).toBe(command);
    expect(h.events.at(-1)).toMatchObject({ type: 'rollout_finished', exitCode: 4 });
    const rollbackStarted = h.of('rollback_started')[0]?.at ?? 0;
    expect(h.clock.now() - rollbackStarted).toBeGreaterThanOrEqual(29_000);
    expect(h.clock.now() - rollbackStarted).toBeLessThanOrEqual(30_000);
  });
});
