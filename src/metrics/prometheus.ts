/**
 * Per-version metrics from Prometheus: one instant query per metric through `/api/v1/query`,
 * evaluated at the window's end, with the relay client's retry and timeout rules. An empty
 * answer or NaN is "no data" for that metric; a query error or an unreachable Prometheus
 * fails the whole read, which the engine counts towards `max_metric_errors` (fail safe).
 */

import { type Clock, systemClock } from '../clock.js';
import type { PrometheusQueryName } from '../domain/metrics.js';
import { renderQuery } from '../domain/promql.js';
import type { CallOptions, MetricsQuery, MetricsSource, VersionMetrics } from '../domain/relay.js';
import { RelayError } from '../errors.js';
import { formatDuration } from '../format.js';
import { sendWithRetries } from '../relay/attempts.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../relay/retry.js';
import { DEFAULT_LIMITS, type TransportFactory } from '../relay/transport.js';
import { VERSION } from '../version.js';

export type PrometheusAuth =
  | { kind: 'bearer'; token: string; source: string }
  | { kind: 'basic'; username: string; password: string; source: string };

export interface PrometheusSourceOptions {
  /** Base URL of the server, e.g. http://prometheus:9090 (the API is under /api/v1). */
  url: string;
  queries: Record<PrometheusQueryName, string>;
  auth?: PrometheusAuth | undefined;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /** Jitter source in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
  /**
   * How queries reach Prometheus: the command's own choice, as for the relay (rollout: undici's
   * pool; status: plain sockets), so a short command's bundle need not carry undici.
   */
  transport: TransportFactory;
}

export interface PrometheusSource extends MetricsSource {
  readonly name: 'prometheus';
  readonly url: string;
  /**
   * One user-defined query (`analysis.metrics:`), placeholders filled for the version and the
   * window, evaluated at the window's end: a number, or null for no data; throws like a read.
   */
  readQuery(name: string, template: string, q: MetricsQuery, call?: CallOptions): Promise<number | null>;
  close(): Promise<void>;
}

/** What one query's answer means: a number, no data, or a failure to explain. */
export type QueryAnswer =
  | { ok: true; value: number | null; note?: string }
  | { ok: false; type: string; message: string };

const OPERATION = 'GET /api/v1/query';
const REDACTED = '[REDACTED]';

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

/** A sample value as Prometheus writes it ("1.5", "NaN", "+Inf"); only a finite, non-negative one is data. */
function sampleValue(raw: unknown): { value: number | null; note?: string } | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const text = String(raw).trim();
  if (/^nan$/i.test(text)) return { value: null, note: 'NaN' };
  // +Inf is what histogram_quantile answers above the top bucket; the analysis cannot judge it.
  if (/^[+-]?inf$/i.test(text)) return { value: null, note: text };
  const value = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) return undefined;
  if (value < 0) return { value: null, note: `negative (${text})` };
  return { value };
}

/**
 * Reads one `/api/v1/query` answer. Pure, so recorded answers can be replayed in tests.
 * @param status the HTTP status
 * @param text the body
 */
export function parseQueryAnswer(status: number, text: string): QueryAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (status < 200 || status >= 300) {
      return {
        ok: false,
        type: 'http_error',
        message: `HTTP ${status}${text.trim() ? `: ${snippet(text)}` : ''}`,
      };
    }
    return {
      ok: false,
      type: 'invalid_response',
      message: text.trim() === '' ? 'an empty body' : `a body that is not JSON ("${snippet(text)}")`,
    };
  }
  const b = body as {
    status?: unknown;
    errorType?: unknown;
    error?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  if (typeof b !== 'object' || b === null) {
    return { ok: false, type: 'invalid_response', message: 'an answer that is not a JSON object' };
  }
  if (b.status === 'error' || status < 200 || status >= 300) {
    const type = typeof b.errorType === 'string' ? b.errorType : 'http_error';
    const said = typeof b.error === 'string' ? b.error : snippet(text);
    return { ok: false, type, message: `${type} (HTTP ${status}): ${said}` };
  }
  if (b.status !== 'success' || typeof b.data !== 'object' || b.data === null) {
    return { ok: false, type: 'invalid_response', message: 'an answer without status "success" and data' };
  }
  const { resultType, result } = b.data;
  if (resultType === 'scalar') {
    const sample = Array.isArray(result) ? sampleValue(result[1]) : undefined;
    if (!sample) return { ok: false, type: 'invalid_response', message: 'a malformed scalar' };
    return { ok: true, ...sample };
  }
  if (resultType === 'vector') {
    if (!Array.isArray(result))
      return { ok: false, type: 'invalid_response', message: 'a vector that is not a list' };
    if (result.length === 0) return { ok: true, value: null, note: 'no series' };
    if (result.length > 1) {
      return {
        ok: false,
        type: 'ambiguous_result',
        message: `the query returned ${result.length} series where one number was expected; aggregate it, e.g. sum(...)`,
      };
    }
    const value = (result[0] as { value?: unknown } | null)?.value;
    const sample = Array.isArray(value) ? sampleValue(value[1]) : undefined;
    if (!sample) return { ok: false, type: 'invalid_response', message: 'a malformed vector sample' };
    return { ok: true, ...sample };
  }
  if (resultType === 'matrix') {
    return {
      ok: false,
      type: 'bad_query',
      message:
        'the query returned a range vector; wrap the [range] selector in a function such as increase(...)',
    };
  }
  return {
    ok: false,
    type: 'invalid_response',
    message: `an unexpected result type ${JSON.stringify(resultType)}`,
  };
}

/** Per-attempt timeouts for a Prometheus read; a rollout's own deadline bounds the whole call. */
export const PROMETHEUS_TIMEOUTS = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };

export function createPrometheusSource(options: PrometheusSourceOptions): PrometheusSource {
  const prom = connectPrometheus(options);
  return {
    name: 'prometheus',
    url: prom.shownUrl,
    readMetrics: (q, call) => readMetrics(prom, options.queries, q, call),
    readQuery: (name, template, q, call) => queryTemplate(prom, name, template, q, call),
    close: () => prom.transport.close(),
  };
}

/** What every query of one source shares: where Prometheus is, how to reach it, what to hide. */
interface Prometheus {
  transport: ReturnType<TransportFactory>;
  basePath: string;
  /** The base URL as messages show it. */
  shownUrl: string;
  headers: Record<string, string>;
  /** A server (or a proxy) echoing the Authorization header must not leak it. */
  scrub: (text: string) => string;
  auth: PrometheusAuth | undefined;
  clock: Clock;
  random: () => number;
  policy: RetryPolicy;
}

function connectPrometheus(options: PrometheusSourceOptions): Prometheus {
  const base = new URL(options.url);
  const timeouts = { ...PROMETHEUS_TIMEOUTS, ...options.timeouts };
  // The relay client's transport: the same timeouts, limits and failure codes.
  const transport = options.transport({
    origin: base.origin,
    connectTimeoutMs: timeouts.connectMs,
    headersTimeoutMs: timeouts.headersMs,
    bodyTimeoutMs: timeouts.bodyMs,
    // A read asks for five metrics at once.
    connections: 8,
    ...DEFAULT_LIMITS,
  });
  const basePath = base.pathname.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': `canary/${VERSION}` };
  const secrets: string[] = [];
  const auth = options.auth;
  if (auth?.kind === 'bearer') {
    headers.authorization = `Bearer ${auth.token}`;
    secrets.push(auth.token);
  } else if (auth?.kind === 'basic') {
    const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    headers.authorization = `Basic ${encoded}`;
    secrets.push(auth.password, encoded);
  }
  return {
    transport,
    basePath,
    shownUrl: `${base.origin}${basePath}`,
    headers,
    scrub: (text) =>
      secrets.reduce((out, secret) => (secret.length >= 4 ? out.split(secret).join(REDACTED) : out), text),
    auth,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    policy: { ...DEFAULT_RETRY_POLICY, ...options.retry },
  };
}

/** A failed query as a RelayError, with a hint at what to check. */
function failure(
  prom: Prometheus,
  metric: string,
  type: string,
  reason: string,
  attempts: number,
  cause?: unknown,
): RelayError {
  const { shownUrl } = prom;
  return new RelayError({
    message: prom.scrub(
      `${OPERATION} (${metric}): ${reason} from Prometheus at ${shownUrl}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}.`,
    ),
    type,
    operation: OPERATION,
    hint:
      type === 'network_error' || type === 'timeout'
        ? `Check that Prometheus is reachable at ${shownUrl} (analysis.prometheus.url).`
        : type === 'http_error' && (reason.includes('HTTP 401') || reason.includes('HTTP 403'))
          ? `Prometheus refused the credentials from ${prom.auth?.source ?? 'no credentials'}.`
          : `Check the ${metric} query in analysis.prometheus.queries.`,
    cause,
  });
}

/** One instant query with retries; resolves to the answer as Prometheus gave it. */
async function query(
  prom: Prometheus,
  metric: string,
  promql: string,
  timeSeconds: number,
  call?: CallOptions,
): Promise<number | null> {
  const deadlineMs = call?.deadlineMs ?? prom.policy.deadlineMs;
  const search = new URLSearchParams({ query: promql, time: timeSeconds.toFixed(3) });
  const last = await sendWithRetries({
    transport: prom.transport,
    method: 'GET',
    path: `${prom.basePath}/api/v1/query?${search}`,
    headers: prom.headers,
    signal: call?.signal,
    deadlineMs,
    clock: prom.clock,
    policy: prom.policy,
    random: prom.random,
  });
  if (last.kind === 'response') {
    // A 2xx that makes no sense was not retried: it will not make more sense the second time.
    const parsed = parseQueryAnswer(last.response.status, last.response.text);
    if (parsed.ok) return parsed.value;
    throw failure(prom, metric, parsed.type, `${parsed.message} came back`, last.attempts);
  }
  if (last.deadline) {
    throw failure(
      prom,
      metric,
      'timeout',
      `no answer within the ${formatDuration(deadlineMs)} deadline`,
      last.attempts,
      last.error,
    );
  }
  const raw = last.error instanceof Error ? last.error.message : String(last.error);
  throw failure(
    prom,
    metric,
    last.code?.includes('TIMEOUT') ? 'timeout' : 'network_error',
    `could not query: ${raw}${last.code ? ` (${last.code})` : ''}`,
    last.attempts,
    last.error,
  );
}

/** A query template filled for the version and the window, evaluated at the window's end. */
async function queryTemplate(
  prom: Prometheus,
  name: string,
  template: string,
  q: MetricsQuery,
  call?: CallOptions,
): Promise<number | null> {
  let promql: string;
  try {
    promql = renderQuery(template, { versionTag: q.versionTag, route: q.route, windowMs: q.end - q.start });
  } catch (error) {
    throw failure(prom, name, 'bad_query', error instanceof Error ? error.message : String(error), 0);
  }
  return query(prom, name, promql, q.end / 1000, call);
}

/** The five metrics of one version, read at once. */
async function readMetrics(
  prom: Prometheus,
  queries: Record<PrometheusQueryName, string>,
  q: MetricsQuery,
  call?: CallOptions,
): Promise<VersionMetrics> {
  const run = (metric: PrometheusQueryName) => queryTemplate(prom, metric, queries[metric], q, call);
  const [requests, errorRate, p50, p99, cost] = await Promise.all([
    run('request_count'),
    run('error_rate'),
    run('latency_p50_ms'),
    run('latency_p99_ms'),
    run('cost_per_token'),
  ]);
  // increase() extrapolates to the window's edges, so counts come back fractional.
  const requestCount = requests === null ? null : Math.round(requests);
  return {
    version_tag: q.versionTag,
    start_time: new Date(q.start).toISOString(),
    end_time: new Date(q.end).toISOString(),
    request_count: requestCount,
    error_count: requestCount === null || errorRate === null ? null : Math.round(errorRate * requestCount),
    error_rate: errorRate,
    latency_p50_ms: p50,
    latency_p99_ms: p99,
    cost_per_token: cost,
  };
}
