/**
 * The Prometheus source without a Prometheus: query rendering, answers recorded from a real
 * Prometheus 2.42 replayed by a loopback stub, retries on the relay client's rules, and auth.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { PrometheusQueryName } from '../../src/domain/metrics.js';
import type { Plan } from '../../src/domain/plan.js';
import { checkTemplate, DEFAULT_QUERIES, promDuration, renderQuery } from '../../src/domain/promql.js';
import type { RelayPort, VersionMetrics } from '../../src/domain/relay.js';
import { CredentialsError, RelayError, UsageError } from '../../src/errors.js';
import { createIo } from '../../src/io.js';
import { createMetricsSource } from '../../src/metrics/index.js';
import { createPrometheusSource, parseQueryAnswer } from '../../src/metrics/prometheus.js';
import { undiciTransport } from '../../src/relay/undici-transport.js';
import { startStub } from '../relay/stub-server.js';

/** Answers recorded from `prometheus` 2.42.0 (Debian), trimmed only in their timestamps. */
const RECORDED = {
  vector:
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795260167.500,"0.05"]}]}}',
  emptyVector: '{"status":"success","data":{"resultType":"vector","result":[]}}',
  nanVector:
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795260167.500,"NaN"]}]}}',
  infVector:
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795260162.500,"+Inf"]}]}}',
  nanScalar: '{"status":"success","data":{"resultType":"scalar","result":[1795260162.5,"NaN"]}}',
  twoSeries:
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a:9090","job":"self"},"value":[1795260167.500,"1"]},{"metric":{"__name__":"up","instance":"b:9090","job":"self"},"value":[1795260167.500,"0"]}]}}',
  matrix: '{"status":"success","data":{"resultType":"matrix","result":[]}}',
  badData:
    '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:7: parse error: unclosed left parenthesis"}',
  // Shapes from the HTTP API documentation: execution errors answer 422, overload 503.
  execution: '{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}',
  unavailable: '{"status":"error","errorType":"unavailable","error":"Prometheus is shutting down"}',
};

const TAG = 'claude-sonnet-4-5-v2';
const ROUTE = 'code-review-production';
const END = Date.UTC(2026, 10, 21, 10, 5, 0);
const START = END - 5 * 60_000;

describe('PromQL templates', () => {
  it('fills every placeholder, spaced or not, and escapes label values', () => {
    const out = renderQuery('a{v="{{version_tag}}",r="{{ route }}"}[{{window}}] {{window }}', {
      versionTag: TAG,
      route: 'we"ird\\route',
      windowMs: 300_000,
    });
    expect(out).toBe(`a{v="${TAG}",r="we\\"ird\\\\route"}[300s] 300s`);
  });

  it('writes windows in seconds when whole, else in milliseconds', () => {
    expect(promDuration(60_000)).toBe('60s');
    expect(promDuration(1_500)).toBe('1500ms');
    expect(promDuration(0)).toBe('1ms');
  });

  it('renders the defaults into queries that select the version and route over the window', () => {
    const q = renderQuery(DEFAULT_QUERIES.error_rate, { versionTag: TAG, route: ROUTE, windowMs: 120_000 });
    expect(q).toBe(
      `(sum(increase(relay_requests_total{route="${ROUTE}",version_tag="${TAG}",status="error"}[120s])) or vector(0)) / sum(increase(relay_requests_total{route="${ROUTE}",version_tag="${TAG}"}[120s]))`,
    );
    for (const template of Object.values(DEFAULT_QUERIES)) {
      expect(checkTemplate('x', template)).toEqual([]);
      expect(renderQuery(template, { versionTag: TAG, route: ROUTE, windowMs: 1000 })).not.toContain('{{');
    }
  });

  it('refuses to guess a route it was not given', () => {
    expect(() => renderQuery('x{r="{{route}}"}', { versionTag: TAG, windowMs: 1000 })).toThrow(/no route/);
  });

  it('finds unknown placeholders and a missing {{version_tag}}', () => {
    const problems = checkTemplate('request_count', 'sum(x{r="{{route}}"}[{{ span }}])');
    expect(problems.map((p) => [p.use?.text, p.use?.index])).toEqual([
      ['{{ span }}', 21],
      [undefined, undefined],
    ]);
    expect(problems[1]?.message).toMatch(/has no \{\{version_tag\}\}/);
  });
});

describe('parseQueryAnswer on recorded answers', () => {
  it.each([
    ['a one-sample vector is the number', 200, RECORDED.vector, { ok: true, value: 0.05 }],
    ['an empty vector is no data', 200, RECORDED.emptyVector, { ok: true, value: null, note: 'no series' }],
    ['NaN (0/0: no requests) is no data', 200, RECORDED.nanVector, { ok: true, value: null, note: 'NaN' }],
    ['a NaN scalar is no data', 200, RECORDED.nanScalar, { ok: true, value: null, note: 'NaN' }],
    [
      '+Inf (above the top bucket) is no data',
      200,
      RECORDED.infVector,
      { ok: true, value: null, note: '+Inf' },
    ],
  ])('%s', (_name, status, text, expected) => {
    expect(parseQueryAnswer(status, text)).toEqual(expected);
  });

  it.each([
    ['bad PromQL', 400, RECORDED.badData, 'bad_data', /parse error: unclosed left parenthesis/],
    ['an execution error', 422, RECORDED.execution, 'execution', /many-to-many/],
    ['Prometheus unavailable', 503, RECORDED.unavailable, 'unavailable', /HTTP 503/],
    ['more than one series', 200, RECORDED.twoSeries, 'ambiguous_result', /2 series.*sum\(/],
    ['a range vector', 200, RECORDED.matrix, 'bad_query', /range vector/],
    ['HTML from a proxy', 502, '<html>Bad Gateway</html>', 'http_error', /HTTP 502: <html>Bad Gateway/],
    ['an empty 200', 200, '', 'invalid_response', /empty body/],
    [
      'JSON of the wrong shape',
      200,
      '{"status":"success","data":{"resultType":"vector","result":[{"value":[1,{}]}]}}',
      'invalid_response',
      /malformed/,
    ],
    ['a non-object', 200, '42', 'invalid_response', /not a JSON object/],
    [
      'a number that is not one',
      200,
      '{"status":"success","data":{"resultType":"scalar","result":[1,"abc"]}}',
      'invalid_response',
      /malformed scalar/,
    ],
  ])('fails on %s', (_name, status, text, type, message) => {
    const answer = parseQueryAnswer(status, text);
    expect(answer.ok).toBe(false);
    if (answer.ok) return;
    expect(answer.type).toBe(type);
    expect(answer.message).toMatch(message);
  });
});

type Answer = { status: number; body: string } | 'reset';

/** A stub Prometheus: `answer(metric, attempt)` decides each reply; the metric is found from the query. */
async function stubPrometheus(answer: (metric: PrometheusQueryName, attempt: number) => Answer) {
  const attempts = new Map<string, number>();
  const metricOf = (query: string): PrometheusQueryName => {
    if (query.includes('status="error"')) return 'error_rate';
    if (query.startsWith('histogram_quantile(0.5,')) return 'latency_p50_ms';
    if (query.startsWith('histogram_quantile(0.99,')) return 'latency_p99_ms';
    if (query.includes('relay_cost_dollars_total')) return 'cost_per_token';
    return 'request_count';
  };
  const stub = await startStub((call, res: ServerResponse) => {
    const url = new URL(call.url, 'http://stub');
    const metric = metricOf(url.searchParams.get('query') ?? '');
    const n = (attempts.get(metric) ?? 0) + 1;
    attempts.set(metric, n);
    const reply = answer(metric, n);
    if (reply === 'reset') {
      res.socket?.destroy();
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(reply.body);
  });
  return { ...stub, url: `http://127.0.0.1:${stub.port}`, attempts };
}

const vector = (value: string) =>
  JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: [{ metric: {}, value: [END / 1000, value] }] },
  });

const HEALTHY: Record<PrometheusQueryName, string> = {
  request_count: vector('1834.4'),
  error_rate: vector('0.00654'),
  latency_p50_ms: vector('412.5'),
  latency_p99_ms: vector('2210'),
  cost_per_token: vector('0.0000148'),
};

let closeAll: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closeAll) await close();
  closeAll = [];
});

function source(url: string, extra: Partial<Parameters<typeof createPrometheusSource>[0]> = {}) {
  const s = createPrometheusSource({
    url,
    queries: DEFAULT_QUERIES,
    clock: new FakeClock(),
    random: () => 0.5,
    transport: undiciTransport,
    ...extra,
  });
  closeAll.push(() => s.close());
  return s;
}

describe('the Prometheus metrics source', () => {
  it('runs each query at the window end and maps the answers to version metrics', async () => {
    const prom = await stubPrometheus((metric) => ({ status: 200, body: HEALTHY[metric] }));
    closeAll.push(prom.close);
    const metrics = await source(`${prom.url}/`).readMetrics({
      versionTag: TAG,
      start: START,
      end: END,
      route: ROUTE,
    });
    expect(metrics).toEqual<VersionMetrics>({
      version_tag: TAG,
      start_time: '2026-11-21T10:00:00.000Z',
      end_time: '2026-11-21T10:05:00.000Z',
      request_count: 1834,
      error_count: 12,
      error_rate: 0.00654,
      latency_p50_ms: 412.5,
      latency_p99_ms: 2210,
      cost_per_token: 0.0000148,
    });
    expect(prom.calls).toHaveLength(5);
    for (const call of prom.calls) {
      const url = new URL(call.url, 'http://stub');
      expect(call.method).toBe('GET');
      expect(url.pathname).toBe('/api/v1/query');
      expect(url.searchParams.get('time')).toBe(String(END / 1000).concat('.000'));
      expect(url.searchParams.get('query')).toContain(`route="${ROUTE}",version_tag="${TAG}"`);
      expect(url.searchParams.get('query')).toContain('[300s]');
      expect(call.headers.authorization).toBeUndefined();
    }
  });

  it('keeps a path prefix (Prometheus behind a proxy at /prometheus)', async () => {
    const prom = await stubPrometheus((metric) => ({ status: 200, body: HEALTHY[metric] }));
    closeAll.push(prom.close);
    await source(`${prom.url}/prometheus`).readMetrics({
      versionTag: TAG,
      start: START,
      end: END,
      route: ROUTE,
    });
    expect(prom.calls.every((c) => c.url.startsWith('/prometheus/api/v1/query?'))).toBe(true);
  });

  it('reads an empty vector or NaN as no data for that metric, never as healthy', async () => {
    const prom = await stubPrometheus((metric) => ({
      status: 200,
      body:
        metric === 'request_count'
          ? vector('0')
          : metric === 'latency_p99_ms'
            ? RECORDED.infVector
            : metric === 'error_rate'
              ? RECORDED.nanVector
              : RECORDED.emptyVector,
    }));
    closeAll.push(prom.close);
    const metrics = await source(prom.url).readMetrics({
      versionTag: TAG,
      start: START,
      end: END,
      route: ROUTE,
    });
    expect(metrics).toMatchObject({
      request_count: 0,
      error_count: null,
      error_rate: null,
      latency_p50_ms: null,
      latency_p99_ms: null,
      cost_per_token: null,
    });
  });

  it('fails the whole read on a query error, at once (a bad query does not heal), naming the metric', async () => {
    const prom = await stubPrometheus((metric) =>
      metric === 'latency_p99_ms'
        ? { status: 400, body: RECORDED.badData }
        : { status: 200, body: HEALTHY[metric] },
    );
    closeAll.push(prom.close);
    const error = await source(prom.url)
      .readMetrics({ versionTag: TAG, start: START, end: END, route: ROUTE })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).type).toBe('bad_data');
    expect((error as RelayError).message).toMatch(
      /^GET \/api\/v1\/query \(latency_p99_ms\): bad_data \(HTTP 400\): .*unclosed left parenthesis came back from Prometheus at http:\/\/127\.0\.0\.1:\d+\.$/,
    );
    expect((error as RelayError).hint).toMatch(/latency_p99_ms query/);
    expect(prom.attempts.get('latency_p99_ms')).toBe(1);
  });

  it('fails on a malformed 200 without retrying it', async () => {
    const prom = await stubPrometheus((metric) =>
      metric === 'cost_per_token' ? { status: 200, body: '<html>' } : { status: 200, body: HEALTHY[metric] },
    );
    closeAll.push(prom.close);
    await expect(
      source(prom.url).readMetrics({ versionTag: TAG, start: START, end: END, route: ROUTE }),
    ).rejects.toThrow(/\(cost_per_token\): a body that is not JSON/);
    expect(prom.attempts.get('cost_per_token')).toBe(1);
  });

  it('retries 503 and dropped connections with backoff, like the relay client', async () => {
    const prom = await stubPrometheus((metric, attempt) => {
      if (metric === 'error_rate' && attempt === 1) return { status: 503, body: RECORDED.unavailable };
      if (metric === 'request_count' && attempt === 1) return 'reset';
      return { status: 200, body: HEALTHY[metric] };
    });
    closeAll.push(prom.close);
    const metrics = await source(prom.url).readMetrics({
      versionTag: TAG,
      start: START,
      end: END,
      route: ROUTE,
    });
    expect(metrics.error_rate).toBe(0.00654);
    expect(metrics.request_count).toBe(1834);
    expect(prom.attempts.get('error_rate')).toBe(2);
    expect(prom.attempts.get('request_count')).toBe(2);
  });

  it('gives up on an unreachable Prometheus after the retry budget with a failed read', async () => {
    const prom = await stubPrometheus(() => ({ status: 200, body: '' }));
    const url = prom.url;
    await prom.close(); // nothing listens there now
    const error = await source(url, { retry: { maxAttempts: 3 } })
      .readMetrics({ versionTag: TAG, start: START, end: END, route: ROUTE })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).type).toBe('network_error');
    expect((error as RelayError).message).toMatch(/ECONNREFUSED.*after 3 attempts/);
    expect((error as RelayError).hint).toMatch(/analysis\.prometheus\.url/);
  });

  it('sends a bearer token or basic auth, and never shows either even when echoed', async () => {
    const token = 'prom-token-9f8e7d6c';
    const prom = await stubPrometheus(() => ({ status: 401, body: `unauthorized: Bearer ${token}` }));
    closeAll.push(prom.close);
    const error = await source(prom.url, { auth: { kind: 'bearer', token, source: 'env PROM_TOKEN' } })
      .readMetrics({ versionTag: TAG, start: START, end: END, route: ROUTE })
      .catch((e: unknown) => e);
    expect(prom.calls[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect((error as RelayError).message).toContain('HTTP 401');
    expect((error as RelayError).message).not.toContain(token);
    expect((error as RelayError).hint).toContain('env PROM_TOKEN');

    const basic = await stubPrometheus((metric) => ({ status: 200, body: HEALTHY[metric] }));
    closeAll.push(basic.close);
    await source(basic.url, {
      auth: { kind: 'basic', username: 'canary', password: 's3cret-pass', source: 'x' },
    }).readMetrics({ versionTag: TAG, start: START, end: END, route: ROUTE });
    expect(basic.calls[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('canary:s3cret-pass').toString('base64')}`,
    );
  });
});

describe('createMetricsSource', () => {
  const io = (env: Record<string, string> = {}) =>
    createIo({
      stdout: { write: () => true },
      stderr: { write: () => true },
      stdin: process.stdin,
      env,
      cwd: '/',
    });
  const plan = (prometheus?: Plan['analysis']['prometheus']) =>
    ({
      analysis: prometheus ? { provider: 'prometheus', prometheus } : {},
    }) as unknown as Plan;
  const relay = {
    name: 'relay',
    readMetrics: async () => ({ version_tag: 'from-relay' }),
  } as unknown as RelayPort;

  it('uses the relay unless the plan says prometheus', async () => {
    const s = await createMetricsSource(plan(), { client: relay }, io());
    expect(s.name).toBe('relay');
    expect((await s.readMetrics({ versionTag: 'x', start: 0, end: 1 })).version_tag).toBe('from-relay');
  });

  it('reads the credential from its env var, registers it as a secret, and says which var is missing', async () => {
    const config = { url: 'http://127.0.0.1:9', queries: DEFAULT_QUERIES, bearerTokenEnv: 'PROM_TOKEN' };
    await expect(
      createMetricsSource(plan(config), { client: relay }, io(), { transport: undiciTransport }),
    ).rejects.toThrow(CredentialsError);
    await expect(
      createMetricsSource(plan(config), { client: relay }, io(), { transport: undiciTransport }),
    ).rejects.toThrow(/PROM_TOKEN is not set/);
    const withEnv = io({ PROM_TOKEN: 'tok-123456' });
    const s = await createMetricsSource(plan(config), { client: relay }, withEnv, {
      transport: undiciTransport,
    });
    closeAll.push(() => s.close());
    expect(s.name).toBe('prometheus');
    expect(s.description).toBe('prometheus at http://127.0.0.1:9');
    expect(withEnv.redact('x tok-123456 y')).toBe('x [REDACTED] y');
  });

  it('refuses credentials over plain http to another machine unless allowed', async () => {
    const config = { url: 'http://prom.example.com:9090', queries: DEFAULT_QUERIES, bearerTokenEnv: 'T' };
    await expect(
      createMetricsSource(plan(config), { client: relay }, io({ T: 'abcdef' }), {
        transport: undiciTransport,
      }),
    ).rejects.toThrow(UsageError);
    const s = await createMetricsSource(plan(config), { client: relay }, io({ T: 'abcdef' }), {
      allowInsecureHttp: true,
      transport: undiciTransport,
    });
    closeAll.push(() => s.close());
    expect(s.name).toBe('prometheus');
  });
});
