/** `route_defaults:` in a plan: sticky sessions and the relay's own health check for a new route. */
import type { CreateRouteRequest, RouteHealthCheck, StickySessions } from '../domain/relay.js';
import { KEYS } from './plan-keys.js';
import { type Entry, optionalMapping, type PlanReader } from './reader.js';

export function readRouteDefaults(
  r: PlanReader,
  entry: Entry | undefined,
): Pick<CreateRouteRequest, 'sticky_sessions' | 'health_check'> | undefined {
  const fields = optionalMapping(r, entry, KEYS.routeDefaults);
  if (entry && !fields) return undefined;
  const out: Pick<CreateRouteRequest, 'sticky_sessions' | 'health_check'> = {};
  let ok = true;
  const stickyEntry = r.optional(fields, 'sticky_sessions');
  if (stickyEntry) {
    const f = r.mapping(stickyEntry, KEYS.sticky);
    const enabled = r.boolean(r.required(f, 'enabled'));
    const cookie = r.string(r.optional(f, 'cookie_name'), 'a cookie name');
    const ttlEntry = r.optional(f, 'ttl_seconds');
    const ttl = r.number(
      ttlEntry,
      'a whole number of seconds above 0',
      (n) => Number.isSafeInteger(n) && n > 0,
    );
    if (enabled === undefined || (ttlEntry && ttl === undefined)) ok = false;
    else {
      const sticky: StickySessions = { enabled };
      if (cookie !== undefined) sticky.cookie_name = cookie;
      if (ttl !== undefined) sticky.ttl_seconds = ttl;
      out.sticky_sessions = sticky;
    }
  }
  const healthEntry = r.optional(fields, 'health_check');
  if (healthEntry) {
    const f = r.mapping(healthEntry, KEYS.healthCheck);
    const enabled = r.boolean(r.required(f, 'enabled'));
    const rateEntry = r.optional(f, 'error_rate_threshold');
    const rate = r.number(rateEntry, 'a number between 0 and 1', (n) => n >= 0 && n <= 1);
    const p99Entry = r.optional(f, 'latency_p99_threshold_ms');
    const p99 = r.number(p99Entry, 'a number of milliseconds above 0', (n) => n > 0);
    const autoEntry = r.optional(f, 'auto_rollback');
    const auto = r.boolean(autoEntry);
    if (
      enabled === undefined ||
      (rateEntry && rate === undefined) ||
      (p99Entry && p99 === undefined) ||
      (autoEntry && auto === undefined)
    ) {
      ok = false;
    } else {
      const check: RouteHealthCheck = { enabled };
      if (rate !== undefined) check.error_rate_threshold = rate;
      if (p99 !== undefined) check.latency_p99_threshold_ms = p99;
      if (auto !== undefined) check.auto_rollback = auto;
      out.health_check = check;
    }
  }
  return ok ? out : undefined;
}
