/**
 * Simulated request traffic. Each route receives `rps` requests per second, split across
 * its versions by the weights in force at that moment; each version's requests fail, take
 * time and cost according to its behaviour.
 *
 * The simulation is lazy, route by route: a call runs only the routes it reads (a version's
 * metrics: the routes that send it traffic; a route: that route) up to the clock's now, each
 * from where it last stopped and with its own random stream seeded from the emulator's seed
 * and the route's id. A weight change runs its route up to the change first, so it takes
 * effect at the right instant. A call's cost therefore depends neither on how many routes the
 * emulator holds nor on when other routes were last read, and a seeded route's figures
 * depend only on the seed and that route's own calls.
 *
 * Work per simulated second does not grow with rps: counts are drawn from Poisson and
 * binomial distributions, and latencies are spread over the histogram bins as a multinomial
 * draw (one binomial per bin the behaviour's distribution touches). Drawing every latency
 * keeps percentiles honest at any sample size; an earlier version drew 16 weighted samples
 * per second, which made a 6 s window's p99 rest on one or two samples and swing 2–3×.
 * Traffic older than the 1-second buckets' hour is drawn a minute at a time (sums of Poisson
 * and multinomial draws are draws of the same kind), so catching up after a long gap costs
 * at most an hour of seconds and a day of minutes, however long the gap.
 */
import { type BinMass, histogramQuantile, LATENCY_BINS, logNormalBinMass, logNormalFit } from './latency.js';
import type { RelayState, RouteState } from './relay-state.js';
import { type CumulativeTotals, HEALTH_CHECK_INTERVAL_MS, RouteTraffic } from './route-traffic.js';
import type { BehaviourBook } from './scenario.js';
import {
  type Aggregate,
  COARSE_BUCKET_MS,
  COARSE_BUCKETS,
  emptyAggregate,
  FINE_BUCKET_MS,
  FINE_BUCKETS,
  VersionSeries,
} from './series.js';
import type { EmulatorStats } from './types.js';

export type { CumulativeTotals } from './route-traffic.js';
export { HEALTH_CHECK_INTERVAL_MS, HEALTH_CHECK_WINDOW_MS } from './route-traffic.js';

/** Latencies above this are cut off, like a relay's upstream timeout. */
const LOG_MAX_LATENCY_MS = Math.log(300_000);
/** Fewer requests than this in the window is too little to judge, so the check passes. */
export const HEALTH_CHECK_MIN_REQUESTS = 20;
/**
 * p99 is judged only over at least this many requests, so that it rests on ten of them: over
 * 100, it is about the largest one, and a healthy version at 10 rps crossed a p99 threshold
 * 1.7× its true p99 within a minute about one route in ten.
 */
export const HEALTH_CHECK_MIN_P99_REQUESTS = 1_000;

export interface WindowMetrics {
  request_count: number;
  error_count: number;
  error_rate: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  cost_per_token: number | null;
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
  private readonly traffic = new Map<RouteState, RouteTraffic>();
  private readonly binCounts = new Float64Array(LATENCY_BINS);
  /** Bin masses per distinct (mu, sigma): behaviours change rarely, so this stays tiny. */
  private readonly massCache = new Map<string, BinMass>();
  /** The latest time any call has run the simulation to. */
  private latest: number;
  /** The relay's own rollbacks, newest last (bounded). */
  readonly autoRollbacks: AutoRollbackEvent[] = [];

  constructor(
    private readonly state: RelayState,
    private readonly behaviours: BehaviourBook,
    private readonly seed: number,
    /** Requests per second on each route at a moment (a scenario's rps_changes make it vary). */
    private readonly rpsAt: (now: number) => number,
    startAt: number,
  ) {
    this.latest = startAt;
    state.beforeRulesChange = (route, now) => this.advanceRoute(route, now);
  }

  get until(): number {
    return this.latest;
  }

  /** Runs every route up to `now` (a Prometheus scrape, the auto-rollback log, a test's sync). */
  advance(now: number): void {
    for (const route of this.state.routes.values()) this.advanceRoute(route, now);
  }

  /** Runs the routes that send `tag` traffic up to `now`, so its series is complete to then. */
  advanceTag(tag: string, now: number): void {
    const routes = this.state.routesByTag.get(tag);
    if (routes) for (const route of routes) this.advanceRoute(route, now);
    if (now > this.latest) this.latest = now;
  }

  advanceRoute(route: RouteState, now: number): void {
    if (now > this.latest) this.latest = now;
    let traffic = this.traffic.get(route);
    if (!traffic) {
      traffic = new RouteTraffic(route, this.seed);
      this.traffic.set(route, traffic);
    }
    if (!(now > traffic.until)) return;
    const watched = traffic.autoRollback;
    const retention = COARSE_BUCKETS * COARSE_BUCKET_MS;
    if (now - traffic.until > retention && !watched) {
      // After a long idle stretch (a laptop asleep) skip what would be dropped anyway. Not
      // with auto-rollback on, whose decisions depend on every minute of traffic.
      traffic.until = Math.ceil((now - retention) / 1000) * 1000;
    }
    // Before this, only the 1-minute buckets keep traffic, so it is drawn a minute at a time.
    const fineFrom = watched
      ? Number.NEGATIVE_INFINITY
      : Math.floor(now / FINE_BUCKET_MS) * FINE_BUCKET_MS - FINE_BUCKETS * FINE_BUCKET_MS;
    let t = traffic.until;
    while (t < now) {
      const coarse = t < fineFrom;
      const segmentEnd = coarse
        ? Math.min(
            fineFrom,
            Math.floor(t / COARSE_BUCKET_MS) * COARSE_BUCKET_MS + COARSE_BUCKET_MS,
            this.behaviours.nextChange(t),
          )
        : Math.min(now, Math.floor(t / FINE_BUCKET_MS) * FINE_BUCKET_MS + FINE_BUCKET_MS);
      this.simulateRoute(traffic, t, segmentEnd, coarse);
      t = segmentEnd;
      traffic.until = t;
      if (watched && t % HEALTH_CHECK_INTERVAL_MS === 0) this.healthCheck(traffic, t);
    }
  }

  private simulateRoute(traffic: RouteTraffic, from: number, to: number, coarseOnly: boolean): void {
    const seconds = (to - from) / 1000;
    const random = traffic.random;
    const rps = this.rpsAt(from);
    for (const rule of traffic.state.route.route_rules) {
      if (!(rule.weight > 0)) continue;
      const requests = random.poisson(((rps * rule.weight) / 100) * seconds);
      if (requests === 0) continue;
      const behaviour = this.behaviours.resolve(rule.version_tag, rule.weight, from);
      const errors = random.binomial(requests, behaviour.error_rate);
      const mass = this.binMass(behaviour);
      const binCount = this.drawLatencies(traffic, requests, mass);
      // Prices wobble a little request to request (token mix), never below zero.
      const cost = requests * behaviour.cost_per_token * Math.max(0, 1 + 0.02 * random.normal());
      let series = this.series.get(rule.version_tag);
      if (!series) {
        series = new VersionSeries();
        this.series.set(rule.version_tag, series);
      }
      series.record(from, requests, errors, cost, this.binCounts, mass.lo, binCount, coarseOnly);
      traffic.record(rule.version_tag, from, requests, errors, cost, this.binCounts, mass.lo, binCount);
    }
  }

  /** Running totals per (route, version) since the emulator started, as of the last `advance`. */
  cumulative(): Iterable<Readonly<CumulativeTotals>> {
    const all: CumulativeTotals[] = [];
    for (const route of this.state.routes.values()) {
      let traffic = this.traffic.get(route);
      if (!traffic) {
        traffic = new RouteTraffic(route, this.seed);
        this.traffic.set(route, traffic);
      }
      all.push(...traffic.allTotals());
    }
    return all;
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
  private drawLatencies(traffic: RouteTraffic, requests: number, mass: BinMass): number {
    const n = mass.probs.length;
    let remaining = requests;
    let remainingMass = 1;
    for (let i = 0; i < n; i++) {
      const p = mass.probs[i] ?? 0;
      let count = 0;
      if (remaining > 0 && p > 0) {
        count =
          i === n - 1 || p >= remainingMass
            ? remaining
            : traffic.random.binomial(remaining, p / remainingMass);
      }
      this.binCounts[i] = count;
      remaining -= count;
      remainingMass -= p;
    }
    return n;
  }

  /** The traffic `tag` served in [start, end), every route that sends it traffic run up to `now` first. */
  aggregate(tag: string, start: number, end: number, now: number): Aggregate {
    this.advanceTag(tag, now);
    const aggregate = emptyAggregate();
    this.series.get(tag)?.aggregate(start, end, now, aggregate);
    return aggregate;
  }

  metrics(tag: string, start: number, end: number, now: number): WindowMetrics {
    return summarise(this.aggregate(tag, start, end, now));
  }

  /**
   * The relay's own auto-rollback, as this emulator models it (the seeds do not say how a
   * real relay decides): every 10 s, each route with health_check.enabled and auto_rollback
   * judges every version holding weight over the last 60 s against error_rate_threshold and
   * latency_p99_threshold_ms (p99 over 1 000 requests or more). When a version other than the stable one breaches, all traffic
   * goes to the stable version, which is the one that held the largest weight when the route
   * was created (the baseline a rollout starts from). A breaching stable version is left
   * alone: there is nothing safer to move to. Windows with fewer than 20 requests pass. The
   * check judges the route's own traffic to each version, as a relay checking a route would.
   * Each route runs its checks as its traffic is simulated, so a check is seen by the first
   * call that reads the route or a version it sends traffic to.
   */
  private healthCheck(traffic: RouteTraffic, now: number): void {
    const route = traffic.state;
    const check = route.route.health_check;
    if (!check?.enabled || !check.auto_rollback) return;
    for (const rule of route.route.route_rules) {
      if (!(rule.weight > 0) || rule.version_tag === route.stableTag) continue;
      const window = summarise(traffic.healthWindow(rule.version_tag, now));
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
        window.request_count >= HEALTH_CHECK_MIN_P99_REQUESTS &&
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
      // Routes are simulated lazily, each on its own: keep the log in time order across them.
      let at = this.autoRollbacks.length;
      while (at > 0 && (this.autoRollbacks[at - 1]?.at ?? 0) > now) at--;
      this.autoRollbacks.splice(at, 0, {
        at: now,
        routeId: route.route.route_id,
        versionTag: rule.version_tag,
        reason,
      });
      if (this.autoRollbacks.length > 100) this.autoRollbacks.shift();
      break;
    }
  }

  stats(): Pick<
    EmulatorStats,
    'trackedVersions' | 'retainedBuckets' | 'bucketCapacityPerVersion' | 'simulatedUntil'
  > {
    let retainedBuckets = 0;
    for (const series of this.series.values()) retainedBuckets += series.retainedBuckets(this.latest);
    return {
      trackedVersions: this.series.size,
      retainedBuckets,
      bucketCapacityPerVersion: VersionSeries.capacity,
      simulatedUntil: this.latest,
    };
  }
}
