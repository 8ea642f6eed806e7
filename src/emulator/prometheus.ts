/**
 * The emulator's Prometheus exposition (`GET /metrics`): the simulated traffic as counters and
 * a latency histogram, so a real Prometheus can scrape the emulator and canary can judge a
 * rollout from PromQL. The values are the simulation's running totals per (route, version),
 * read at scrape time by collect() callbacks on a registry of our own; the process-wide
 * default registry is never touched, so two emulators in one process do not collide.
 *
 * The histogram's buckets are the emulator's own latency bins, so `histogram_quantile` over
 * them sees the same distribution the metrics API summarises.
 */
import { Counter, type Metric, Registry } from 'prom-client';
import { histogramQuantile, LATENCY_BINS } from './latency.js';
import type { CumulativeTotals, TrafficSimulation } from './simulation.js';

/**
 * The emulator does not model token counts, so each simulated request counts as this many
 * tokens and its dollars as this many times its cost per token: dollars / tokens is then
 * exactly the cost per token the metrics API reports.
 */
export const TOKENS_PER_REQUEST = 1_000;

export const PROMETHEUS_METRIC_NAMES = {
  requests: 'relay_requests_total',
  duration: 'relay_request_duration_seconds',
  cost: 'relay_cost_dollars_total',
  tokens: 'relay_tokens_total',
  ttft: 'relay_time_to_first_token_seconds',
  rateLimited: 'relay_rate_limited_total',
} as const;

/**
 * What the exposition needs beyond the simulated totals: each version's data-plane answers
 * (`ttft_ms`, `rate_limit_rate`) and its latency p50. Time to first token is the latency
 * distribution scaled so that its median is `ttft_ms` (a slower model is slower to start too);
 * rate-limited requests are `rate_limit_rate` of the requests served.
 */
export interface ExpositionExtras {
  answers(tag: string): { ttft_ms: number; rate_limit_rate: number };
  latencyP50Ms(tag: string): number;
}

/**
 * Upper bound of each latency bin in ms. Taken from histogramQuantile (the 100th percentile
 * of a histogram with one request in bin i is that bin's upper edge) rather than by
 * repeating latency.ts's layout constants here.
 */
function binUpperBoundsMs(): number[] {
  const bins = new Float64Array(LATENCY_BINS);
  const bounds: number[] = [];
  for (let i = 0; i < LATENCY_BINS; i++) {
    bins.fill(0);
    bins[i] = 1;
    bounds.push(histogramQuantile(bins, 1) ?? Number.POSITIVE_INFINITY);
  }
  return bounds;
}

/** `le` label values in seconds; six significant digits move an edge by at most a millionth. */
const BOUNDS_MS = binUpperBoundsMs();
const LE_LABELS = BOUNDS_MS.map((ms) => String(Number((ms / 1000).toPrecision(6))));
/** Geometric middle of each bin, for the histogram's _sum (the simulation keeps counts, not latencies). */
const MIDDLES_S = BOUNDS_MS.map(
  (upper, i) => Math.sqrt(upper * (i === 0 ? upper : (BOUNDS_MS[i - 1] ?? upper))) / 1000,
);

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Latency bin counts moved to the bins their latencies × `scale` fall in (their middles decide). */
function scaledBins(latency: ArrayLike<number>, scale: number): number[] {
  const out = new Array<number>(LATENCY_BINS).fill(0);
  let j = 0;
  for (let i = 0; i < LATENCY_BINS; i++) {
    const count = latency[i] ?? 0;
    if (count === 0) continue;
    const ms = (MIDDLES_S[i] ?? 0) * 1000 * scale;
    j = BOUNDS_MS.findIndex((upper) => ms <= upper);
    out[j < 0 ? LATENCY_BINS - 1 : j] = (out[j < 0 ? LATENCY_BINS - 1 : j] ?? 0) + count;
  }
  return out;
}

function histogramValues(
  totals: Readonly<CumulativeTotals>,
  name: string = PROMETHEUS_METRIC_NAMES.duration,
  bins: ArrayLike<number> = totals.latency,
): HistogramValue[] {
  const base = { route: totals.routeId, version_tag: totals.versionTag };
  const values: HistogramValue[] = [];
  let cumulative = 0;
  let sum = 0;
  for (let i = 0; i < LATENCY_BINS; i++) {
    const count = bins[i] ?? 0;
    cumulative += count;
    sum += count * (MIDDLES_S[i] ?? 0);
    values.push({
      metricName: `${name}_bucket`,
      labels: { ...base, le: LE_LABELS[i] ?? '+Inf' },
      value: cumulative,
    });
  }
  values.push(
    { metricName: `${name}_bucket`, labels: { ...base, le: '+Inf' }, value: cumulative },
    { metricName: `${name}_sum`, labels: base, value: sum },
    { metricName: `${name}_count`, labels: base, value: cumulative },
  );
  return values;
}

export interface Exposition {
  contentType: string;
  render(): Promise<string>;
}

export function createExposition(simulation: TrafficSimulation, extras?: ExpositionExtras): Exposition {
  const registry = new Registry();
  const totals = () => simulation.cumulative();
  requestsCounter(registry, totals);
  totalsCounter(
    registry,
    totals,
    PROMETHEUS_METRIC_NAMES.cost,
    'Simulated spend in dollars, by route and version.',
    (t) => t.cost * TOKENS_PER_REQUEST,
  );
  totalsCounter(
    registry,
    totals,
    PROMETHEUS_METRIC_NAMES.tokens,
    `Simulated tokens, by route and version (${TOKENS_PER_REQUEST} per request).`,
    (t) => t.requests * TOKENS_PER_REQUEST,
  );
  binnedHistogram(
    registry,
    PROMETHEUS_METRIC_NAMES.duration,
    'Simulated request latency in seconds, by route and version.',
    () => [...totals()].flatMap((t) => histogramValues(t)),
  );
  if (extras) {
    totalsCounter(
      registry,
      totals,
      PROMETHEUS_METRIC_NAMES.rateLimited,
      'Simulated requests answered 429 by the upstream, by route and version.',
      (t) => Math.floor(t.requests * extras.answers(t.versionTag).rate_limit_rate),
    );
    const ttftName = PROMETHEUS_METRIC_NAMES.ttft;
    binnedHistogram(
      registry,
      ttftName,
      'Simulated time to the first token in seconds, by route and version.',
      () =>
        [...totals()].flatMap((t) => {
          const scale = extras.answers(t.versionTag).ttft_ms / Math.max(1, extras.latencyP50Ms(t.versionTag));
          return histogramValues(t, ttftName, scaledBins(t.latency, scale));
        }),
    );
  }
  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}

type Totals = () => Iterable<Readonly<CumulativeTotals>>;
const LABEL_NAMES = ['route', 'version_tag'] as const;

function requestsCounter(registry: Registry, totals: Totals): void {
  new Counter({
    name: PROMETHEUS_METRIC_NAMES.requests,
    help: 'Simulated requests served, by route, version and outcome.',
    labelNames: [...LABEL_NAMES, 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of totals()) {
        const labels = { route: t.routeId, version_tag: t.versionTag };
        // Both outcomes always present, so an error-rate query never divides an absent series.
        this.inc({ ...labels, status: 'ok' }, t.requests - t.errors);
        this.inc({ ...labels, status: 'error' }, t.errors);
      }
    },
  });
}

/** A counter of one running total per (route, version), read from the simulation at scrape time. */
function totalsCounter(
  registry: Registry,
  totals: Totals,
  name: string,
  help: string,
  total: (t: Readonly<CumulativeTotals>) => number,
): void {
  new Counter({
    name,
    help,
    labelNames: LABEL_NAMES,
    registers: [registry],
    collect() {
      this.reset();
      for (const t of totals()) this.inc({ route: t.routeId, version_tag: t.versionTag }, total(t));
    },
  });
}

/**
 * A histogram whose bins the simulation already counts. prom-client's Histogram only grows by
 * one observation at a time, so this metric hands its values to the registry directly through
 * the get() shape every prom-client metric has.
 */
function binnedHistogram(
  registry: Registry,
  name: string,
  help: string,
  values: () => HistogramValue[],
): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values() }),
  };
  registry.registerMetric(metric as unknown as Metric);
}
