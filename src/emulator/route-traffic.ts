/**
 * One route's share of the traffic simulation: its own random stream, how far its traffic has
 * been simulated, its running totals per version, and (with the relay's auto-rollback on) the
 * last minute of its traffic per version. Routes are simulated only when a call needs them,
 * each from where it last stopped, so a call costs the same with 1 route or 1 000.
 */
import { LATENCY_BINS } from './latency.js';
import { Random, streamSeed } from './random.js';
import type { RouteState } from './relay-state.js';
import { type Aggregate, emptyAggregate, Ring } from './series.js';

/**
 * Everything one version has served on one route since the emulator started: the running
 * totals a Prometheus exposition reports as counters. Constant size per (route, version).
 */
export interface CumulativeTotals {
  routeId: string;
  versionTag: string;
  requests: number;
  errors: number;
  /** Sum over requests of each request's cost per token, like `Aggregate.cost`. */
  cost: number;
  /** Requests per latency bin (not cumulative). */
  latency: Float64Array;
}

/** How often the relay's own health check runs, and over how much recent traffic. */
export const HEALTH_CHECK_INTERVAL_MS = 10_000;
export const HEALTH_CHECK_WINDOW_MS = 60_000;
const HEALTH_SLOTS = HEALTH_CHECK_WINDOW_MS / HEALTH_CHECK_INTERVAL_MS;

export class RouteTraffic {
  /** Traffic up to this time (epoch ms) has been simulated. */
  until: number;
  readonly random: Random;
  private readonly totals = new Map<string, CumulativeTotals>();
  /**
   * Per version, its traffic on this route over the last minute, in six 10-second buckets
   * aligned to the health check's ticks, so each check reads exactly its window. A relay judges
   * a route's health on that route's traffic; reading the version's series instead would mix in
   * other routes, simulated up to other times.
   */
  private readonly health = new Map<string, Ring>();

  constructor(
    readonly state: RouteState,
    seed: number,
  ) {
    this.until = state.createdAt;
    this.random = new Random(streamSeed(seed, state.route.route_id));
  }

  /** Whether the relay's own auto-rollback watches this route (its checks need every second simulated). */
  get autoRollback(): boolean {
    const check = this.state.route.health_check;
    return check?.enabled === true && check.auto_rollback === true;
  }

  totalsFor(versionTag: string): CumulativeTotals {
    let totals = this.totals.get(versionTag);
    if (!totals) {
      totals = {
        routeId: this.state.route.route_id,
        versionTag,
        requests: 0,
        errors: 0,
        cost: 0,
        latency: new Float64Array(LATENCY_BINS),
      };
      this.totals.set(versionTag, totals);
    }
    return totals;
  }

  /** Adds simulated traffic to the running totals and, if the route is watched, its last minute. */
  record(
    versionTag: string,
    t: number,
    requests: number,
    errors: number,
    cost: number,
    binCounts: ArrayLike<number>,
    lo: number,
    binCount: number,
  ): void {
    const totals = this.totalsFor(versionTag);
    totals.requests += requests;
    totals.errors += errors;
    totals.cost += cost;
    for (let i = 0; i < binCount; i++) {
      const count = binCounts[i] ?? 0;
      if (count !== 0) totals.latency[lo + i] = (totals.latency[lo + i] ?? 0) + count;
    }
    if (!this.autoRollback) return;
    let health = this.health.get(versionTag);
    if (!health) {
      health = new Ring(HEALTH_CHECK_INTERVAL_MS, HEALTH_SLOTS);
      this.health.set(versionTag, health);
    }
    const slot = health.slot(Math.floor(t / HEALTH_CHECK_INTERVAL_MS), true);
    health.add(slot, requests, errors, cost, binCounts, lo, binCount);
  }

  /**
   * This route's traffic to `versionTag` over the health check's window ending at the tick
   * `now` (a multiple of 10 s): [now - 60 s, now).
   */
  healthWindow(versionTag: string, now: number): Aggregate {
    const into = emptyAggregate();
    const health = this.health.get(versionTag);
    if (!health) return into;
    const last = now / HEALTH_CHECK_INTERVAL_MS - 1;
    for (let bucket = last - HEALTH_SLOTS + 1; bucket <= last; bucket++) {
      const slot = health.slot(bucket, false);
      if (slot >= 0) health.addTo(into, slot, 1);
    }
    return into;
  }

  allTotals(): Iterable<CumulativeTotals> {
    // Every version the route names gets its series, at weight 0 too, so a scraper sees each
    // counter start at 0 and a rate over its first minutes misses nothing.
    for (const rule of this.state.route.route_rules) this.totalsFor(rule.version_tag);
    return this.totals.values();
  }
}
