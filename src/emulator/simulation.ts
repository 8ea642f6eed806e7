/**
 * Simulated request traffic. Each route receives `rps` requests per second, split across
 * its versions by the weights in force at that moment; each version's requests fail, take
 * time and cost according to its behaviour. The simulation is lazy: before anything reads
 * metrics or changes a route, it is advanced to the clock's now, so a weight change takes
 * effect at the right instant and a 24 h fake-clock run costs only the seconds it simulates.
 *
 * Work per simulated second does not grow with rps: counts are drawn from Poisson and
 * binomial distributions, and latencies are spread over the histogram bins as a multinomial
 * draw (one binomial per bin the behaviour's distribution touches). Drawing every latency
 * keeps percentiles honest at any sample size; an earlier version drew 16 weighted samples
 * per second, which made a 6 s window's p99 rest on one or two samples and swing 2–3×.
 */
import { type BinMass, histogramQuantile, LATENCY_BINS, logNormalBinMass, logNormalFit } from './latency.js';
import type { Random } from './random.js';
import type { RelayState, RouteState } from './relay-state.js';
import type { BehaviourBook } from './scenario.js';
import { type Aggregate, COARSE_BUCKET_MS, COARSE_BUCKETS, emptyAggregate, VersionSeries } from './series.js';
import type { EmulatorStats } from './types.js';

/** Latencies above this are cut off, like a relay's upstream timeout. */
const LOG_MAX_LATENCY_MS = Math.log(300_000);
/** How often the relay's own health check runs, and over how much recent traffic. */
export const HEALTH_CHECK_INTERVAL_MS = 10_000;
export const HEALTH_CHECK_WINDOW_MS = 60_000;
/** Fewer requests than this in the window is too little to judge, so the check passes. */
export const HEALTH_CHECK_MIN_REQUESTS = 20;

export interface WindowMetrics {
  request_count: number;
  error_count: number;
  error_rate: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  cost_per_token: number | null;
}

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

export interface AutoRollbackEvent {
  at: number;
  routeId: string;
  versionTag: string;
  reason: string;
}

function round(value: number, significant: number): number {
  return Number(value.toPrecision(significant));
}

export function summarise(aggregate: Aggregate): WindowMetrics {
  const request_count = Math.round(aggregate.requests);
  const error_count = Math.min(request_count, Math.round(aggregate.errors));
  if (request_count === 0) {
    return {
      request_count: 0,
      error_count: 0,
      error_rate: null,
      latency_p50_ms: null,
      latency_p99_ms: null,
      cost_per_token: null,
    };
  }
  const p50 = histogramQuantile(aggregate.latency, 0.5);
  const p99 = histogramQuantile(aggregate.latency, 0.99);
  return {
    request_count,
    error_count,
    error_rate: round(error_count / request_count, 6),
    latency_p50_ms: p50 === undefined ? null : Math.round(p50),
    latency_p99_ms: p99 === undefined ? null : Math.round(p99),
    cost_per_token: round(aggregate.cost / aggregate.requests, 6),
  };
}

export class TrafficSimulation {
  private readonly series = new Map<string, VersionSeries>();
  /** Keyed by route id and version tag; the rings above answer windows, these answer "since start". */
  private readonly totals = new Map<string, CumulativeTotals>();
  private readonly binCounts = new Float64Array(LATENCY_BINS);
  /** Bin masses per distinct (mu, sigma): behaviours change rarely, so this stays tiny. */
  private readonly massCache = new Map<string, BinMass>();
  private simulatedUntil: number;
  /** The relay's own rollbacks, newest last (bounded). */
  readonly autoRollbacks: AutoRollbackEvent[] = [];

  constructor(
    private readonly state: RelayState,
    private readonly behaviours: BehaviourBook,
    private readonly random: Random,
    /** Requests per second on each route at a moment (a scenario's rps_changes make it vary). */
    private readonly rpsAt: (now: number) => number,
    startAt: number,
  ) {
    this.simulatedUntil = startAt;
  }

  get until(): number {
    return this.simulatedUntil;
  }

  advance(now: number): void {
    if (!(now > this.simulatedUntil)) return;
    const retention = COARSE_BUCKETS * COARSE_BUCKET_MS;
    if (now - this.simulatedUntil > retention && !this.anyAutoRollback()) {
      // After a long idle stretch (a laptop asleep) skip what would be dropped anyway. Not
      // with auto-rollback on, whose decisions depend on every minute of traffic.
      this.simulatedUntil = Math.ceil((now - retention) / 1000) * 1000;
    }
    let t = this.simulatedUntil;
    while (t < now) {
      const segmentEnd = Math.min(now, Math.floor(t / 1000) * 1000 + 1000);
      for (const route of this.state.routes.values()) this.simulateRoute(route, t, segmentEnd);
      t = segmentEnd;
      this.simulatedUntil = t;
      if (t % HEALTH_CHECK_INTERVAL_MS === 0) this.healthCheck(t);
    }
  }

  private simulateRoute(route: RouteState, from: number, to: number): void {
    const seconds = (to - from) / 1000;
    const rps = this.rpsAt(from);
    for (const rule of route.route.route_rules) {
      const totals = this.totalsFor(route.route.route_id, rule.version_tag);
      if (!(rule.weight > 0)) continue;
      const requests = this.random.poisson(((rps * rule.weight) / 100) * seconds);
      if (requests === 0) continue;
      const behaviour = this.behaviours.resolve(rule.version_tag, rule.weight, from);
      const errors = this.random.binomial(requests, behaviour.error_rate);
      const mass = this.binMass(behaviour);
      const binCount = this.drawLatencies(requests, mass);
      // Prices wobble a little request to request (token mix), never below zero.
      const cost = requests * behaviour.cost_per_token * Math.max(0, 1 + 0.02 * this.random.normal());
      let series = this.series.get(rule.version_tag);
      if (!series) {
        series = new VersionSeries();
        this.series.set(rule.version_tag, series);
      }
      series.record(from, requests, errors, cost, this.binCounts, mass.lo, binCount);
      totals.requests += requests;
      totals.errors += errors;
      totals.cost += cost;
      for (let i = 0; i < binCount; i++) {
        const count = this.binCounts[i] ?? 0;
        if (count !== 0) totals.latency[mass.lo + i] = (totals.latency[mass.lo + i] ?? 0) + count;
      }
    }
  }

  private totalsFor(routeId: string, versionTag: string): CumulativeTotals {
    const key = `${routeId}\u0000${versionTag}`;
    let totals = this.totals.get(key);
    if (!totals) {
      totals = {
        routeId,
        versionTag,
        requests: 0,
        errors: 0,
        cost: 0,
        latency: new Float64Array(LATENCY_BINS),
      };
      this.totals.set(key, totals);
    }
    return totals;
  }

  /** Running totals per (route, version) since the emulator started, as of `until`. */
  cumulative(): Iterable<Readonly<CumulativeTotals>> {
    // Every version a route names gets its series, at weight 0 too, so a scraper sees each
    // counter start at 0 and a rate over its first minutes misses nothing.
    for (const route of this.state.routes.values()) {
      for (const rule of route.route.route_rules) this.totalsFor(route.route.route_id, rule.version_tag);
    }
    return this.totals.values();
  }

  private binMass(behaviour: Parameters<typeof logNormalFit>[0]): BinMass {
    const { mu, sigma } = logNormalFit(behaviour);
    const key = `${mu}:${sigma}`;
    let mass = this.massCache.get(key);
    if (!mass) {
      if (this.massCache.size > 1_000) this.massCache.clear(); // run-time changes are few; never unbounded
      mass = logNormalBinMass(mu, sigma, LOG_MAX_LATENCY_MS);
      this.massCache.set(key, mass);
    }
    return mass;
  }

  /**
   * Multinomial draw of `requests` latencies over the bins, by sequential conditional
   * binomials; leaves the counts in binCounts[0 .. n) for bins mass.lo .. and returns n.
   */
  private drawLatencies(requests: number, mass: BinMass): number {
    const n = mass.probs.length;
    let remaining = requests;
    let remainingMass = 1;
    for (let i = 0; i < n; i++) {
      const p = mass.probs[i] ?? 0;
      let count = 0;
      if (remaining > 0 && p > 0) {
        count =
          i === n - 1 || p >= remainingMass ? remaining : this.random.binomial(remaining, p / remainingMass);
      }
      this.binCounts[i] = count;
      remaining -= count;
      remainingMass -= p;
    }
    return n;
  }

  aggregate(tag: string, start: number, end: number): Aggregate {
    const aggregate = emptyAggregate();
    this.series.get(tag)?.aggregate(start, end, this.simulatedUntil, aggregate);
    return aggregate;
  }

  metrics(tag: string, start: number, end: number): WindowMetrics {
    return summarise(this.aggregate(tag, start, end));
  }

  private anyAutoRollback(): boolean {
    for (const route of this.state.routes.values()) {
      if (route.route.health_check?.enabled && route.route.health_check.auto_rollback) return true;
    }
    return false;
  }

  /**
   * The relay's own auto-rollback, as this emulator models it (the seeds do not say how a
   * real relay decides): every 10 s, each route with health_check.enabled and auto_rollback
   * judges every version holding weight over the last 60 s against error_rate_threshold and
   * latency_p99_threshold_ms. When a version other than the stable one breaches, all traffic
   * goes to the stable version, which is the one that held the largest weight when the route
   * was created (the baseline a rollout starts from). A breaching stable version is left
   * alone: there is nothing safer to move to. Windows with fewer than 20 requests pass.
   */
  private healthCheck(now: number): void {
    for (const route of this.state.routes.values()) {
      const check = route.route.health_check;
      if (!check?.enabled || !check.auto_rollback) continue;
      for (const rule of route.route.route_rules) {
        if (!(rule.weight > 0) || rule.version_tag === route.stableTag) continue;
        const window = this.metrics(rule.version_tag, now - HEALTH_CHECK_WINDOW_MS, now);
        if (window.request_count < HEALTH_CHECK_MIN_REQUESTS) continue;
        let reason: string | undefined;
        if (
          check.error_rate_threshold !== undefined &&
          window.error_rate !== null &&
          window.error_rate > check.error_rate_threshold
        ) {
          reason = `error rate ${window.error_rate} above ${check.error_rate_threshold}`;
        } else if (
          check.latency_p99_threshold_ms !== undefined &&
          window.latency_p99_ms !== null &&
          window.latency_p99_ms > check.latency_p99_threshold_ms
        ) {
          reason = `p99 latency ${window.latency_p99_ms} ms above ${check.latency_p99_threshold_ms} ms`;
        }
        if (reason === undefined) continue;
        const rules = route.route.route_rules.map((r) => ({
          version_tag: r.version_tag,
          weight: r.version_tag === route.stableTag ? 100 : 0,
        }));
        // A PATCH may have dropped the stable tag from the rules; bring it back to hold the traffic.
        if (!rules.some((r) => r.version_tag === route.stableTag)) {
          rules.push({ version_tag: route.stableTag, weight: 100 });
        }
        this.state.setRules(route, rules, now);
        this.autoRollbacks.push({
          at: now,
          routeId: route.route.route_id,
          versionTag: rule.version_tag,
          reason,
        });
        if (this.autoRollbacks.length > 100) this.autoRollbacks.shift();
        break;
      }
    }
  }

  stats(): Pick<
    EmulatorStats,
    'trackedVersions' | 'retainedBuckets' | 'bucketCapacityPerVersion' | 'simulatedUntil'
  > {
    let retainedBuckets = 0;
    for (const series of this.series.values()) retainedBuckets += series.retainedBuckets(this.simulatedUntil);
    return {
      trackedVersions: this.series.size,
      retainedBuckets,
      bucketCapacityPerVersion: VersionSeries.capacity,
      simulatedUntil: this.simulatedUntil,
    };
  }
}
