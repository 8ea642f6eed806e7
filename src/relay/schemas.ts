/**
 * Minimal shape checks of the relay's answers. They accept what a real relay may add or
 * leave out (unknown keys pass through, optional fields may be null) and reject what
 * would make canary act on garbage: a route without rules, a weight that is not a number.
 *
 * Written with valibot: its schemas are plain objects, so building one costs next to nothing.
 * zod builds classes with their whole method surface: zod/mini cost `canary rollback` about 6 ms of start-up to build and run the two
 * schemas it needs. Each schema is still built on first use.
 */
import {
  array,
  type BaseIssue,
  boolean,
  check,
  type GenericSchema,
  looseObject,
  minValue,
  nullish,
  number,
  object,
  optional,
  pipe,
  record,
  safeParse,
  string,
  transform,
  union,
  unknown,
} from 'valibot';
import type { Route, RouteUpdate, StoredVersion, VersionMetrics } from '../domain/relay.js';

/** A check of one kind of answer, producing `T`. */
export type AnswerSchema<T> = GenericSchema<unknown, T>;
export type Issues = BaseIssue<unknown>[];

/** Checks `value`; the issues say what is wrong where. */
export function validate<T>(
  schema: AnswerSchema<T>,
  value: unknown,
): { success: true; output: T } | { success: false; issues: Issues } {
  const result = safeParse(schema, value);
  return result.success
    ? { success: true, output: result.output }
    : { success: false, issues: result.issues as Issues };
}

/** Builds a schema the first time it is asked for. */
function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

/** Optional on the wire, and a real relay may send null for "unset". */
const opt = <T>(schema: GenericSchema<unknown, T>) =>
  pipe(
    nullish(schema),
    transform((v: T | null | undefined) => v ?? undefined),
  );

const jsonObject = () => record(string(), unknown());

export const storedVersionSchema = once(
  (): AnswerSchema<StoredVersion> =>
    pipe(
      looseObject({
        version_tag: string(),
        model: string(),
        version_id: pipe(union([string(), number()]), transform(String)),
        created_at: string(),
        parameters: opt(jsonObject()),
        system_prompt: opt(string()),
        upstream_endpoint: opt(string()),
        cost_limit_per_request: opt(number()),
        metadata: opt(jsonObject()),
      }),
      transform((v) => v as StoredVersion),
    ),
);

const ruleSchema = once(() => looseObject({ version_tag: string(), weight: number() }));

export const routeSchema = once(
  (): AnswerSchema<Route> =>
    pipe(
      looseObject({
        route_id: opt(string()),
        model_alias: opt(string()),
        route_rules: array(ruleSchema()),
        revision: opt(number()),
        updated_at: opt(string()),
        sticky_sessions: opt(
          looseObject({
            enabled: boolean(),
            cookie_name: opt(string()),
            ttl_seconds: opt(number()),
          }),
        ),
        health_check: opt(
          looseObject({
            enabled: boolean(),
            error_rate_threshold: opt(number()),
            latency_p99_threshold_ms: opt(number()),
            auto_rollback: opt(boolean()),
          }),
        ),
      }),
      check(
        (r) => r.route_id !== undefined || r.model_alias !== undefined,
        'neither route_id nor model_alias is present',
      ),
      // The contract makes the id the alias, so either one stands for both.
      transform((r) => {
        const id = (r.route_id ?? r.model_alias) as string;
        return { ...r, route_id: id, model_alias: r.model_alias ?? id } as Route;
      }),
    ),
);

const routeUpdateShape = once(() =>
  looseObject({
    status: opt(string()),
    route_id: opt(string()),
    route_rules: array(ruleSchema()),
    revision: opt(number()),
    active_version: opt(string()),
    updated_at: opt(string()),
  }),
);
type RawRouteUpdate = ReturnType<typeof routeUpdateShape> extends GenericSchema<unknown, infer T> ? T : never;
export const routeUpdateSchema = once((): AnswerSchema<RawRouteUpdate> => routeUpdateShape());

export function toRouteUpdate(raw: RawRouteUpdate, routeId: string): RouteUpdate {
  return { ...raw, status: 'updated', route_id: raw.route_id ?? routeId } as RouteUpdate;
}

/** Missing or null means "no data"; a string or object where a number belongs is garbage. */
const metric = () =>
  pipe(
    nullish(pipe(number(), minValue(0))),
    transform((v: number | null | undefined) => v ?? null),
  );

const metricsShape = once(() =>
  looseObject({
    version_tag: opt(string()),
    start_time: opt(string()),
    end_time: opt(string()),
    request_count: metric(),
    error_count: metric(),
    error_rate: metric(),
    latency_p50_ms: metric(),
    latency_p99_ms: metric(),
    cost_per_token: metric(),
  }),
);
type RawMetrics = ReturnType<typeof metricsShape> extends GenericSchema<unknown, infer T> ? T : never;
export const metricsSchema = once((): AnswerSchema<RawMetrics> => metricsShape());

export function toVersionMetrics(
  raw: RawMetrics,
  fallback: { versionTag: string; start: string; end: string },
): VersionMetrics {
  return {
    version_tag: raw.version_tag ?? fallback.versionTag,
    start_time: raw.start_time ?? fallback.start,
    end_time: raw.end_time ?? fallback.end,
    // A key the relay left out is skipped by the schema, null by the contract: no data.
    request_count: raw.request_count ?? null,
    error_count: raw.error_count ?? null,
    error_rate: raw.error_rate ?? null,
    latency_p50_ms: raw.latency_p50_ms ?? null,
    latency_p99_ms: raw.latency_p99_ms ?? null,
    cost_per_token: raw.cost_per_token ?? null,
  };
}

export const healthSchema = once(() => looseObject({ status: string() }));

export const errorBodySchema = once(() =>
  object({
    error: looseObject({
      type: opt(string()),
      message: opt(string()),
      field: opt(string()),
      existing: optional(unknown()),
    }),
  }),
);

/** One line naming the first few problems, e.g. `route_rules[0].weight: expected number`. */
export function describeIssues(issues: Issues): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((item, i) =>
          typeof item.key === 'number'
            ? `[${item.key}]`
            : i === 0
              ? String(item.key)
              : `.${String(item.key)}`,
        )
        .join('');
      return `${path === '' ? '(body)' : path}: ${message(issue)}`;
    })
    .join('; ');
}

/** valibot says `Invalid type: Expected number but received "100"`; canary's messages are lower case and short. */
function message(issue: BaseIssue<unknown>): string {
  if (issue.kind === 'schema' && issue.expected !== null) {
    const missing = issue.received === 'undefined';
    return missing
      ? `expected ${issue.expected}, got nothing`
      : `expected ${issue.expected}, got ${issue.received}`;
  }
  return issue.message;
}
