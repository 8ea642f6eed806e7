/**
 * One simulated rollout: the plan's real engine and analysis against an in-process emulator
 * in virtual time. A FakeClock drives both; the relay client talks to the emulator over
 * loopback HTTP through a transport that holds the clock while a call is in flight, so time
 * cannot jump past an answer still on its way. Used by `canary simulate` and the judgement
 * suite (bench/judge.ts).
 */
import { FakeClock } from '../clock.js';
import type { CustomMetricsPort } from '../custom-metrics/types.js';
import type { Plan } from '../domain/plan.js';
import { type Scenario, startEmulator } from '../emulator/index.js';
import { mix32 } from '../emulator/scenario.js';
import { mapBounded } from '../map-bounded.js';
import { createRelayClient, type RelayClient } from '../relay/client.js';
import { heldTransport } from '../relay/held-transport.js';
import { undiciTransport } from '../relay/undici-transport.js';
import { runRollout } from '../rollout/engine.js';
import type { RolloutEvent } from '../rollout/events.js';

const KEY = 'simulate-key-0c41a9';

export interface SeedResult {
  seed: number;
  outcome: string;
  cause: string | null;
  /** 0-based stage where the run ended (rolled back, or the last one reached). */
  stage: number | null;
  /** Virtual ms from the start to the decision (rollback confirmed, promoted, or left). */
  decisionMs: number;
  canaryRequests: number;
  /** Failed requests the canary served before the decision. */
  failedCanaryRequests: number;
  /** Those above what the baseline's error rate over the same time would have failed. */
  excessFailedRequests: number;
  /** Evaluations that found both versions degraded (a shared incident). */
  sharedIncidentLooks: number;
  summary: string;
}

export interface SimulationInput {
  plan: Plan;
  scenario: Scenario;
  /** Requests per second on the route (before the scenario's rps_changes). */
  rps: number;
  /** A metrics outage: /v1/metrics answers 503 from `fromMs` until `toMs` (virtual, from the start). */
  outage?: { fromMs: number; toMs: number } | undefined;
  /** Sees every engine event (tests, debugging). */
  onEvent?: ((event: RolloutEvent) => void) | undefined;
  /**
   * Reads the plan's `analysis.metrics` in the simulation (which has no Prometheus or score
   * API), e.g. from the emulator's own numbers (bench/judge/custom-emulation.ts). Without one
   * the plan's custom metrics are left out.
   */
  customMetrics?: ((run: SimulatedRun) => CustomMetricsPort) | undefined;
}

/** What a custom metrics reader may draw on in one simulated run. */
export interface SimulatedRun {
  client: RelayClient;
  clock: FakeClock;
  seed: number;
  /** Virtual time the run started at. */
  startedAt: number;
}

/** The n-th seed of a run, scrambled so that seed n and n + 1 do not start alike. */
export function scrambledSeed(n: number): number {
  return (mix32(n) % 2_147_483_646) + 1;
}

/**
 * What a simulation changes in a plan: the relay is the emulator, metrics come from it, and
 * nothing reaches outside (no webhooks). Gates are approved and stage checks pass at once
 * (the simulation judges the analysis, not the commands), which the caller says.
 */
export function simulationPlan(plan: Plan, keepCustomMetrics = false): Plan {
  // The pre-traffic evaluation is left out too: it judges answers, the simulation judges traffic.
  const { notify: _notify, checks: _checks, evaluation: _evaluation, ...rest } = plan;
  return {
    ...rest,
    relay: { ...plan.relay, url: 'emulator' },
    stages: plan.stages.map(({ checks: _stageChecks, ...stage }) => stage),
    // analysis.metrics read outside sources (Prometheus, score APIs) the simulation does not have.
    analysis: {
      ...plan.analysis,
      provider: 'relay',
      prometheus: undefined,
      customMetrics: keepCustomMetrics ? plan.analysis.customMetrics : undefined,
    },
  };
}

export async function runSeed(input: SimulationInput, seed: number): Promise<SeedResult> {
  const plan = simulationPlan(input.plan, input.customMetrics !== undefined);
  const clock = new FakeClock();
  const start = clock.now();
  const emulator = await startEmulator({
    port: 0,
    apiKey: KEY,
    clock,
    scenario: input.scenario,
    rps: input.rps,
    seed,
  });
  const client = createRelayClient({
    transport: heldTransport(undiciTransport, clock),
    baseUrl: emulator.baseUrl,
    apiKey: KEY,
    keySource: 'simulation',
    clock,
    connections: 2,
  });
  const stopOutage = new AbortController();
  const { outage } = input;
  if (outage) {
    clock
      .sleep(outage.fromMs, stopOutage.signal)
      .then(() => {
        emulator.control.injectFault({
          mode: 'server_error',
          status: 503,
          count: 1e9,
          path_prefix: '/v1/metrics',
        });
        return clock.sleep(outage.toMs - outage.fromMs, stopOutage.signal);
      })
      .then(() => emulator.control.clearFaults())
      .catch(() => {});
  }
  let sharedIncidentLooks = 0;
  try {
    const result = await runRollout(plan, {
      clock,
      relay: client,
      relayUrl: emulator.baseUrl,
      gate: async () => 'promote',
      customMetrics: input.customMetrics?.({ client, clock, seed, startedAt: start }),
      emit: (event) => {
        if (event.type === 'evaluation' && event.evaluation.verdict === 'hold') sharedIncidentLooks++;
        input.onEvent?.(event);
      },
    });
    stopOutage.abort();
    emulator.control.clearFaults();
    const end = clock.now();
    const read = (versionTag: string) => client.readMetrics({ versionTag, start, end, route: plan.route });
    const [canary, baseline] = await Promise.all([read(plan.canary.tag), read(plan.baseline.tag)]);
    const requests = canary.request_count ?? 0;
    const failed = canary.error_count ?? 0;
    const baseRate =
      (baseline.request_count ?? 0) > 0 ? (baseline.error_count ?? 0) / (baseline.request_count ?? 1) : 0;
    return {
      seed,
      outcome: result.outcome,
      cause: result.cause ?? null,
      stage: result.stage,
      decisionMs: end - start,
      canaryRequests: requests,
      failedCanaryRequests: failed,
      excessFailedRequests: Math.max(0, Math.round(failed - requests * baseRate)),
      sharedIncidentLooks,
      summary: result.summary,
    };
  } finally {
    stopOutage.abort();
    await client.close();
    await emulator.close();
  }
}

/**
 * The run of `count` seeds (scrambled seeds 1..count) that `canary simulate` and the judgement
 * suite make, `concurrency` at once (runs overlap their loopback waits); `onRun` sees each
 * finished run (a progress count).
 */
export function runSeeds(
  input: SimulationInput,
  count: number,
  options: { concurrency: number; onRun?: ((run: SeedResult) => void) | undefined },
): Promise<SeedResult[]> {
  const seeds = Array.from({ length: count }, (_, i) => scrambledSeed(i + 1));
  return mapBounded(seeds, options.concurrency, async (seed) => {
    const run = await runSeed(input, seed);
    options.onRun?.(run);
    return run;
  });
}
