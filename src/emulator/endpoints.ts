/**
 * The emulator's endpoints, as one table: the contract's under /v1 and the emulator-only ones
 * under /_emulator, each a method, a path pattern, whether it needs the key, and a handler that
 * turns a parsed request into a reply. server.ts does the HTTP around them (body, key, faults,
 * errors, the call log); further emulator-only endpoints are one more entry here.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock.js';
import { METRIC_NAMES, VERSION_TAG_PATTERN } from '../domain/relay.js';
import { notFound, validation } from './api-error.js';
import type { CallLog } from './call-log.js';
import type { ChatCompletions, ChatReply } from './chat.js';
import type { FaultQueue } from './faults.js';
import { isoTime, type RelayState } from './relay-state.js';
import { type BehaviourBook, parseBehaviour } from './scenario.js';
import type { TrafficSimulation } from './simulation.js';
import type { CallRecord, Fault } from './types.js';

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

export interface Request {
  method: string;
  path: string;
  params: string[];
  query: URLSearchParams;
  body: unknown;
  headers: IncomingMessage['headers'];
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** An answer written over time (the data plane's streams and delays). */
  stream?: ChatReply;
}

type Handler = (request: Request, deps: ServerDeps) => Reply;

export interface RouteEntry {
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

/** The PATCH's If-Match header (an addition to the contract), one value. */
function ifMatchHeader(headers: IncomingMessage['headers']): string | undefined {
  const value = headers['if-match'];
  return Array.isArray(value) ? value[0] : value;
}

/** The entry for a method and path, with its path parameters decoded (a bad escape throws URIError). */
export function findRoute(method: string, path: string): { entry: RouteEntry; params: string[] } | undefined {
  for (const candidate of ROUTES) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (match)
      return { entry: candidate, params: match.slice(1).map((segment) => decodeURIComponent(segment)) };
  }
  return undefined;
}
