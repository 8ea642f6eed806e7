/**
 * A misbehaving relay, at the level of a whole rollout (the client's own retry rules are
 * tested in test/relay): the emulator's fault injection on one fake clock, invariants 1–4
 * checked after every run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricsSource } from '../../src/domain/relay.js';
import { checkInvariants, execute, type Run, reliabilityPlan, SEC, startRun } from './harness.js';

let run: Run | undefined;
afterEach(async () => {
  await run?.close();
  run = undefined;
});

describe('rollout under relay faults', () => {
  it('a 429 storm on every call is waited out per Retry-After, and the rollout still promotes', async () => {
    run = await startRun(reliabilityPlan());
    // Four in a row on the first calls (the client gives up after five attempts), then more later.
    run.emulator.control.injectFault({ mode: 'rate_limit', count: 4, retry_after_seconds: 3 });
    run.emulator.control.injectFault({
      mode: 'rate_limit',
      count: 2,
      retry_after_seconds: 3,
      path_prefix: '/v1/routes',
    });
    const result = await execute(run);
    expect(result.outcome).toBe('promoted');
    const limited = run.emulator.control.calls().filter((c) => c.status === 429);
    expect(limited).toHaveLength(6);
    // The first registration was refused four times and retried each time no sooner than
    // Retry-After (virtual time: exact, not a timing race).
    const posts = run.emulator.control
      .calls()
      .filter((c) => c.method === 'POST')
      .slice(0, 5);
    expect(posts.map((c) => c.status)).toEqual([429, 429, 429, 429, 201]);
    for (let i = 1; i < posts.length; i++) {
      expect(Date.parse(posts[i]?.at ?? '') - Date.parse(posts[i - 1]?.at ?? '')).toBeGreaterThanOrEqual(
        3 * SEC,
      );
    }
    checkInvariants(run, result);
  });

  it('5xx answers and connection resets on weight changes are retried with backoff and the rollout promotes', async () => {
    run = await startRun(reliabilityPlan());
    run.emulator.control.injectFault({
      mode: 'server_error',
      count: 2,
      status: 502,
      path_prefix: '/v1/routes',
    });
    run.emulator.control.injectFault({ mode: 'reset', count: 2, path_prefix: '/v1/routes' });
    const result = await execute(run);
    expect(result.outcome).toBe('promoted');
    expect(run.emulator.control.calls().filter((c) => c.fault !== undefined)).toHaveLength(4);
    checkInvariants(run, result);
  });

  it('slow answers time out and count as failed reads, never as healthy', async () => {
    run = await startRun(reliabilityPlan({ analysis: { onMetricErrors: 'hold' } }), {
      headersMs: 150,
      maxAttempts: 1, // one attempt per read, so each hang is a failed read
    });
    run.emulator.control.injectFault({ mode: 'hang', count: 2, path_prefix: '/v1/metrics' });
    const result = await execute(run);
    expect(result.outcome).toBe('promoted');
    const errors = run.events.filter((e) => e.type === 'metrics_error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => (e.type === 'metrics_error' ? e.message : '')).join('\n')).toMatch(
      /time|answer/i,
    );
    checkInvariants(run, result);
  });

  it('metrics unreadable max_metric_errors times in a row roll back (the default policy)', async () => {
    run = await startRun(reliabilityPlan());
    run.emulator.control.injectFault({ mode: 'server_error', count: 10_000, path_prefix: '/v1/metrics' });
    const result = await execute(run);
    expect(result).toMatchObject({
      outcome: 'rolled_back',
      exitCode: 3,
      cause: 'metrics_unavailable',
      stage: 0,
    });
    expect(run.events.filter((e) => e.type === 'metrics_error')).toHaveLength(3);
    expect(run.events.some((e) => e.type === 'evaluation')).toBe(false);
    checkInvariants(run, result);
  });

  /** Every call fails with a 503 from `from` (ms after `stage` started) for `forMs`. */
  function outage(r: Run, stage: number, from: number, forMs: number) {
    const window = { start: 0, end: 0, on: false };
    r.beforeCall = (now) => {
      if (window.start === 0) {
        const started = r.events.find((e) => e.type === 'stage_started' && e.stage === stage);
        if (!started) return;
        window.start = started.at + from;
        window.end = window.start + forMs;
      }
      const inside = now >= window.start && now < window.end;
      if (inside && !window.on)
        r.emulator.control.injectFault({ mode: 'server_error', count: 1_000_000, status: 503 });
      if (!inside && window.on) r.emulator.control.clearFaults();
      window.on = inside;
    };
    return window;
  }

  it('with on_metric_errors: hold, a 20 s relay outage mid-stage holds the stage, then the rollout continues', async () => {
    run = await startRun(reliabilityPlan({ analysis: { onMetricErrors: 'hold' } }));
    const r = run;
    const window = outage(r, 1, 20 * SEC, 20 * SEC);
    const result = await execute(r);
    expect(result.outcome).toBe('promoted');
    expect(r.events.filter((e) => e.type === 'metrics_error').length).toBeGreaterThanOrEqual(2);
    // Nothing advanced during the outage: stage 3 began only after it, on a fresh pass.
    const stage3 = r.events.find((e) => e.type === 'stage_started' && e.stage === 2);
    expect(stage3?.at).toBeGreaterThan(window.end);
    const writes = r.emulator.control.calls().filter((c) => c.method === 'PATCH' && c.status === 200);
    expect(writes.every((c) => Date.parse(c.at) < window.start || Date.parse(c.at) >= window.end)).toBe(true);
    checkInvariants(r, result);
  });

  it('the same outage under the default policy rolls back, retrying the rollback until the relay answers', async () => {
    run = await startRun(reliabilityPlan());
    const r = run;
    const window = outage(r, 1, 5 * SEC, 40 * SEC);
    const result = await execute(r);
    // The route itself became unreadable while the canary held 25 %: the baseline goes back at
    // once (issue 15), and the exit says the relay failed (5), not the canary (3).
    expect(result).toMatchObject({
      outcome: 'rolled_back',
      exitCode: 5,
      cause: 'relay_error',
      stage: 1,
    });
    const rolledBack = r.events.find((e) => e.type === 'rolled_back');
    expect(rolledBack?.at).toBeGreaterThanOrEqual(window.end); // it kept trying through the outage
    expect(
      r.emulator.control.getRoute(r.plan.route)?.route_rules.find((x) => x.version_tag === r.plan.canary.tag)
        ?.weight,
    ).toBe(0);
    checkInvariants(r, result);
  });

  it('a rollback the relay never accepts ends in rollback_failed (exit 4) with the curl that restores the baseline', async () => {
    run = await startRun(reliabilityPlan({ rollbackDeadlineMs: 20 * SEC }), { canaryErrorRate: 0.3 });
    const r = run;
    let injected = false;
    r.beforeCall = () => {
      // Once the first failing verdict is in, the relay refuses every weight change.
      if (injected || !r.events.some((e) => e.type === 'evaluation' && e.evaluation.verdict === 'fail'))
        return;
      injected = true;
      r.emulator.control.injectFault({ mode: 'server_error', count: 1_000_000, path_prefix: '/v1/routes' });
    };
    const result = await execute(r);
    expect(result).toMatchObject({ outcome: 'rollback_failed', exitCode: 4 });
    expect(result.next).toContain(`curl -sS -X PATCH '${r.emulator.baseUrl}/routes/traffic'`);
    expect(result.next).toContain('Bearer $RELAY_API_KEY');
    const failed = r.events.find((e) => e.type === 'rollback_failed');
    expect(failed?.type === 'rollback_failed' && failed.message).toMatch(/within 20s/);
    checkInvariants(r, result);
  });

  it('metrics with missing fields or nulls are no data, never healthy: the stage never passes', async () => {
    run = await startRun(reliabilityPlan());
    const r = run;
    // A relay answering 200 with nothing usable in it.
    const hollow: MetricsSource = {
      name: 'hollow',
      readMetrics: async (q) =>
        ({ version_tag: q.versionTag, request_count: 5000, error_rate: null }) as never,
    };
    const result = await execute(r, { metrics: hollow });
    expect(result).toMatchObject({ outcome: 'rolled_back', cause: 'insufficient_data', stage: 0 });
    expect(r.events.some((e) => e.type === 'stage_passed')).toBe(false);
    expect(r.patchedCanary).toEqual([5, 0]);
    checkInvariants(r, result);
  });
});
