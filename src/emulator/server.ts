/**
 * The emulator's HTTP face: the contract's endpoints under /v1 and the emulator-only ones
 * under /_emulator. Paths are looked up in one table, so further emulator-only endpoints
 * (a Prometheus `/metrics` exposition reading the same series) are one more entry.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { METRIC_NAMES, VERSION_TAG_PATTERN } from '../domain/relay.js';
import { ApiError, notFound, validation } from './api-error.js';
import { type CallLog, loggedBody } from './call-log.js';
import type { ChatCompletions, ChatReply } from './chat.js';
import type { FaultQueue } from './faults.js';
import { isoTime, type RelayState } from './relay-state.js';
import { type BehaviourBook, parseBehaviour } from './scenario.js';
import type { TrafficSimulation } from './simulation.js';
import type { CallRecord, Fault } from './types.js';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_WINDOW_MS = 24 * 60 * 60 * 1000;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

export interface ServerDeps {
  apiKey: string;
  clock: Clock;
  state: RelayState;
  simulation: TrafficSimulation;
  behaviours: BehaviourBook;
  faults: FaultQueue;
  calls: CallLog;
  onCall?: ((record: CallRecord) => void) | undefined;
  /** The data plane, `POST /v1/chat/completions` (./chat.ts); absent means no such endpoint. */
  chat?: ChatCompletions | undefined;
  /** Prometheus text for `GET /metrics`; absent means no such endpoint. */
  exposition?: (() => Promise<{ contentType: string; body: string }>) | undefined;
}

interface Request {
  method: string;
  path: string;
  params: string[];
  query: URLSearchParams;
  body: unknown;
  headers: IncomingMessage['headers'];
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** An answer written over time (the data plane's streams and delays). */
  stream?: ChatReply;
}

type Handler = (request: Request, deps: ServerDeps) => Reply;

interface RouteEntry {
  method: string;
  pattern: RegExp;
  handler: Handler;
  auth: boolean;
}

const ok = (body: unknown, status = 200): Reply => ({ status, body });

function parseTime(query: URLSearchParams, name: string): number {
  const raw = query.get(name);
  if (raw === null || raw === '')
    throw validation(name, `${name} is required (ISO 8601, e.g. 2026-11-21T10:00:00Z)`);
  const ms = ISO_8601.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw validation(name, `${name} is not an ISO 8601 time: '${raw}'`);
  return ms;
}

function metricsHandler(request: Request, deps: ServerDeps): Reply {
  const { query } = request;
  const tag = query.get('version_tag');
  if (tag === null || tag === '') throw validation('version_tag', 'version_tag is required');
  const start = parseTime(query, 'start_time');
  const end = parseTime(query, 'end_time');
  if (end < start) throw validation('end_time', 'end_time is before start_time');
  if (end - start > MAX_WINDOW_MS) throw validation('end_time', 'the window may be at most 24 hours');
  let wanted: Set<string> | undefined;
  const metricsParam = query.get('metrics');
  if (metricsParam !== null) {
    wanted = new Set(metricsParam.split(',').map((name) => name.trim()));
    for (const name of wanted) {
      if (!(METRIC_NAMES as readonly string[]).includes(name)) {
        throw validation('metrics', `unknown metric '${name}'; known: ${METRIC_NAMES.join(', ')}`);
      }
    }
  }
  if (!deps.state.versions.has(tag)) throw notFound(`version ${tag} not found`);
  const m = deps.simulation.metrics(tag, start, end, deps.clock.now());
  const all: Record<string, unknown> = {
    version_tag: tag,
    start_time: isoTime(start),
    end_time: isoTime(end),
    request_count: m.request_count,
    error_count: m.error_count,
    error_rate: m.error_rate,
    latency_p50_ms: m.latency_p50_ms,
    latency_p99_ms: m.latency_p99_ms,
    cost_per_token: m.cost_per_token,
  };
  if (wanted) {
    // `metrics=` names metrics, the body names fields; error_count goes with the rate it explains.
    const fields: Record<string, string[]> = {
      request_count: ['request_count'],
      error_rate: ['error_count', 'error_rate'],
      latency_p50: ['latency_p50_ms'],
      latency_p99: ['latency_p99_ms'],
      cost_per_token: ['cost_per_token'],
    };
    const keep = new Set([
      'version_tag',
      'start_time',
      'end_time',
      ...[...wanted].flatMap((n) => fields[n] ?? []),
    ]);
    for (const key of Object.keys(all)) if (!keep.has(key)) delete all[key];
  }
  return ok(all);
}

const ROUTES: RouteEntry[] = [
  { method: 'GET', pattern: /^\/v1\/health$/, auth: false, handler: () => ok({ status: 'ok' }) },
  {
    method: 'POST',
    pattern: /^\/v1\/models\/versions$/,
    auth: true,
    handler: (req, deps) => ok(deps.state.registerVersion(req.body, deps.clock.now()).version, 201),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/models\/versions\/([^/]+)$/,
    auth: true,
    handler: (req, deps) => ok(deps.state.getVersion(req.params[0] ?? '')),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/routes\/traffic$/,
    auth: true,
    handler: (req, deps) => ok(deps.state.createRoute(req.body, deps.clock.now()), 201),
  },
  {
    method: 'PATCH',
    pattern: /^\/v1\/routes\/traffic$/,
    auth: true,
    handler: (req, deps) => {
      // Run the route up to now first: its own auto-rollback may have changed it meanwhile.
      const id = (req.body as { route_id?: unknown } | undefined)?.route_id;
      const route = typeof id === 'string' ? deps.state.routes.get(id) : undefined;
      if (route) deps.simulation.advanceRoute(route, deps.clock.now());
      return ok(deps.state.updateRoute(req.body, deps.clock.now(), ifMatchHeader(req.headers)));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/routes\/traffic\/([^/]+)$/,
    auth: true,
    handler: (req, deps) => {
      // The relay's own auto-rollback may have moved the route since it was last simulated.
      const route = deps.state.routes.get(req.params[0] ?? '');
      if (route) deps.simulation.advanceRoute(route, deps.clock.now());
      return ok(deps.state.getRoute(req.params[0] ?? ''));
    },
  },
  { method: 'GET', pattern: /^\/v1\/metrics\/versions$/, auth: true, handler: metricsHandler },
  {
    method: 'POST',
    pattern: /^\/v1\/chat\/completions$/,
    auth: true,
    handler: (req, deps) => {
      if (!deps.chat) throw notFound('no endpoint POST /v1/chat/completions');
      const stream = deps.chat.handle(req.body, req.headers['x-relay-version']);
      return { status: stream.status, headers: stream.headers, stream };
    },
  },
  {
    method: 'POST',
    pattern: /^\/_emulator\/faults$/,
    auth: true,
    handler: (req, deps) => {
      deps.faults.add(req.body as Fault);
      return ok({ faults: deps.faults.pending() }, 201);
    },
  },
  {
    method: 'GET',
    pattern: /^\/_emulator\/faults$/,
    auth: true,
    handler: (_req, deps) => ok({ faults: deps.faults.pending() }),
  },
  {
    method: 'DELETE',
    pattern: /^\/_emulator\/faults$/,
    auth: true,
    handler: (_req, deps) => {
      deps.faults.clear();
      return ok({ faults: [] });
    },
  },
  {
    method: 'PUT',
    pattern: /^\/_emulator\/versions\/([^/]+)\/behaviour$/,
    auth: true,
    handler: (req, deps) => {
      const tag = req.params[0] ?? '';
      if (!VERSION_TAG_PATTERN.test(tag)) throw validation('version_tag', `'${tag}' is not a version tag`);
      const behaviour = parseBehaviour(req.body);
      deps.simulation.advanceTag(tag, deps.clock.now());
      deps.behaviours.override(tag, behaviour);
      return ok({ version_tag: tag, behaviour: deps.behaviours.resolve(tag, 100, deps.clock.now()) });
    },
  },
  {
    method: 'GET',
    pattern: /^\/_emulator\/versions\/([^/]+)\/behaviour$/,
    auth: true,
    handler: (req, deps) => {
      const tag = req.params[0] ?? '';
      const weight = Number(req.query.get('weight') ?? 100);
      return ok({ version_tag: tag, behaviour: deps.behaviours.resolve(tag, weight, deps.clock.now()) });
    },
  },
  {
    method: 'GET',
    pattern: /^\/_emulator\/calls$/,
    auth: true,
    handler: (_req, deps) => ok({ calls: deps.calls.list() }),
  },
  {
    method: 'DELETE',
    pattern: /^\/_emulator\/calls$/,
    auth: true,
    handler: (_req, deps) => {
      deps.calls.clear();
      return ok({ calls: [] });
    },
  },
  {
    method: 'GET',
    pattern: /^\/_emulator\/auto-rollbacks$/,
    auth: true,
    handler: (_req, deps) => {
      deps.simulation.advance(deps.clock.now());
      return ok({
        auto_rollbacks: deps.simulation.autoRollbacks.map((event) => ({
          at: isoTime(event.at),
          route_id: event.routeId,
          version_tag: event.versionTag,
          reason: event.reason,
        })),
      });
    },
  },
];

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares digests in constant time, so the key cannot be guessed from response timing. */
function authorised(header: string | undefined, keyDigest: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1]), keyDigest);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(validation(undefined, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(raw: string): { ok: boolean; value?: unknown } {
  if (raw.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

/** The PATCH's If-Match header (an addition to the contract), one value. */
function ifMatchHeader(headers: IncomingMessage['headers']): string | undefined {
  const value = headers['if-match'];
  return Array.isArray(value) ? value[0] : value;
}

function faultReply(fault: Fault): Reply {
  if (fault.mode === 'rate_limit') {
    const seconds = fault.retry_after_seconds ?? 1;
    return {
      status: 429,
      headers: { 'retry-after': String(seconds) },
      body: new ApiError(
        429,
        'rate_limit_error',
        `too many requests; retry after ${seconds} s (injected)`,
      ).body(),
    };
  }
  if (fault.mode === 'redirect') {
    const status = fault.status ?? 301;
    return {
      status,
      headers: { location: 'https://relay.invalid/v1/' },
      body: { message: `moved (injected ${status})` },
    };
  }
  if (fault.mode === 'malformed') {
    // Valid JSON, so only a client that checks the answer's shape notices.
    return { status: 200, body: { route_id: 42, route_rules: 'all of them', status: 'updated' } };
  }
  if (fault.mode === 'oversized') {
    return { status: 200, body: { padding: 'x'.repeat(5 * 1024 * 1024) } };
  }
  const status = fault.status ?? 503;
  return { status, body: new ApiError(status, 'server_error', `relay fault (injected ${status})`).body() };
}

/** Headers and half a body, then the connection goes: a relay (or a proxy) dying mid-answer. */
function resetMidBody(res: ServerResponse): void {
  const text = JSON.stringify({ route_id: 'x', route_rules: [{ version_tag: 'x', weight: 100 }] });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
}

export function createRequestListener(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const keyDigest = digest(deps.apiKey);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const internal = path === '/_emulator' || path.startsWith('/_emulator/');
    if (method === 'GET' && path === '/metrics' && deps.exposition) {
      // No key, as Prometheus scrapes a relay's /metrics; it shows only simulated aggregates.
      // Not in the call log either: a 1 s scrape would push the API calls out of it.
      req.resume();
      deps.simulation.advance(deps.clock.now());
      const { contentType, body } = await deps.exposition();
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const record: CallRecord = { at: isoTime(deps.clock.now()), method, path, status: null };
    if (url.search) record.query = Object.fromEntries(url.searchParams);
    const finish = (reply: Reply | null, fault?: Fault) => {
      if (fault) record.fault = fault.mode;
      if (reply?.stream) {
        record.status = reply.status;
        res.writeHead(reply.status, reply.headers);
        reply.stream.write(res).catch(() => res.destroy());
      } else if (reply) {
        record.status = reply.status;
        send(res, reply);
      }
      if (!internal) {
        deps.calls.add(record);
        deps.onCall?.(record);
      }
    };

    if (!internal && (path === '/v1' || path.startsWith('/v1/'))) {
      const fault = deps.faults.take(path, method);
      if (fault?.mode === 'hang') {
        // Never answer: the connection stays open until the client gives up or the emulator closes.
        req.resume();
        finish(null, fault);
        return;
      }
      if (fault?.mode === 'reset') {
        finish(null, fault);
        req.socket.destroy();
        return;
      }
      if (fault?.mode === 'reset_mid_body') {
        req.resume();
        finish(null, fault);
        resetMidBody(res);
        return;
      }
      if (fault) {
        req.resume();
        finish(faultReply(fault), fault);
        return;
      }
    }

    let raw: string;
    try {
      raw = await readBody(req);
    } catch (error) {
      finish({
        status: 422,
        body: (error instanceof ApiError ? error : validation(undefined, 'unreadable body')).body(),
      });
      return;
    }
    const parsed = parseJson(raw);
    const body = loggedBody(raw, parsed);
    if (body !== undefined) record.body = body;

    try {
      let params: string[] | undefined;
      let entry: RouteEntry | undefined;
      for (const candidate of ROUTES) {
        if (candidate.method !== method) continue;
        const match = candidate.pattern.exec(path);
        if (match) {
          entry = candidate;
          params = match.slice(1).map((segment) => decodeURIComponent(segment));
          break;
        }
      }
      if (!entry || !params) {
        const hint =
          path.startsWith('/v1') || internal
            ? ''
            : '; the API is under /v1 (is /v1 missing from the base URL?)';
        throw notFound(`no endpoint ${method} ${path}${hint}`);
      }
      if (entry.auth && !authorised(req.headers.authorization, keyDigest)) {
        throw new ApiError(
          401,
          'authentication_error',
          req.headers.authorization ? 'the API key is not valid' : 'missing Authorization: Bearer <api key>',
        );
      }
      if (!parsed.ok) throw validation(undefined, 'the body is not valid JSON');
      // Each handler runs only the routes it reads (simulation.ts); a PATCH runs its route
      // up to the change through RelayState.beforeRulesChange.
      finish(
        entry.handler(
          { method, path, params, query: url.searchParams, body: parsed.value, headers: req.headers },
          deps,
        ),
      );
    } catch (error) {
      if (error instanceof ApiError) {
        const headers = (error as ApiError & { headers?: Record<string, string> }).headers;
        finish({ status: error.status, body: error.body(), ...(headers ? { headers } : {}) });
      } else if (error instanceof URIError) {
        finish({ status: 404, body: notFound(`no endpoint ${method} ${path}`).body() });
      } else {
        finish({ status: 500, body: new ApiError(500, 'server_error', 'internal emulator error').body() });
      }
    }
  };

  return (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  };
}
