/**
 * The engine with the Prometheus source as `deps.metrics` (a loopback stub standing in for
 * Prometheus, virtual time): numbers come from PromQL, and a Prometheus that errors is the
 * same fail-safe case as an unreadable relay: max_metric_errors failed reads, then rollback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_QUERIES } from '../../src/domain/promql.js';
import { createPrometheusSource, type PrometheusSource } from '../../src/metrics/prometheus.js';
import { undiciTransport } from '../../src/relay/undici-transport.js';
import { startStub } from '../relay/stub-server.js';
import { BASE, CANARY, harness, MIN, ROUTE } from '../rollout/harness.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

const vector = (value: number) =>
  JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: [{ metric: {}, value: [0, String(value)] }] },
  });

/** Healthy numbers per query, or a Prometheus error for every query. */
async function prometheus(mode: 'healthy' | 'broken') {
  const stub = await startStub((call, res) => {
    const query = new URL(call.url, 'http://stub').searchParams.get('query') ?? '';
    if (mode === 'broken') {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(
        '{"status":"error","errorType":"execution","error":"query processing would load too many samples"}',
      );
      return;
    }
    let value = 1000;
    if (query.includes('status="error"')) value = 0.005;
    else if (query.startsWith('histogram_quantile(0.5,')) value = 300;
    else if (query.startsWith('histogram_quantile(0.99,')) value = 1200;
    else if (query.includes('relay_cost_dollars_total')) value = 0.00001;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(vector(value));
  });
  cleanup.push(stub.close);
  return stub;
}

function source(port: number, clock: import('../../src/clock.js').Clock): PrometheusSource {
  const s = createPrometheusSource({
    url: `http://127.0.0.1:${port}`,
    queries: DEFAULT_QUERIES,
    clock,
    transport: undiciTransport,
  });
  cleanup.push(() => s.close());
  return s;
}

describe('the engine reading from Prometheus', () => {
  it('promotes on the numbers Prometheus gives, never asking the relay for metrics', async () => {
    const h = harness({ stages: [{ weight: 5, bakeMs: 2 * MIN }, { weight: 100 }] });
    h.relay.addVersion(BASE);
    h.relay.addVersion(CANARY);
    h.relay.addRoute(ROUTE, [{ version_tag: BASE, weight: 100 }]);
    const prom = await prometheus('healthy');
    const result = await h.run({ metrics: source(prom.port, h.clock) });
    expect(result.outcome).toBe('promoted');
    expect(h.of('rollout_started')[0]?.metricsSource).toBe('prometheus');
    expect(h.relay.calls.some((c) => c.op === 'readMetrics')).toBe(false);
    const judged = h.of('evaluation').filter((e) => e.evaluation.verdict === 'pass');
    expect(judged[0]?.evaluation.canary).toMatchObject({
      request_count: 1000,
      error_count: 5,
      latency_p99_ms: 1200,
    });
    // Each query named this route, the version judged, and the window as a range.
    const queries = prom.calls.map((c) => new URL(c.url, 'http://stub').searchParams.get('query') ?? '');
    expect(queries.some((q) => q.includes(`route="${ROUTE}",version_tag="${CANARY}"`))).toBe(true);
    expect(queries.some((q) => q.includes(`route="${ROUTE}",version_tag="${BASE}"`))).toBe(true);
  });

  it('counts Prometheus errors as failed reads and rolls back after max_metric_errors', async () => {
    const h = harness({ analysis: { maxMetricErrors: 3 } });
    h.relay.addVersion(BASE);
    h.relay.addVersion(CANARY);
    h.relay.addRoute(ROUTE, [{ version_tag: BASE, weight: 100 }]);
    const prom = await prometheus('broken');
    const result = await h.run({ metrics: source(prom.port, h.clock) });
    expect(result.outcome).toBe('rolled_back');
    expect(result.exitCode).toBe(3);
    const errors = h.of('metrics_error');
    expect(errors.map((e) => e.consecutive)).toEqual([1, 2, 3]);
    expect(errors[0]?.message).toMatch(/reading metrics failed: .*execution \(HTTP 422\).*too many samples/);
    const patches = h.relay.patches.map((p) => p.rules?.find((r) => r.version_tag === CANARY)?.weight);
    expect(patches).toEqual([5, 0]);
  });
});
