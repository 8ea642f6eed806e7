/**
 * The emulator's `GET /metrics`: Prometheus text that agrees with its metrics API, read from
 * running totals that only grow, advanced to now on every scrape.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TOKENS_PER_REQUEST } from '../../src/emulator/prometheus.js';
import { BASELINE, CANARY, type Harness, MINUTE, ROUTE, startHarness } from '../emulator/helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.emulator.close();
  h = undefined;
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Enough of the text format for what the emulator writes: one sample per line, no timestamps. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] && type[2]) types.set(type[1], type[2]);
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || match[3] === undefined) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      if (pair[1] !== undefined && pair[2] !== undefined) labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return { samples, types };
}

function pick(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

function one(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = pick(samples, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples for ${name} ${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
}

/** Prometheus's histogram_quantile: linear interpolation inside the bucket. */
function histogramQuantile(q: number, buckets: Array<{ le: number; count: number }>): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  const rank = q * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      return (
        previous.le + ((bucket.le - previous.le) * (rank - previous.count)) / (bucket.count - previous.count)
      );
    }
    previous = bucket;
  }
  return Number.NaN;
}

async function scrape(harness: Harness): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${harness.emulator.origin}/metrics`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('emulator /metrics', () => {
  it('answers without a key, in the Prometheus text format, and is not logged as an API call', async () => {
    h = await startHarness();
    await h.registerBoth();
    await h.createRoute(10);
    const callsBefore = h.emulator.control.calls().length;
    const res = await scrape(h);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const { types } = parseExposition(res.text);
    expect(Object.fromEntries(types)).toEqual({
      relay_requests_total: 'counter',
      relay_cost_dollars_total: 'counter',
      relay_tokens_total: 'counter',
      relay_request_duration_seconds: 'histogram',
      relay_time_to_first_token_seconds: 'histogram',
      relay_rate_limited_total: 'counter',
    });
    expect(h.emulator.control.calls().length).toBe(callsBefore);
  });

  it('agrees with the metrics API: counts, errors, cost per token and latency percentiles', async () => {
    h = await startHarness({
      rps: 400,
      scenario: {
        versions: {
          [BASELINE]: {
            error_rate: 0.01,
            latency_p50_ms: 400,
            latency_p99_ms: 2000,
            cost_per_token: 0.00002,
          },
          [CANARY]: { error_rate: 0.08, latency_p50_ms: 900, latency_p99_ms: 5000, cost_per_token: 0.00003 },
        },
      },
    });
    await h.registerBoth();
    const t0 = h.clock.now();
    await h.createRoute(25);
    h.clock.advance(20 * MINUTE);
    const { samples } = parseExposition((await scrape(h)).text);

    for (const tag of [BASELINE, CANARY]) {
      const api = await h.metrics(tag, t0, h.clock.now());
      const labels = { route: ROUTE, version_tag: tag };
      const ok = one(samples, 'relay_requests_total', { ...labels, status: 'ok' });
      const errors = one(samples, 'relay_requests_total', { ...labels, status: 'error' });
      expect(ok + errors).toBe(api.request_count);
      expect(errors).toBe(api.error_count);

      const dollars = one(samples, 'relay_cost_dollars_total', labels);
      const tokens = one(samples, 'relay_tokens_total', labels);
      expect(tokens).toBe(api.request_count * TOKENS_PER_REQUEST);
      expect(dollars / tokens).toBeCloseTo(api.cost_per_token, 9);

      const buckets = pick(samples, 'relay_request_duration_seconds_bucket', labels).map((s) => ({
        le: s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le),
        count: s.value,
      }));
      expect(buckets.length).toBe(129);
      // Cumulative: never decreasing, and +Inf holds every request.
      for (let i = 1; i < buckets.length; i++) {
        expect(buckets[i]?.le).toBeGreaterThan(buckets[i - 1]?.le as number);
        expect(buckets[i]?.count).toBeGreaterThanOrEqual(buckets[i - 1]?.count as number);
      }
      expect(buckets[buckets.length - 1]?.count).toBe(api.request_count);
      expect(one(samples, 'relay_request_duration_seconds_count', labels)).toBe(api.request_count);
      const finite = buckets.filter((b) => Number.isFinite(b.le));
      // Linear (Prometheus) against geometric (the API) interpolation inside an ~11 % bin.
      expect(
        Math.abs(histogramQuantile(0.5, finite) * 1000 - api.latency_p50_ms) / api.latency_p50_ms,
      ).toBeLessThan(0.01);
      expect(
        Math.abs(histogramQuantile(0.99, finite) * 1000 - api.latency_p99_ms) / api.latency_p99_ms,
      ).toBeLessThan(0.01);
      const mean = one(samples, 'relay_request_duration_seconds_sum', labels) / api.request_count;
      expect(mean).toBeGreaterThan(api.latency_p50_ms / 1000);
      expect(mean).toBeLessThan(api.latency_p99_ms / 1000);
    }
  });

  it("time to first token has its median at the version's ttft_ms; 429s are rate_limit_rate of its requests", async () => {
    h = await startHarness({
      rps: 400,
      scenario: {
        versions: {
          [BASELINE]: { latency_p50_ms: 400, latency_p99_ms: 1800, answers: { ttft_ms: 100 } },
          [CANARY]: {
            latency_p50_ms: 400,
            latency_p99_ms: 1800,
            answers: { ttft_ms: 300, rate_limit_rate: 0.05 },
          },
        },
      },
    });
    await h.registerBoth();
    await h.createRoute(50);
    h.clock.advance(10 * MINUTE);
    const { samples } = parseExposition((await scrape(h)).text);
    for (const [tag, ttft, share] of [
      [BASELINE, 100, 0],
      [CANARY, 300, 0.05],
    ] as const) {
      const labels = { route: ROUTE, version_tag: tag };
      const buckets = pick(samples, 'relay_time_to_first_token_seconds_bucket', labels)
        .map((s) => ({
          le: s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le),
          count: s.value,
        }))
        .filter((b) => Number.isFinite(b.le));
      // Re-binned from the latency bins (~11 % wide): within a bin of the configured median.
      expect(Math.abs(histogramQuantile(0.5, buckets) * 1000 - ttft) / ttft).toBeLessThan(0.15);
      const requests =
        one(samples, 'relay_requests_total', { ...labels, status: 'ok' }) +
        one(samples, 'relay_requests_total', { ...labels, status: 'error' });
      expect(one(samples, 'relay_rate_limited_total', labels)).toBe(Math.floor(requests * share));
    }
  });

  it('advances the lazy simulation to now on each scrape; counters only grow, also past the ring buffers', async () => {
    h = await startHarness({ rps: 50 });
    await h.registerBoth();
    await h.createRoute(50);
    const read = async () =>
      one(parseExposition((await scrape(h as Harness)).text).samples, 'relay_requests_total', {
        route: ROUTE,
        version_tag: CANARY,
        status: 'ok',
      });
    const first = await read();
    expect(first).toBe(0); // the series exists from the start, at 0
    h.clock.advance(MINUTE);
    const second = await read();
    expect(second).toBeGreaterThan(0);
    // Two hours: the 1-second ring (1 h) has wrapped, the running total has not.
    h.clock.advance(2 * 60 * MINUTE);
    const third = await read();
    expect(third).toBeGreaterThan(second + 50 * 0.5 * 3600);
  });

  it('keeps a series per route: the same version on two routes is counted apart', async () => {
    h = await startHarness({ rps: 100 });
    await h.registerBoth();
    await h.createRoute(0);
    const res = await h.call('POST', '/routes/traffic', {
      body: { model_alias: 'other-route', route_rules: [{ version_tag: BASELINE, weight: 100 }] },
    });
    expect(res.status).toBe(201);
    const t0 = h.clock.now();
    h.clock.advance(5 * MINUTE);
    const { samples } = parseExposition((await scrape(h)).text);
    const count = (route: string) =>
      pick(samples, 'relay_requests_total', { route, version_tag: BASELINE }).reduce(
        (n, s) => n + s.value,
        0,
      );
    const api = await h.metrics(BASELINE, t0, h.clock.now());
    expect(count(ROUTE)).toBeGreaterThan(0);
    expect(count('other-route')).toBeGreaterThan(0);
    expect(count(ROUTE) + count('other-route')).toBe(api.request_count);
  });
});
