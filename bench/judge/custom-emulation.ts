/**
 * `analysis.metrics` in the judgement suite. The simulation has no Prometheus, so the plan's
 * PromQL metrics are read here from what the emulator's /metrics exposition would give a
 * Prometheus over the same window (src/emulator/prometheus.ts), by metric name:
 *
 * - `ttft_p99_ms`: the exposition's time-to-first-token histogram is the request latency
 *   histogram scaled by a per-version factor, so its p99 over a window is the window's latency
 *   p99 (read from the emulator, with its sampling noise) times that factor. `ttft.canary` /
 *   `ttft.baseline` set the factors; `ttftIncident` multiplies both versions' for a while (an
 *   upstream slow to start, which the built-in metrics do not see).
 * - `rate_limited_share`: 429s over requests in the window. The exposition counts a fixed share
 *   of requests; a real upstream's 429s are random, so here they are a binomial draw from the
 *   window's requests at the version's rate, seeded by the run's seed, version and window.
 * - anything else (the dry-run `quality_score`): no value, said so.
 *
 * Reads go to the emulator over loopback like the engine's own, in virtual time.
 */
import type { CustomMetricsPort, CustomValues } from '../../src/custom-metrics/types.js';
import type { Plan } from '../../src/domain/plan.js';
import { mix32 } from '../../src/emulator/scenario.js';
import type { SimulatedRun } from '../../src/simulate/run-seed.js';

export interface CustomTruth {
  /** TTFT p99 as a multiple of the window's request-latency p99, per version. */
  ttft: { baseline: number; canary: number };
  /** Share of requests answered 429, per version. */
  rateLimited: { baseline: number; canary: number };
  /** Both versions' TTFT × factor from `fromMs` to `toMs` (virtual, from the run's start). */
  ttftIncident?: { factor: number; fromMs: number; toMs: number } | undefined;
}

export const DEFAULT_TRUTH: CustomTruth = {
  // 1800 ms latency p99 → a TTFT p99 of 800 ms: room under llm.yaml's `max: 2000` for a
  // canary at (1.5×) and past (2×) its `max_ratio: 1.5`, so the comparison is what decides.
  ttft: { baseline: 0.45, canary: 0.45 },
  rateLimited: { baseline: 0.005, canary: 0.005 },
};

/** A uniform draw in [0, 1) from a few integers. */
function uniform(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix32((h ^ (p >>> 0)) >>> 0);
  return h / 2 ** 32;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Binomial(n, p): normal with continuity when the spread is wide, else a Poisson count. */
export function binomial(n: number, p: number, draw: (i: number) => number): number {
  const mean = n * p;
  const variance = mean * (1 - p);
  if (variance > 25) {
    const u1 = Math.max(1e-12, draw(1));
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * draw(2));
    return Math.min(n, Math.max(0, Math.round(mean + z * Math.sqrt(variance))));
  }
  // Knuth's Poisson(mean): fine for the means under ~30 this branch sees.
  const limit = Math.exp(-mean);
  let k = 0;
  let product = draw(3);
  while (product > limit && k < n) {
    k++;
    product *= draw(4 + k);
  }
  return k;
}

export function emulatedCustomMetrics(plan: Plan, truth: CustomTruth) {
  return (run: SimulatedRun): CustomMetricsPort => ({
    async read(query): Promise<CustomValues> {
      const role = query.versionTag === plan.canary.tag ? 'canary' : 'baseline';
      const m = await run.client.readMetrics(query);
      const requests = m.request_count ?? 0;
      const out: CustomValues = {};
      for (const metric of plan.analysis.customMetrics ?? []) {
        if (metric.name === 'ttft_p99_ms') {
          const p99 = m.latency_p99_ms;
          const at = query.end - run.startedAt;
          const incident = truth.ttftIncident;
          const factor =
            truth.ttft[role] *
            (incident && at > incident.fromMs && at <= incident.toMs ? incident.factor : 1);
          out[metric.name] = p99 == null ? { value: null, note: 'no requests' } : { value: p99 * factor };
        } else if (metric.name === 'rate_limited_share') {
          if (requests === 0) {
            out[metric.name] = { value: null, note: 'no requests' };
            continue;
          }
          const key = [run.seed, hash(query.versionTag), Math.floor(query.end / 1000)];
          const limited = binomial(requests, truth.rateLimited[role], (i) => uniform(...key, i));
          out[metric.name] = { value: limited / requests };
        } else {
          out[metric.name] = { value: null, note: 'not emulated in the judgement suite' };
        }
      }
      return out;
    },
  });
}
