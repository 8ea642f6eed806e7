/**
 * Minimal shape checks of the relay's answers. They accept what a real relay may add or
 * leave out (unknown keys pass through, optional fields may be null) and reject what
 * would make canary act on garbage: a route without rules, a weight that is not a number.
 *
 * Written with `zod/mini` (the same library and checks as `zod`, functional API): the classic
 * API builds its whole method surface when it loads, a large part of `canary rollback`'s
 * start-up. zod/mini loads no locale, so the English messages are configured here (the same
 * ones `zod` sets; the configuration is shared, so this changes nothing for the plan schema).
 */
import { z } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type { Route, RouteUpdate, StoredVersion, VersionMetrics } from './types.js';

z.config(en());

/** Optional on the wire, and a real relay may send null for "unset". */
const opt = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.nullish(schema),
    z.transform((v: z.output<T> | null | undefined) => v ?? undefined),
  );

const jsonObject = z.record(z.string(), z.unknown());

export const storedVersionSchema = z.pipe(
  z.looseObject({
    version_tag: z.string(),
    model: z.string(),
    version_id: z.pipe(z.union([z.string(), z.number()]), z.transform(String)),
    created_at: z.string(),
    parameters: opt(jsonObject),
    system_prompt: opt(z.string()),
    upstream_endpoint: opt(z.string()),
    cost_limit_per_request: opt(z.number()),
    metadata: opt(jsonObject),
  }),
  z.transform((v) => v as StoredVersion),
);

const ruleSchema = z.looseObject({ version_tag: z.string(), weight: z.number() });

const stickySchema = z.looseObject({
  enabled: z.boolean(),
  cookie_name: opt(z.string()),
  ttl_seconds: opt(z.number()),
});

const healthCheckSchema = z.looseObject({
  enabled: z.boolean(),
  error_rate_threshold: opt(z.number()),
  latency_p99_threshold_ms: opt(z.number()),
  auto_rollback: opt(z.boolean()),
});

export const routeSchema = z.pipe(
  z
    .looseObject({
      route_id: opt(z.string()),
      model_alias: opt(z.string()),
      route_rules: z.array(ruleSchema),
      revision: opt(z.number()),
      updated_at: opt(z.string()),
      sticky_sessions: opt(stickySchema),
      health_check: opt(healthCheckSchema),
    })
    .check(
      z.refine((r) => r.route_id !== undefined || r.model_alias !== undefined, {
        message: 'neither route_id nor model_alias is present',
        path: ['route_id'],
      }),
    ),
  // The contract makes the id the alias, so either one stands for both.
  z.transform((r) => {
    const id = (r.route_id ?? r.model_alias) as string;
    return { ...r, route_id: id, model_alias: r.model_alias ?? id } as Route;
  }),
);

export const routeUpdateSchema = z.looseObject({
  status: opt(z.string()),
  route_id: opt(z.string()),
  route_rules: z.array(ruleSchema),
  revision: opt(z.number()),
  active_version: opt(z.string()),
  updated_at: opt(z.string()),
});

export function toRouteUpdate(raw: z.infer<typeof routeUpdateSchema>, routeId: string): RouteUpdate {
  return { ...raw, status: 'updated', route_id: raw.route_id ?? routeId } as RouteUpdate;
}

/** Missing or null means "no data"; a string or object where a number belongs is garbage. */
const metric = z.pipe(
  z.nullish(z.number().check(z.nonnegative())),
  z.transform((v: number | null | undefined) => v ?? null),
);

export const metricsSchema = z.looseObject({
  version_tag: opt(z.string()),
  start_time: opt(z.string()),
  end_time: opt(z.string()),
  request_count: metric,
  error_count: metric,
  error_rate: metric,
  latency_p50_ms: metric,
  latency_p99_ms: metric,
  cost_per_token: metric,
});

export function toVersionMetrics(
  raw: z.infer<typeof metricsSchema>,
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

export const healthSchema = z.looseObject({ status: z.string() });

export const errorBodySchema = z.object({
  error: z.looseObject({
    type: opt(z.string()),
    message: opt(z.string()),
    field: opt(z.string()),
    existing: z.optional(z.unknown()),
  }),
});

/** One line naming the first few problems, e.g. `route_rules[0].weight: expected number`. */
export function describeIssues(error: z.core.$ZodError): string {
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
