/**
 * A metric read from an HTTP JSON API (a Langfuse/Helicone/Portkey-style score API, or a team's
 * own endpoint): GET or POST through the relay client's transport and attempt loop (its
 * timeouts and retry rules: GET retried, POST only when no answer came), the number picked out
 * of the answer with a JSONPath (jsonpath-plus). Header secrets come from env vars only and are
 * scrubbed from every message.
 *
 * A path that finds nothing is *no data* (the API may have no scores for the window yet), said
 * with the path; a value that is not a number, an answer that is not JSON or an error status is
 * a failed read.
 */
import { JSONPath } from 'jsonpath-plus';
import { type Clock, systemClock } from '../clock.js';
import type { CustomSource } from '../domain/plan.js';
import { formatDuration } from '../format.js';
import { sendWithRetries } from '../relay/attempts.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../relay/retry.js';
import { DEFAULT_LIMITS, type Transport, type TransportFactory } from '../relay/transport.js';
import { VERSION } from '../version.js';
import { placeholderValues } from './placeholders.js';
import type { CustomQuery, CustomValue } from './types.js';

type HttpSource = Extract<CustomSource, { kind: 'http' }>;

/** Per-attempt timeouts for a custom metric's HTTP source; the plan's deadline bounds the whole read. */
const HTTP_SOURCE_TIMEOUTS = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };

export interface HttpMetricOptions {
  name: string;
  source: HttpSource;
  /** Header values from env, already resolved (secrets). */
  headers: Record<string, string>;
  secrets: string[];
  transport: TransportFactory;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  random?: () => number;
}

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

export function fill(
  template: string,
  values: Record<string, string>,
  encode: (s: string) => string,
): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? encode(values[name] as string) : whole,
  );
}

function fillDeep(value: unknown, values: Record<string, string>): unknown {
  if (typeof value === 'string') return fill(value, values, (s) => s);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, values));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, values)]));
  }
  return value;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

export function createHttpMetric(options: HttpMetricOptions): {
  read(q: CustomQuery, call?: { signal?: AbortSignal | undefined }): Promise<CustomValue>;
  close(): Promise<void>;
} {
  const metric = openHttpMetric(options);
  return { read: (q, call) => read(metric, q, call), close: () => metric.transport.close() };
}

/** What every read of one HTTP metric shares: where it goes, how, and what to hide. */
interface HttpMetric {
  name: string;
  source: HttpSource;
  /** The URL's origin; a placeholder may not change it. */
  origin: string;
  /** `GET https://host/path`, for messages. */
  where: string;
  transport: Transport;
  headers: Record<string, string>;
  scrub: (text: string) => string;
  clock: Clock;
  policy: RetryPolicy;
  random: () => number;
}

function openHttpMetric(options: HttpMetricOptions): HttpMetric {
  const { source, name } = options;
  const first = new URL(
    fill(
      source.url,
      placeholderValues({ versionTag: 'v', route: 'r', start: 0, end: 0 }),
      encodeURIComponent,
    ),
  );
  const origin = first.origin;
  const clock = options.clock ?? systemClock;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const transport: Transport = options.transport({
    origin,
    connectTimeoutMs: HTTP_SOURCE_TIMEOUTS.connectMs,
    headersTimeoutMs: HTTP_SOURCE_TIMEOUTS.headersMs,
    bodyTimeoutMs: HTTP_SOURCE_TIMEOUTS.bodyMs,
    connections: 2,
    ...DEFAULT_LIMITS,
  });
  return {
    name,
    source,
    origin,
    where: `${source.method} ${origin}${first.pathname}`,
    transport,
    headers: options.headers,
    scrub: (text) =>
      options.secrets.reduce((out, s) => (s.length >= 4 ? out.split(s).join('[REDACTED]') : out), text),
    clock,
    policy,
    random: options.random ?? Math.random,
  };
}

/** One read for a version and window: the request, then the number in its answer. */
async function read(
  metric: HttpMetric,
  q: CustomQuery,
  call?: { signal?: AbortSignal | undefined },
): Promise<CustomValue> {
  const { name, source, where, scrub, policy } = metric;
  const values = placeholderValues(q);
  const url = new URL(fill(source.url, values, encodeURIComponent));
  if (url.origin !== metric.origin)
    return { error: `${name}: the URL's host must not depend on a placeholder` };
  const body = source.method === 'POST' ? JSON.stringify(fillDeep(source.body ?? {}, values)) : undefined;
  const last = await sendWithRetries({
    transport: metric.transport,
    method: source.method,
    path: `${url.pathname}${url.search}`,
    headers: {
      accept: 'application/json',
      'user-agent': `canary/${VERSION}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...metric.headers,
    },
    body,
    signal: call?.signal,
    deadlineMs: policy.deadlineMs,
    clock: metric.clock,
    policy,
    random: metric.random,
  });
  if (last.kind === 'network') {
    if (call?.signal?.aborted) throw call.signal.reason;
    const raw = last.error instanceof Error ? last.error.message : String(last.error);
    const why = last.deadline
      ? `no answer within ${formatDuration(policy.deadlineMs)}`
      : `could not connect: ${raw}`;
    return {
      error: scrub(
        `${name}: ${where}: ${why}${last.attempts > 1 ? ` (after ${last.attempts} attempts)` : ''}`,
      ),
    };
  }
  const { status, text } = last.response;
  if (status < 200 || status >= 300) {
    const hint = status === 401 || status === 403 ? ' (check the header credentials named in the plan)' : '';
    return {
      error: scrub(
        `${name}: ${where} answered HTTP ${status}${hint}${text.trim() ? `: ${snippet(text)}` : ''}`,
      ),
    };
  }
  return valueIn(metric, text);
}

/**
 * The number the JSONPath picks out of an answer: nothing found is no data; not JSON, several
 * values or a value that is not a number is a failed read.
 */
function valueIn({ name, source, where, scrub }: HttpMetric, text: string): CustomValue {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: scrub(`${name}: ${where} answered something that is not JSON ("${snippet(text)}")`) };
  }
  let found: unknown;
  try {
    found = JSONPath({ path: source.path, json: json as object, wrap: false });
  } catch (error) {
    return {
      error: `${name}: the JSON path ${source.path} could not be applied: ${(error as Error).message}`,
    };
  }
  if (Array.isArray(found)) {
    if (found.length === 0) found = undefined;
    else if (found.length === 1) found = found[0];
    else
      return {
        error: `${name}: the JSON path ${source.path} found ${found.length} values where one number was expected`,
      };
  }
  if (found === undefined || found === null) {
    return {
      value: null,
      note: scrub(`the JSON path ${source.path} found nothing in the answer (${snippet(text)})`),
    };
  }
  const value = typeof found === 'string' && found.trim() !== '' ? Number(found) : found;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return {
      error: scrub(
        `${name}: the JSON path ${source.path} found ${snippet(JSON.stringify(found))}, not a number`,
      ),
    };
  }
  return { value };
}
