import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/emulator/index.js';
import { BASELINE, CANARY, type Harness, HOUR, MINUTE, startHarness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.emulator.close();
  h = undefined;
});

const within = (actual: number, expected: number, relative: number) => {
  expect(actual).toBeGreaterThan(expected * (1 - relative));
  expect(actual).toBeLessThan(expected * (1 + relative));
};

describe('metrics from simulated traffic', () => {
  it('reports the configured error rate, latency percentiles and cost on a large sample', async () => {
    h = await startHarness({
      rps: 200,
      scenario: {
        versions: {
          [BASELINE]: {
            error_rate: 0.02,
            latency_p50_ms: 500,
            latency_p99_ms: 2500,
            cost_per_token: 0.00002,
          },
        },
      },
    });
    await h.registerBoth();
    const t0 = h.clock.now();
    await h.createRoute(0);
    h.clock.advance(4 * HOUR);
    const m = await h.metrics(BASELINE, t0, h.clock.now());
    within(m.request_count, 200 * 4 * 3600, 0.01);
    expect(m.error_count).toBe(Math.round(m.error_rate * m.request_count));
    within(m.error_rate, 0.02, 0.03);
    within(m.latency_p50_ms, 500, 0.05);
    within(m.latency_p99_ms, 2500, 0.08);
    within(m.cost_per_token, 0.00002, 0.01);
    expect(m).toMatchObject({
      version_tag: BASELINE,
      start_time: '2026-11-21T10:00:00Z',
      end_time: '2026-11-21T14:00:00Z',
    });
  });

  it('splits request counts by weight, and a weight change takes effect when it is made', async () => {
    h = await startHarness({ rps: 400 });
    await h.registerBoth();
    const t0 = h.clock.now();
    await h.createRoute(5);
    h.clock.advance(30 * MINUTE);
    const t1 = h.clock.now();
    await h.setWeight(25);
    h.clock.advance(30 * MINUTE);
    const t2 = h.clock.now();

    const canaryBefore = await h.metrics(CANARY, t0, t1);
    const baselineBefore = await h.metrics(BASELINE, t0, t1);
    const canaryAfter = await h.metrics(CANARY, t1, t2);
    within(canaryBefore.request_count, 400 * 0.05 * 1800, 0.03);
    within(baselineBefore.request_count, 400 * 0.95 * 1800, 0.02);
    within(canaryAfter.request_count, 400 * 0.25 * 1800, 0.03);
    within(canaryAfter.request_count / canaryBefore.request_count, 5, 0.05);

    // 1 s buckets: a 10 s window straddling the change sees only its own share of traffic.
    const straddle = await h.metrics(CANARY, t1 - 5_000, t1 + 5_000);
    within(straddle.request_count, 400 * (0.05 * 5 + 0.25 * 5), 0.2);
  });

  it('answers windows older than the 1 s buckets from the coarser ones', async () => {
    h = await startHarness({ rps: 100 });
    await h.registerBoth();
    const t0 = h.clock.now();
    await h.createRoute(50);
    h.clock.advance(5 * HOUR);
    const old = await h.metrics(CANARY, t0 + HOUR + 30_000, t0 + 2 * HOUR + 30_000);
    within(old.request_count, 100 * 0.5 * 3600, 0.03);
    const day = await h.metrics(CANARY, h.clock.now() - 24 * HOUR, h.clock.now());
    within(day.request_count, 100 * 0.5 * 5 * 3600, 0.02);
  });

  it('reports no data, never healthy, when a version had no requests in the window', async () => {
    h = await startHarness();
    await h.registerBoth();
    const t0 = h.clock.now();
    await h.createRoute(0);
    h.clock.advance(10 * MINUTE);
    const m = await h.metrics(CANARY, t0, h.clock.now());
    expect(m).toEqual({
      version_tag: CANARY,
      start_time: '2026-11-21T10:00:00Z',
      end_time: '2026-11-21T10:10:00Z',
      request_count: 0,
      error_count: 0,
      error_rate: null,
      latency_p50_ms: null,
      latency_p99_ms: null,
      cost_per_token: null,
    });
    // Before the route existed, the baseline had no traffic either.
    const before = await h.metrics(BASELINE, t0 - HOUR, t0);
    expect(before.request_count).toBe(0);
    expect(before.error_rate).toBeNull();
  });

  it('returns only the requested metrics', async () => {
    h = await startHarness();
    await h.registerBoth();
    await h.createRoute(50);
    h.clock.advance(MINUTE);
    const q = new URLSearchParams({
      version_tag: CANARY,
      start_time: new Date(h.clock.now() - MINUTE).toISOString(),
      end_time: new Date(h.clock.now()).toISOString(),
      metrics: 'request_count,error_rate',
    });
    const res = await h.call('GET', `/metrics/versions?${q}`);
    expect(Object.keys(res.body).sort()).toEqual(
      ['version_tag', 'start_time', 'end_time', 'request_count', 'error_count', 'error_rate'].sort(),
    );
  });
});

describe('metrics query validation', () => {
  const now = Date.UTC(2026, 10, 21, 10, 0, 0);
  const iso = (ms: number) => new Date(ms).toISOString();
  const cases: [string, Record<string, string>, number, string | undefined][] = [
    ['end before start', { start_time: iso(now), end_time: iso(now - 1) }, 422, 'end_time'],
    ['a window over 24 h', { start_time: iso(now - 24 * HOUR - 1000), end_time: iso(now) }, 422, 'end_time'],
    ['unparsable start', { start_time: 'yesterday', end_time: iso(now) }, 422, 'start_time'],
    ['unparsable end', { start_time: iso(now - HOUR), end_time: '2026-13-45T99:00:00Z' }, 422, 'end_time'],
    ['missing start', { end_time: iso(now) }, 422, 'start_time'],
    [
      'missing version',
      { version_tag: '', start_time: iso(now - HOUR), end_time: iso(now) },
      422,
      'version_tag',
    ],
    [
      'an unknown metric',
      { start_time: iso(now - HOUR), end_time: iso(now), metrics: 'vibes' },
      422,
      'metrics',
    ],
    [
      'an unknown version',
      { version_tag: 'nope', start_time: iso(now - HOUR), end_time: iso(now) },
      404,
      undefined,
    ],
  ];
  it.each(cases)('rejects %s', async (_what, params, status, field) => {
    h = await startHarness();
    await h.registerBoth();
    const q = new URLSearchParams({ version_tag: CANARY, ...params });
    const res = await h.call('GET', `/metrics/versions?${q}`);
    expect(res.status).toBe(status);
    expect(res.body.error.type).toBe(status === 404 ? 'not_found' : 'validation_error');
    expect(res.body.error.field).toBe(field);
  });

  it('accepts exactly 24 h and offsets other than Z', async () => {
    h = await startHarness();
    await h.registerBoth();
    const q = new URLSearchParams({
      version_tag: CANARY,
      start_time: '2026-11-20T11:00:00+01:00',
      end_time: '2026-11-21T10:00:00Z',
    });
    const res = await h.call('GET', `/metrics/versions?${q}`);
    expect(res.status).toBe(200);
    expect(res.body.start_time).toBe('2026-11-20T10:00:00Z');
  });
});

describe('scenarios and behaviour changes', () => {
  it('breaks the canary of failing.yaml at weight 25 but not at 5', async () => {
    h = await startHarness({ scenario: 'examples/scenarios/failing.yaml', rps: 1000 });
    await h.registerBoth();
    await h.createRoute(5);
    h.clock.advance(20 * MINUTE);
    const atFive = await h.metrics(CANARY, h.clock.now() - 20 * MINUTE, h.clock.now());
    expect(atFive.error_rate).toBeLessThan(0.01);
    expect(atFive.latency_p99_ms).toBeLessThan(2200);

    await h.setWeight(25);
    h.clock.advance(20 * MINUTE);
    const atTwentyFive = await h.metrics(CANARY, h.clock.now() - 20 * MINUTE, h.clock.now());
    within(atTwentyFive.error_rate, 0.09, 0.08);
    within(atTwentyFive.latency_p99_ms, 4200, 0.1);
    const baseline = await h.metrics(BASELINE, h.clock.now() - 20 * MINUTE, h.clock.now());
    expect(baseline.error_rate).toBeLessThan(0.01);
  });

  it('applies an `after` change once that much time has passed', async () => {
    const scenario = await loadScenario('examples/scenarios/failing.yaml');
    h = await startHarness({ scenario, rps: 400 });
    await h.registerBoth();
    await h.createRoute(10);
    h.clock.advance(HOUR);
    const early = await h.metrics(CANARY, h.clock.now() - 30 * MINUTE, h.clock.now());
    within(early.latency_p50_ms, 380, 0.06);
    h.clock.advance(90 * MINUTE);
    const late = await h.metrics(CANARY, h.clock.now() - 30 * MINUTE, h.clock.now());
    within(late.latency_p50_ms, 900, 0.06);
    expect(h.emulator.control.behaviour(CANARY, 10).latency_p50_ms).toBe(900);
  });

  it('changes behaviour from now on through PUT /_emulator/versions/{tag}/behaviour', async () => {
    h = await startHarness({ rps: 400 });
    await h.registerBoth();
    await h.createRoute(50);
    h.clock.advance(30 * MINUTE);
    const put = await h.call('PUT', `/_emulator/versions/${CANARY}/behaviour`, {
      origin: true,
      body: { error_rate: 0.2 },
    });
    expect(put.status).toBe(200);
    expect(put.body.behaviour).toMatchObject({ error_rate: 0.2, latency_p50_ms: 400 });
    h.clock.advance(30 * MINUTE);
    const before = await h.metrics(CANARY, h.clock.now() - HOUR, h.clock.now() - 30 * MINUTE);
    const after = await h.metrics(CANARY, h.clock.now() - 30 * MINUTE, h.clock.now());
    expect(before.error_rate).toBeLessThan(0.01);
    within(after.error_rate, 0.2, 0.05);

    const bad = await h.call('PUT', `/_emulator/versions/${CANARY}/behaviour`, {
      origin: true,
      body: { error_rate: 3 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.field).toBe('error_rate');
  });

  it('is reproducible with the same seed', async () => {
    const run = async () => {
      const one = await startHarness({ seed: 9, rps: 300 });
      await one.registerBoth();
      await one.createRoute(5);
      one.clock.advance(10 * MINUTE);
      const m = await one.metrics(CANARY, one.clock.now() - 10 * MINUTE, one.clock.now());
      await one.emulator.close();
      return m;
    };
    expect(await run()).toEqual(await run());
  });
});
