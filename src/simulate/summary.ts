/**
 * Figures over a simulation's seeds: how often the plan promoted or rolled back, at which
 * stage, after how long, and how many failed canary requests that cost. One shape for
 * `canary simulate --output json` and for each (plan, scenario) entry of bench/judgement.json.
 */
import type { SeedResult } from './run-seed.js';

export interface Spread {
  median: number;
  p90: number;
}

export interface SimulationSummary {
  seeds: number;
  promoted_pct: number;
  rolled_back_pct: number;
  /** Runs by how they ended: `promoted`, else the rollback's (or stop's) cause, e.g. `health`. */
  outcomes: Record<string, number>;
  /** Runs by the 1-based stage where they ended. */
  stage_decided: Record<string, number>;
  decision_seconds: Spread;
  failed_canary_requests: Spread;
  excess_failed_requests: Spread;
  /** Share of runs in which some evaluation found both versions degraded (a shared incident). */
  shared_incident_seen_pct: number;
}

/** The q-quantile by the nearest-rank method (a value some run actually had). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? 0;
}

function spread(values: number[]): Spread {
  return { median: quantile(values, 0.5), p90: quantile(values, 0.9) };
}

function pct(n: number, of: number): number {
  return Math.round((1000 * n) / Math.max(1, of)) / 10;
}

/** The key a run counts under in `outcomes`. */
export function outcomeKey(run: Pick<SeedResult, 'outcome' | 'cause'>): string {
  if (run.outcome === 'promoted') return 'promoted';
  return run.cause ?? run.outcome;
}

export function summariseRuns(runs: readonly SeedResult[]): SimulationSummary {
  const outcomes: Record<string, number> = {};
  const stages: Record<string, number> = {};
  for (const run of runs) {
    const key = outcomeKey(run);
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    const stage = run.stage === null ? 'none' : String(run.stage + 1);
    stages[stage] = (stages[stage] ?? 0) + 1;
  }
  return {
    seeds: runs.length,
    promoted_pct: pct(runs.filter((r) => r.outcome === 'promoted').length, runs.length),
    rolled_back_pct: pct(runs.filter((r) => r.outcome === 'rolled_back').length, runs.length),
    outcomes,
    stage_decided: stages,
    decision_seconds: spread(runs.map((r) => Math.round(r.decisionMs / 100) / 10)),
    failed_canary_requests: spread(runs.map((r) => r.failedCanaryRequests)),
    excess_failed_requests: spread(runs.map((r) => r.excessFailedRequests)),
    shared_incident_seen_pct: pct(runs.filter((r) => r.sharedIncidentLooks > 0).length, runs.length),
  };
}
