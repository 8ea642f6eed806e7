/**
 * An in-memory RelayPort for pure engine tests. Traffic is simulated from the route's
 * weight history (requests = rps × weight × time), and each version's metrics are a
 * programmable function of time, weight and window, so a ten-hour plan runs in
 * milliseconds under a FakeClock. Every call is logged; faults, drift and PATCHes that do
 * not hold can be scripted.
 */
import type { Clock } from '../../src/clock.js';
import type {
  CallOptions,
  CreateRouteRequest,
  MetricsQuery,
  RelayPort,
  Route,
  RouteRule,
  RouteUpdate,
  StoredVersion,
  UpdateRouteRequest,
  VersionMetrics,
  VersionSpec,
} from '../../src/domain/relay.js';
import { RelayError } from '../../src/errors.js';

export type FakeOp =
  | 'health'
  | 'registerVersion'
  | 'getVersion'
  | 'createRoute'
  | 'getRoute'
  | 'updateRoute'
  | 'readMetrics';

export interface FakeCall {
  seq: number;
  at: number;
  op: FakeOp;
  /** Version tag for metrics reads, route id otherwise. */
  target?: string;
  /** PATCH rules, or the metrics window. */
  rules?: RouteRule[];
  window?: { start: number; end: number };
  /** How the call ended. */
  result: 'ok' | 'error';
}

export interface MetricsContext {
  tag: string;
  /** Time of the read. */
  now: number;
  start: number;
  end: number;
  /** The version's weight on the route at the time of the read. */
  weight: number;
  /** Requests the version served in the window, from the weight history. */
  requests: number;
}

export type MetricValues = Omit<VersionMetrics, 'version_tag' | 'start_time' | 'end_time'>;

/** Returns values to override (null = no data); may throw to fail the read. */
export type MetricsBehaviour = (ctx: MetricsContext) => Partial<MetricValues> | undefined;

export interface VersionProfile {
  errorRate: number;
  p50: number;
  p99: number;
  costPerToken: number;
}

export const HEALTHY: VersionProfile = { errorRate: 0.01, p50: 300, p99: 1500, costPerToken: 0.00001 };

interface StoredRoute extends Route {
  history: { at: number; rules: RouteRule[] }[];
}

export function relayError(
  status: number,
  type = status >= 500 ? 'server_error' : 'not_found',
  op = 'call',
): RelayError {
  return new RelayError({ message: `${status} ${type} (fake)`, type, status, operation: op });
}

export class FakeRelay implements RelayPort {
  readonly name = 'fake';
  readonly calls: FakeCall[] = [];
  readonly versions = new Map<string, StoredVersion>();
  readonly routes = new Map<string, StoredRoute>();
  /** Requests per second arriving on every route. */
  rps = 100;
  /** Baseline behaviour of every version unless `profiles` says otherwise. */
  profiles = new Map<string, VersionProfile>();
  behaviours = new Map<string, MetricsBehaviour>();
  /** 'ignore': PATCHes answer 200 but change nothing (a relay that does not hold the write). */
  patchMode: 'apply' | 'ignore' = 'apply';
  private failures = new Map<FakeOp, (() => Error)[]>();
  private alwaysFail = new Map<FakeOp, () => Error>();
  private hooks: ((call: FakeCall) => void)[] = [];
  private seq = 0;

  constructor(readonly clock: Clock) {}

  // ---- scripting -------------------------------------------------------------------------

  /** Registers a version directly (as if it existed before the test). */
  addVersion(tag: string, model = 'test/model'): void {
    this.versions.set(tag, {
      version_tag: tag,
      model,
      version_id: `v-${tag}`,
      created_at: new Date(0).toISOString(),
    });
  }

  /** Creates a route directly. */
  addRoute(id: string, rules: RouteRule[], revision = 1): void {
    this.routes.set(id, {
      route_id: id,
      model_alias: id,
      route_rules: rules.map((r) => ({ ...r })),
      revision,
      updated_at: new Date(this.clock.now()).toISOString(),
      history: [{ at: this.clock.now(), rules: rules.map((r) => ({ ...r })) }],
    });
  }

  /** Someone else changes the route (another operator, the relay's auto-rollback). */
  drift(id: string, rules: RouteRule[]): void {
    this.apply(id, rules);
  }

  /** Fails the next `count` calls of `op` with `error`. */
  failNext(op: FakeOp, count = 1, error: () => Error = () => relayError(503, 'server_error', op)): void {
    const queue = this.failures.get(op) ?? [];
    for (let i = 0; i < count; i++) queue.push(error);
    this.failures.set(op, queue);
  }

  /** Fails every call of `op` until `clearFailures`. */
  failAlways(op: FakeOp, error: () => Error = () => relayError(503, 'server_error', op)): void {
    this.alwaysFail.set(op, error);
  }

  clearFailures(op?: FakeOp): void {
    if (op) {
      this.failures.delete(op);
      this.alwaysFail.delete(op);
    } else {
      this.failures.clear();
      this.alwaysFail.clear();
    }
  }

  /** Runs before every call is answered; may script changes (drift, behaviour). */
  onCall(hook: (call: FakeCall) => void): void {
    this.hooks.push(hook);
  }

  setProfile(tag: string, profile: Partial<VersionProfile>): void {
    this.profiles.set(tag, { ...(this.profiles.get(tag) ?? HEALTHY), ...profile });
  }

  setBehaviour(tag: string, behaviour: MetricsBehaviour): void {
    this.behaviours.set(tag, behaviour);
  }

  // ---- inspection ------------------------------------------------------------------------

  /** PATCHes this client sent (whether or not the relay applied them). */
  get patches(): FakeCall[] {
    return this.calls.filter((c) => c.op === 'updateRoute');
  }

  weightOf(routeId: string, tag: string): number {
    return this.routes.get(routeId)?.route_rules.find((r) => r.version_tag === tag)?.weight ?? 0;
  }

  // ---- RelayPort -------------------------------------------------------------------------

  private async call<T>(
    entry: Omit<FakeCall, 'seq' | 'at' | 'result'>,
    answer: () => T,
    signal?: AbortSignal,
  ): Promise<T> {
    const call: FakeCall = { seq: this.seq++, at: this.clock.now(), result: 'ok', ...entry };
    this.calls.push(call);
    // Answer asynchronously, like a network would.
    await Promise.resolve();
    try {
      if (signal?.aborted) throw signal.reason;
      for (const hook of this.hooks) hook(call);
      const queued = this.failures.get(entry.op)?.shift();
      if (queued) throw queued();
      const always = this.alwaysFail.get(entry.op);
      if (always) throw always();
      return answer();
    } catch (error) {
      call.result = 'error';
      throw error;
    }
  }

  health(options?: CallOptions): Promise<void> {
    return this.call({ op: 'health' }, () => undefined, options?.signal);
  }

  registerVersion(
    spec: VersionSpec,
    options?: CallOptions,
  ): Promise<{ version: StoredVersion; created: boolean }> {
    return this.call(
      { op: 'registerVersion', target: spec.version_tag },
      () => {
        const existing = this.versions.get(spec.version_tag);
        if (existing) return { version: existing, created: false };
        const version = {
          ...spec,
          version_id: `v-${spec.version_tag}`,
          created_at: new Date(this.clock.now()).toISOString(),
        };
        this.versions.set(spec.version_tag, version);
        return { version, created: true };
      },
      options?.signal,
    );
  }

  getVersion(tag: string, options?: CallOptions): Promise<StoredVersion> {
    return this.call(
      { op: 'getVersion', target: tag },
      () => {
        const v = this.versions.get(tag);
        if (!v) throw relayError(404, 'not_found', 'GET /models/versions');
        return v;
      },
      options?.signal,
    );
  }

  createRoute(request: CreateRouteRequest, options?: CallOptions): Promise<Route> {
    return this.call(
      { op: 'createRoute', target: request.model_alias, rules: request.route_rules },
      () => {
        if (this.routes.has(request.model_alias)) throw relayError(409, 'conflict', 'POST /routes/traffic');
        this.validate(request.route_rules);
        this.addRoute(request.model_alias, request.route_rules);
        return this.snapshot(request.model_alias);
      },
      options?.signal,
    );
  }

  getRoute(routeId: string, options?: CallOptions): Promise<Route> {
    return this.call({ op: 'getRoute', target: routeId }, () => this.snapshot(routeId), options?.signal);
  }

  updateRoute(request: UpdateRouteRequest, options?: CallOptions): Promise<RouteUpdate> {
    return this.call(
      { op: 'updateRoute', target: request.route_id, rules: request.route_rules.map((r) => ({ ...r })) },
      () => {
        const route = this.routes.get(request.route_id);
        if (!route) throw relayError(404, 'not_found', 'PATCH /routes/traffic');
        this.validate(request.route_rules);
        if (this.patchMode === 'apply') this.apply(request.route_id, request.route_rules);
        const now = this.snapshot(request.route_id);
        const active = [...now.route_rules].sort((a, b) => b.weight - a.weight)[0]?.version_tag;
        return {
          status: 'updated' as const,
          route_id: now.route_id,
          route_rules: now.route_rules,
          revision: now.revision,
          active_version: active,
          updated_at: now.updated_at,
        };
      },
      options?.signal,
    );
  }

  readMetrics(query: MetricsQuery, options?: CallOptions): Promise<VersionMetrics> {
    return this.call(
      { op: 'readMetrics', target: query.versionTag, window: { start: query.start, end: query.end } },
      () => this.metricsFor(query),
      options?.signal,
    );
  }

  // ---- simulation ------------------------------------------------------------------------

  private validate(rules: RouteRule[]): void {
    const sum = rules.reduce((s, r) => s + r.weight, 0);
    const tags = new Set(rules.map((r) => r.version_tag));
    if (
      rules.length === 0 ||
      Math.abs(sum - 100) > 0.001 ||
      tags.size !== rules.length ||
      rules.some((r) => !this.versions.has(r.version_tag) || r.weight < 0 || r.weight > 100)
    ) {
      throw new RelayError({
        message: `invalid route_rules ${JSON.stringify(rules)}`,
        type: 'validation_error',
        status: 422,
        field: 'route_rules',
        operation: 'PATCH /routes/traffic',
      });
    }
  }

  private apply(id: string, rules: RouteRule[]): void {
    const route = this.routes.get(id);
    if (!route) throw new Error(`fake relay: no route ${id}`);
    route.route_rules = rules.map((r) => ({ ...r }));
    route.revision = (route.revision ?? 0) + 1;
    route.updated_at = new Date(this.clock.now()).toISOString();
    route.history.push({ at: this.clock.now(), rules: rules.map((r) => ({ ...r })) });
  }

  private snapshot(id: string): Route {
    const route = this.routes.get(id);
    if (!route) throw relayError(404, 'not_found', 'GET /routes/traffic');
    const { history: _history, ...rest } = route;
    return structuredClone(rest);
  }

  /** Weight-seconds the tag held on its route(s) during [start, end]. */
  private requestsIn(tag: string, start: number, end: number): number {
    let total = 0;
    for (const route of this.routes.values()) {
      const h = route.history;
      for (let i = 0; i < h.length; i++) {
        const from = Math.max(start, (h[i] as { at: number }).at);
        const to = Math.min(end, i + 1 < h.length ? (h[i + 1] as { at: number }).at : end);
        if (to <= from) continue;
        const weight = (h[i] as { rules: RouteRule[] }).rules.find((r) => r.version_tag === tag)?.weight ?? 0;
        total += ((to - from) / 1000) * this.rps * (weight / 100);
      }
    }
    return Math.floor(total);
  }

  private metricsFor(query: MetricsQuery): VersionMetrics {
    const tag = query.versionTag;
    const requests = this.requestsIn(tag, query.start, query.end);
    const route = query.route ? this.routes.get(query.route) : undefined;
    const weight = route?.route_rules.find((r) => r.version_tag === tag)?.weight ?? 0;
    const p = this.profiles.get(tag) ?? HEALTHY;
    const base: MetricValues =
      requests === 0
        ? {
            request_count: 0,
            error_count: null,
            error_rate: null,
            latency_p50_ms: null,
            latency_p99_ms: null,
            cost_per_token: null,
          }
        : {
            request_count: requests,
            error_count: Math.round(requests * p.errorRate),
            error_rate: p.errorRate,
            latency_p50_ms: p.p50,
            latency_p99_ms: p.p99,
            cost_per_token: p.costPerToken,
          };
    const override =
      this.behaviours.get(tag)?.({
        tag,
        now: this.clock.now(),
        start: query.start,
        end: query.end,
        weight,
        requests,
      }) ?? {};
    return {
      version_tag: tag,
      start_time: new Date(query.start).toISOString(),
      end_time: new Date(query.end).toISOString(),
      ...base,
      ...override,
    };
  }
}
