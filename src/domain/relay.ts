/**
 * The relay's vocabulary and the ports the core talks through: versions, routes and their
 * rules, per-version metrics (the shapes of ../shared/relay-api.md v1, field names as on the
 * wire, snake_case), and RelayPort / MetricsSource, which the HTTP client (src/relay/), the
 * Prometheus source and test fakes implement. The plan, the engine, the analysis, the journal
 * and the reporters speak these words without importing the HTTP layer.
 */

export const VERSION_TAG_PATTERN = /^[a-z0-9-]{1,64}$/;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** `POST /models/versions` body. */
export interface VersionSpec {
  version_tag: string;
  model: string;
  parameters?: Record<string, JsonValue>;
  system_prompt?: string;
  upstream_endpoint?: string;
  cost_limit_per_request?: number;
  metadata?: Record<string, JsonValue>;
}

/** A registered version as the relay stores it. */
export interface StoredVersion extends VersionSpec {
  version_id: string;
  created_at: string;
}

export interface RouteRule {
  version_tag: string;
  weight: number;
}

export interface StickySessions {
  enabled: boolean;
  cookie_name?: string;
  ttl_seconds?: number;
}

export interface RouteHealthCheck {
  enabled: boolean;
  error_rate_threshold?: number;
  latency_p99_threshold_ms?: number;
  auto_rollback?: boolean;
}

/** `POST /routes/traffic` body. */
export interface CreateRouteRequest {
  model_alias: string;
  route_rules: RouteRule[];
  sticky_sessions?: StickySessions;
  health_check?: RouteHealthCheck;
}

/** `GET /routes/traffic/{route_id}` answer. `revision` and `updated_at` are additions a real relay may lack. */
export interface Route {
  route_id: string;
  model_alias: string;
  route_rules: RouteRule[];
  revision?: number;
  updated_at?: string;
  sticky_sessions?: StickySessions;
  health_check?: RouteHealthCheck;
}

/** `PATCH /routes/traffic` body. */
export interface UpdateRouteRequest {
  route_id: string;
  route_rules: RouteRule[];
}

/** `PATCH /routes/traffic` answer. */
export interface RouteUpdate {
  status: 'updated';
  route_id: string;
  route_rules: RouteRule[];
  revision?: number;
  active_version?: string;
  updated_at?: string;
}

export const METRIC_NAMES = [
  'request_count',
  'error_rate',
  'latency_p50',
  'latency_p99',
  'cost_per_token',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** `GET /metrics/versions` answer. Any value may be null or missing: that is "no data", never healthy. */
export interface VersionMetrics {
  version_tag: string;
  start_time: string;
  end_time: string;
  request_count: number | null;
  error_count: number | null;
  error_rate: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  cost_per_token: number | null;
}

export interface MetricsQuery {
  versionTag: string;
  /** Epoch milliseconds. */
  start: number;
  /** Epoch milliseconds. */
  end: number;
  /** Route the version serves, for sources that label by route (Prometheus). */
  route?: string;
}

/** The relay's error body for every non-2xx answer. */
export interface RelayErrorBody {
  error: {
    type: string;
    message: string;
    field?: string;
    existing?: StoredVersion;
    /** With a 412 (an addition): the route as it is now. */
    current?: Route;
  };
}

/** Per-call options the core may pass through. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overall deadline for this call including retries, in ms. */
  deadlineMs?: number;
  /** At most this many attempts (default: the client's policy); 1 for callers that retry themselves. */
  maxAttempts?: number;
  /**
   * PATCH only: the route revision this change is based on, sent as `If-Match` (an addition to
   * the contract): a relay that supports it answers 412 instead of overwriting someone else's change.
   */
  ifRevision?: number | undefined;
}

/** Where per-version metrics come from: the relay's API by default, or Prometheus. */
export interface MetricsSource {
  /** Short name shown to users, e.g. `relay` or `prometheus`. */
  readonly name: string;
  readMetrics(query: MetricsQuery, options?: CallOptions): Promise<VersionMetrics>;
}

/**
 * Everything the core needs from a relay. The HTTP client implements it; tests may too.
 * Errors are `RelayError`s.
 */
export interface RelayPort extends MetricsSource {
  health(options?: CallOptions): Promise<void>;
  /** Registers a version; an existing tag with an equal configuration counts as success (`created: false`). */
  registerVersion(
    spec: VersionSpec,
    options?: CallOptions,
  ): Promise<{ version: StoredVersion; created: boolean }>;
  getVersion(tag: string, options?: CallOptions): Promise<StoredVersion>;
  createRoute(request: CreateRouteRequest, options?: CallOptions): Promise<Route>;
  getRoute(routeId: string, options?: CallOptions): Promise<Route>;
  updateRoute(request: UpdateRouteRequest, options?: CallOptions): Promise<RouteUpdate>;
}
