/**
 * The relay's stored state (versions and routes) with the contract's validation. Pure:
 * time comes in as an argument, and nothing here does I/O.
 */
import {
  type JsonValue,
  type Route,
  type RouteHealthCheck,
  type RouteRule,
  type RouteUpdate,
  type StickySessions,
  type StoredVersion,
  VERSION_TAG_PATTERN,
  type VersionSpec,
} from '../domain/relay.js';
import { ApiError, notFound, validation } from './api-error.js';

export interface RouteState {
  route: Route & { revision: number; updated_at: string };
  /**
   * The version that held the largest weight when the route was created: what the relay's
   * own auto-rollback restores (see TrafficSimulation.autoRollback).
   */
  stableTag: string;
  /** When the route was created (epoch ms): its simulated traffic starts here. */
  createdAt: number;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? `'${value}'` : typeof value;
}

/** The tag with the largest weight; the first listed wins a tie. */
export function activeVersion(rules: RouteRule[]): string {
  let best = rules[0] as RouteRule;
  for (const rule of rules) if (rule.weight > best.weight) best = rule;
  return best.version_tag;
}

function hasAtMostTwoDecimals(value: number): boolean {
  const scaled = value * 100;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

export class RelayState {
  readonly versions = new Map<string, StoredVersion>();
  readonly routes = new Map<string, RouteState>();
  /**
   * The routes that send traffic to each version, or may (the stable version, which the
   * relay's auto-rollback restores): what must be simulated before a version's metrics are read.
   */
  readonly routesByTag = new Map<string, Set<RouteState>>();
  /**
   * Called before a route's rules change, so the simulation can run the route's traffic up to
   * the change under the old weights.
   */
  beforeRulesChange: ((state: RouteState, now: number) => void) | undefined;
  private versionCounter = 0;

  registerVersion(body: unknown, now: number): { created: boolean; version: StoredVersion } {
    if (!isRecord(body)) throw validation(undefined, 'the body must be a JSON object');
    const tag = body.version_tag;
    if (tag === undefined) throw validation('version_tag', 'version_tag is required');
    if (typeof tag !== 'string' || !VERSION_TAG_PATTERN.test(tag)) {
      throw validation(
        'version_tag',
        `version_tag must match ^[a-z0-9-]{1,64}$ (lowercase letters, digits and -), got ${describe(tag)}`,
      );
    }
    if (body.model === undefined) throw validation('model', 'model is required');
    if (typeof body.model !== 'string' || body.model.trim() === '') {
      throw validation('model', `model must be a non-empty string, got ${describe(body.model)}`);
    }
    const spec: VersionSpec = { version_tag: tag, model: body.model };
    for (const key of ['parameters', 'metadata'] as const) {
      const value = body[key];
      if (value === undefined) continue;
      if (!isRecord(value)) throw validation(key, `${key} must be an object, got ${describe(value)}`);
      spec[key] = value as Record<string, JsonValue>;
    }
    for (const key of ['system_prompt', 'upstream_endpoint'] as const) {
      const value = body[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw validation(key, `${key} must be a string, got ${describe(value)}`);
      spec[key] = value;
    }
    const limit = body.cost_limit_per_request;
    if (limit !== undefined) {
      if (typeof limit !== 'number' || !(limit >= 0)) {
        throw validation('cost_limit_per_request', 'cost_limit_per_request must be a number of 0 or more');
      }
      spec.cost_limit_per_request = limit;
    }

    const existing = this.versions.get(tag);
    if (existing) {
      throw new ApiError(
        409,
        'conflict',
        `version ${tag} already exists; versions are immutable`,
        undefined,
        structuredClone(existing),
      );
    }
    this.versionCounter += 1;
    const stored: StoredVersion = {
      version_id: `ver_${this.versionCounter.toString(36).padStart(8, '0')}`,
      ...spec,
      created_at: isoTime(now),
    };
    this.versions.set(tag, stored);
    return { created: true, version: structuredClone(stored) };
  }

  getVersion(tag: string): StoredVersion {
    const version = this.versions.get(tag);
    if (!version) throw notFound(`version ${tag} not found`);
    return structuredClone(version);
  }

  /** Applies the contract's rule validation; every failure names field `route_rules`. */
  validateRules(value: unknown): RouteRule[] {
    const fail = (message: string) => validation('route_rules', message);
    if (value === undefined) throw fail('route_rules is required');
    if (!Array.isArray(value)) throw fail(`route_rules must be a list, got ${describe(value)}`);
    if (value.length === 0) throw fail('route_rules needs at least one rule');
    const rules: RouteRule[] = [];
    const seen = new Set<string>();
    let sum = 0;
    value.forEach((rule: unknown, index) => {
      const at = `route_rules[${index}]`;
      if (!isRecord(rule)) throw fail(`${at} must be an object with version_tag and weight`);
      const { version_tag: tag, weight } = rule;
      if (typeof tag !== 'string') throw fail(`${at}.version_tag must be a string, got ${describe(tag)}`);
      if (!this.versions.has(tag)) throw fail(`${at}.version_tag ${tag} is not a registered version`);
      if (seen.has(tag)) throw fail(`${at}.version_tag ${tag} appears more than once`);
      seen.add(tag);
      if (typeof weight !== 'number' || !Number.isFinite(weight)) {
        throw fail(`${at}.weight must be a number, got ${describe(weight)}`);
      }
      if (weight < 0 || weight > 100) throw fail(`${at}.weight must be between 0 and 100, got ${weight}`);
      if (!hasAtMostTwoDecimals(weight)) {
        throw fail(`${at}.weight may have at most two decimals, got ${weight}`);
      }
      sum += weight;
      rules.push({ version_tag: tag, weight });
    });
    if (Math.abs(sum - 100) > 0.001) {
      throw fail(`route_rules weights must sum to 100, got ${Math.round(sum * 1000) / 1000}`);
    }
    return rules;
  }

  createRoute(body: unknown, now: number): Route {
    if (!isRecord(body)) throw validation(undefined, 'the body must be a JSON object');
    const alias = body.model_alias;
    if (alias === undefined) throw validation('model_alias', 'model_alias is required');
    if (typeof alias !== 'string' || alias.trim() === '' || alias.length > 256) {
      throw validation('model_alias', `model_alias must be a non-empty string, got ${describe(alias)}`);
    }
    const rules = this.validateRules(body.route_rules);
    const route: RouteState['route'] = {
      route_id: alias,
      model_alias: alias,
      route_rules: rules,
      revision: 1,
      updated_at: isoTime(now),
    };
    const sticky = parseSticky(body.sticky_sessions);
    if (sticky) route.sticky_sessions = sticky;
    const health = parseHealthCheck(body.health_check);
    if (health) route.health_check = health;
    if (this.routes.has(alias)) {
      throw new ApiError(409, 'conflict', `route ${alias} already exists; change its weights with PATCH`);
    }
    const state: RouteState = { route, stableTag: activeVersion(rules), createdAt: now };
    this.routes.set(alias, state);
    this.index(state, []);
    return structuredClone(route);
  }

  getRoute(routeId: string): Route {
    const state = this.routes.get(routeId);
    if (!state) throw notFound(`route ${routeId} not found`);
    return structuredClone(state.route);
  }

  /**
   * `ifMatch` is the PATCH's `If-Match` header (an addition to the contract): `"7"`, `7`, `W/"7"`
   * or `*`. A revision other than the route's answers 412 with the route as it is, and changes nothing.
   */
  updateRoute(body: unknown, now: number, ifMatch?: string): RouteUpdate {
    if (!isRecord(body)) throw validation(undefined, 'the body must be a JSON object');
    const routeId = body.route_id;
    if (routeId === undefined) throw validation('route_id', 'route_id is required');
    if (typeof routeId !== 'string')
      throw validation('route_id', `route_id must be a string, got ${describe(routeId)}`);
    const state = this.routes.get(routeId);
    if (!state) throw notFound(`route ${routeId} not found`);
    const rules = this.validateRules(body.route_rules);
    const expected = ifMatch
      ?.trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
    if (expected !== undefined && expected !== '*' && expected !== String(state.route.revision)) {
      throw new ApiError(
        412,
        'precondition_failed',
        `route ${routeId} is at revision ${state.route.revision}, not ${expected}; nothing was changed`,
        undefined,
        undefined,
        structuredClone(state.route),
      );
    }
    this.setRules(state, rules, now);
    return {
      status: 'updated',
      route_id: routeId,
      route_rules: structuredClone(state.route.route_rules),
      revision: state.route.revision,
      active_version: activeVersion(state.route.route_rules),
      updated_at: state.route.updated_at,
    };
  }

  /**
   * Replaces a route's rules. Re-sending the rules it already has is not a change, so a
   * retried PATCH does not bump the revision and look like someone else's edit.
   */
  setRules(state: RouteState, rules: RouteRule[], now: number): boolean {
    const current = state.route.route_rules;
    const same =
      current.length === rules.length &&
      current.every(
        (rule, i) => rule.version_tag === rules[i]?.version_tag && rule.weight === rules[i]?.weight,
      );
    if (same) return false;
    this.beforeRulesChange?.(state, now);
    state.route.route_rules = rules.map((rule) => ({ ...rule }));
    state.route.revision += 1;
    state.route.updated_at = isoTime(now);
    this.index(state, current);
    return true;
  }

  /** Keeps routesByTag in step with a route whose rules were `previous` and are now its current ones. */
  private index(state: RouteState, previous: RouteRule[]): void {
    const tags = new Set([state.stableTag, ...state.route.route_rules.map((rule) => rule.version_tag)]);
    for (const rule of previous) {
      if (!tags.has(rule.version_tag)) this.routesByTag.get(rule.version_tag)?.delete(state);
    }
    for (const tag of tags) {
      let routes = this.routesByTag.get(tag);
      if (!routes) {
        routes = new Set();
        this.routesByTag.set(tag, routes);
      }
      routes.add(state);
    }
  }
}

function parseSticky(value: unknown): StickySessions | undefined {
  if (value === undefined || value === null) return undefined;
  const fail = (message: string) => validation('sticky_sessions', message);
  if (!isRecord(value)) throw fail(`sticky_sessions must be an object, got ${describe(value)}`);
  if (typeof value.enabled !== 'boolean') throw fail('sticky_sessions.enabled must be true or false');
  const sticky: StickySessions = { enabled: value.enabled };
  if (value.cookie_name !== undefined) {
    if (typeof value.cookie_name !== 'string' || value.cookie_name === '') {
      throw fail('sticky_sessions.cookie_name must be a non-empty string');
    }
    sticky.cookie_name = value.cookie_name;
  }
  if (value.ttl_seconds !== undefined) {
    if (
      typeof value.ttl_seconds !== 'number' ||
      !Number.isInteger(value.ttl_seconds) ||
      value.ttl_seconds <= 0
    ) {
      throw fail('sticky_sessions.ttl_seconds must be a whole number above 0');
    }
    sticky.ttl_seconds = value.ttl_seconds;
  }
  return sticky;
}

function parseHealthCheck(value: unknown): RouteHealthCheck | undefined {
  if (value === undefined || value === null) return undefined;
  const fail = (message: string) => validation('health_check', message);
  if (!isRecord(value)) throw fail(`health_check must be an object, got ${describe(value)}`);
  if (typeof value.enabled !== 'boolean') throw fail('health_check.enabled must be true or false');
  const health: RouteHealthCheck = { enabled: value.enabled };
  const rate = value.error_rate_threshold;
  if (rate !== undefined) {
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw fail('health_check.error_rate_threshold must be a number between 0 and 1');
    }
    health.error_rate_threshold = rate;
  }
  const p99 = value.latency_p99_threshold_ms;
  if (p99 !== undefined) {
    if (typeof p99 !== 'number' || !(p99 > 0)) {
      throw fail('health_check.latency_p99_threshold_ms must be a number above 0');
    }
    health.latency_p99_threshold_ms = p99;
  }
  if (value.auto_rollback !== undefined) {
    if (typeof value.auto_rollback !== 'boolean')
      throw fail('health_check.auto_rollback must be true or false');
    health.auto_rollback = value.auto_rollback;
  }
  return health;
}
