/**
 * Minimal shape checks of the relay's answers. They accept what a real relay may add or
 * leave out (unknown keys pass through, optional fields may be null) and reject what
 * would make canary act on garbage: a route without rules, a weight that is not a number.
 *
 * Read with the shape reader plans are read with (src/shape/reader.ts) over the parsed JSON
 * (src/shape/json-tree.ts), so a bad answer is described as a bad plan is: the field's path, what
 * was expected, what came (`route_rules[0].weight: expected a number, got '100'`). Nothing is
 * built ahead: a reader is a function, so the rollback's start-up pays only for the walk.
 */

import type { Route, RouteUpdate, StoredVersion, VersionMetrics } from '../domain/relay.js';
import type { PlanProblem } from '../errors.js';
import { readJson } from '../shape/json-tree.js';
import type { Entry, ShapeReader } from '../shape/reader.js';

type R = ShapeReader<unknown>;
type Field = Entry<unknown>;

/** Reads one kind of answer into `T`, reporting its problems on the reader; undefined when it is bad. */
export type AnswerReader<T> = (r: R, root: Field) => T | undefined;
/** How one field is read: its value, or undefined after reporting why not. */
type Read = (r: R, entry: Field) => unknown;

/** Checks `value` with `read`; the problems say what is wrong where. */
export function checkAnswer<T>(
  read: AnswerReader<T>,
  value: unknown,
): { ok: true; value: T } | { ok: false; problems: PlanProblem[] } {
  return readJson('answer', value, read);
}

/** One line naming the first few problems, e.g. `route_rules[0].weight: expected a number, got '100'`. */
export function describeProblems(problems: readonly PlanProblem[]): string {
  const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
  return `${problems
    .slice(0, 3)
    .map((p) => p.message)
    .join('; ')}${more}`;
}

const text: Read = (r, e) => r.string(e, 'a string', { empty: true });
const number: Read = (r, e) => r.number(e, 'a number', () => true);
const boolean: Read = (r, e) => r.boolean(e);
/** Missing or null means "no data"; a string or object where a number belongs is garbage. */
const metric: Read = (r, e) => r.number(e, 'a number of at least 0', (n) => n >= 0);
const jsonObject: Read = (r, e) => r.json(e);
const versionId: Read = (r, e) => {
  const v = r.scalar(e);
  return typeof v === 'string' || typeof v === 'number' ? String(v) : r.fail(e, 'a string or a number');
};

/**
 * A reader of a JSON object's known fields, read in place: each required one must be there, each
 * optional one may be missing or null (undefined in the result); every other key passes through
 * as it came. The field lists are laid out once, here, not on every answer.
 */
function object<T>(required: Record<string, Read>, optional: Record<string, Read> = {}): AnswerReader<T> {
  const requiredFields = Object.entries(required);
  const optionalFields = Object.entries(optional);
  const known = [...Object.keys(required), ...Object.keys(optional)];
  return (r, entry) => {
    const fields = r.mapping(entry, known, { loose: true });
    if (fields === undefined) return undefined;
    const out: Record<string, unknown> = { ...(entry.value as object) };
    let ok = true;
    for (const [key, read] of requiredFields) {
      const field = r.required(fields, key);
      const value = field && read(r, field);
      if (value === undefined) ok = false;
      else out[key] = value;
    }
    for (const [key, read] of optionalFields) {
      const field = r.optional(fields, key);
      const value = field && read(r, field);
      if (field !== undefined && value === undefined) ok = false;
      if (key in out) out[key] = value;
    }
    return ok ? (out as T) : undefined;
  };
}

const rule = object({ version_tag: text, weight: number });

const rules: Read = (r, e) => {
  const items = r.items(e);
  if (items === undefined) return r.fail(e, 'a list of rules like [{"version_tag": "v1", "weight": 100}]');
  const read = items.map((item) => rule(r, item));
  return read.every((one) => one !== undefined) ? read : undefined;
};

export const readStoredVersion = object<StoredVersion>(
  { version_tag: text, model: text, version_id: versionId, created_at: text },
  {
    parameters: jsonObject,
    system_prompt: text,
    upstream_endpoint: text,
    cost_limit_per_request: number,
    metadata: jsonObject,
  },
);

const routeFields = object<Partial<Route>>(
  { route_rules: rules },
  {
    route_id: text,
    model_alias: text,
    revision: number,
    updated_at: text,
    sticky_sessions: object({ enabled: boolean }, { cookie_name: text, ttl_seconds: number }),
    health_check: object(
      { enabled: boolean },
      { error_rate_threshold: number, latency_p99_threshold_ms: number, auto_rollback: boolean },
    ),
  },
);

export const readRoute: AnswerReader<Route> = (r, root) => {
  const route = routeFields(r, root);
  if (route === undefined) return undefined;
  // The contract makes the id the alias, so either one stands for both.
  const id = route.route_id ?? route.model_alias;
  if (id === undefined) {
    r.problem(root, 'neither route_id nor model_alias is present');
    return undefined;
  }
  return { ...route, route_id: id, model_alias: route.model_alias ?? id } as Route;
};

type RawRouteUpdate = Omit<RouteUpdate, 'status' | 'route_id'> & { status?: string; route_id?: string };

export const readRouteUpdate = object<RawRouteUpdate>(
  { route_rules: rules },
  { status: text, route_id: text, revision: number, active_version: text, updated_at: text },
);

export function toRouteUpdate(raw: RawRouteUpdate, routeId: string): RouteUpdate {
  return { ...raw, status: 'updated', route_id: raw.route_id ?? routeId } as RouteUpdate;
}

type RawMetrics = Partial<VersionMetrics>;

export const readMetrics = object<RawMetrics>(
  {},
  {
    version_tag: text,
    start_time: text,
    end_time: text,
    request_count: metric,
    error_count: metric,
    error_rate: metric,
    latency_p50_ms: metric,
    latency_p99_ms: metric,
    cost_per_token: metric,
  },
);

export function toVersionMetrics(
  raw: RawMetrics,
  fallback: { versionTag: string; start: string; end: string },
): VersionMetrics {
  return {
    version_tag: raw.version_tag ?? fallback.versionTag,
    start_time: raw.start_time ?? fallback.start,
    end_time: raw.end_time ?? fallback.end,
    // A key the relay left out or sent as null is, by the contract, no data.
    request_count: raw.request_count ?? null,
    error_count: raw.error_count ?? null,
    error_rate: raw.error_rate ?? null,
    latency_p50_ms: raw.latency_p50_ms ?? null,
    latency_p99_ms: raw.latency_p99_ms ?? null,
    cost_per_token: raw.cost_per_token ?? null,
  };
}

export const readHealth = object<{ status: string }>({ status: text });

export interface ErrorBody {
  error: { type?: string; message?: string; field?: string; existing?: unknown };
}

export const readErrorAnswer = object<ErrorBody>({
  error: object({}, { type: text, message: text, field: text }),
});
