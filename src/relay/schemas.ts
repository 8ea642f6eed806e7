/**
 * Minimal shape checks of the relay's answers. They accept what a real relay may add or
 * leave out (unknown keys pass through, optional fields may be null) and reject what
 * would make canary act on garbage: a route without rules, a weight that is not a number.
 *
 * Written with `zod/mini` (the same library and checks as `zod`, functional API): the classic
 * API builds its whole method surface when it loads, a large part of `canary rollback`'s
 * start-up. zod/mini loads no locale, so the English messages are configured here (the same
 * ones `zod` sets; the configuration is shared, so this changes nothing for the plan schema).
 * Each schema is built on first use: a rollback needs two of the six.
 */
import {
  array,
  boolean,
  config,
  type infer as Infer,
  looseObject,
  nonnegative,
  nullish,
  number,
  type output as Output,
  object,
  optional,
  pipe,
  record,
  refine,
  string,
  transform,
  union,
  unknown,
  type ZodMiniType,
} from 'zod/mini';
import type { $ZodError } from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';
import type { Route, RouteUpdate, StoredVersion, VersionMetrics } from './types.js';

config(en());

/** Builds a schema the first time it is asked for. */
function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

/** Optional on the wire, and a real relay may send null for "unset". */
const opt = <T extends ZodMiniType>(schema: T) =>
  pipe(
    nullish(schema),
    transform((v: Output<T> | null | undefined) => v ?? undefined),
  );

const jsonObject = once(() => record(string(), unknown()));

export const storedVersionSchema = once(() =>
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

const stickySchema = once(() =>
  looseObject({
    enabled: boolean(),
    cookie_name: opt(string()),
    ttl_seconds: opt(number()),
  }),
);

const healthCheckSchema = once(() =>
  looseObject({
    enabled: boolean(),
    error_rate_threshold: opt(number()),
    latency_p99_threshold_ms: opt(number()),
    auto_rollback: opt(boolean()),
  }),
);

export const routeSchema = once(() =>
  pipe(
    looseObject({
      route_id: opt(string()),
      model_alias: opt(string()),
      route_rules: array(ruleSchema()),
      revision: opt(number()),
      updated_at: opt(string()),
      sticky_sessions: opt(stickySchema()),
      health_check: opt(healthCheckSchema()),
    }).check(
      refine((r) => r.route_id !== undefined || r.model_alias !== undefined, {
        message: 'neither route_id nor model_alias is present',
        path: ['route_id'],
      }),
    ),
    // The contract makes the id the alias, so either one stands for both.
    transform((r) => {
      const id = (r.route_id ?? r.model_alias) as string;
      return { ...r, route_id: id, model_alias: r.model_alias ?? id } as Route;
    }),
  ),
);

export const routeUpdateSchema = once(() =>
  looseObject({
    status: opt(string()),
    route_id: opt(string()),
    route_rules: array(ruleSchema()),
    revision: opt(number()),
    active_version: opt(string()),
    updated_at: opt(string()),
  }),
);

export function toRouteUpdate(
  raw: Infer<ReturnType<typeof routeUpdateSchema>>,
  routeId: string,
): RouteUpdate {
  return { ...raw, status: 'updated', route_id: raw.route_id ?? routeId } as RouteUpdate;
}

/** Missing or null means "no data"; a string or object where a number belongs is garbage. */
const metric = once(() =>
  pipe(
    nullish(number().check(nonnegative())),
    transform((v: number | null | undefined) => v ?? null),
  ),
);

export const metricsSchema = once(() =>
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

export function toVersionMetrics(
  raw: Infer<ReturnType<typeof metricsSchema>>,
  fallback: { versionTag: string; start: string; end: string },
): VersionMetrics {
  return {
    version_tag: raw.version_tag ?? fallback.versionTag,
    start_time: raw.start_time ?? fallback.start,
    end_time: raw.end_time ?? fallback.end,
    request_count: raw.request_count,
    error_count: raw.error_count,
    error_rate: raw.error_rate,
    latency_p50_ms: raw.latency_p50_ms,
    latency_p99_ms: raw.latency_p99_ms,
    cost_per_token: raw.cost_per_token,
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
export function describeIssues(error: $ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join('');
      return `${path === '' ? '(body)' : path}: ${issue.message}`;
    })
    .join('; ');
}
