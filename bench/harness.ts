/**
 * In-process measurements for `npm run bench` (bench/run.mjs bundles this file with esbuild and
 * runs it in a child `node --expose-gc`, one task per process, printing one JSON line).
 * The rollout and the emulator share a FakeClock, so a 24-hour rollout runs in minutes; wall
 * times are taken with performance.now(), never from the fake clock.
 */
import { cpuUsage, memoryUsage } from 'node:process';
import { FakeClock } from '../src/clock.js';
import type { Plan } from '../src/domain/plan.js';
import { type StartedEmulator, startEmulator } from '../src/emulator/index.js';
import type { Scenario } from '../src/emulator/types.js';
import { loadPlan } from '../src/plan/load.js';
import { createRelayClient } from '../src/relay/client.js';
import { undiciTransport } from '../src/relay/undici-transport.js';
import { runRollout } from '../src/rollout/engine.js';
import type { RolloutEvent } from '../src/rollout/events.js';

const KEY = 'bench-key-4f1c';
const gc = (globalThis as { gc?: () => void }).gc;

/** The relay client a rollout would use, on the in-process emulator and the harness's clock. */
function benchClient(baseUrl: string, clock: FakeClock) {
  return createRelayClient({ transport: undiciTransport, baseUrl, apiKey: KEY, keySource: 'bench', clock });
}

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return memoryUsage().heapUsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const FAILING: Scenario = {
  versions: {
    'bench-v1': { error_rate: 0.005 },
    'bench-v2': { error_rate: 0.004, changes: [{ when: { weight_at_least: 25 }, set: { error_rate: 0.2 } }] },
  },
};
const HEALTHY: Scenario = {
  versions: { 'bench-v1': { error_rate: 0.005 }, 'bench-v2': { error_rate: 0.005 } },
};

async function benchPlan(root: string, overrides: Partial<Plan>): Promise<Plan> {
  const loaded = await loadPlan(`${root}/examples/quickstart.yaml`);
  return {
    ...loaded,
    // The benchmark times the stage engine; the example's prompt evaluation is not part of it.
    evaluation: undefined,
    route: 'bench-route',
    baseline: { tag: 'bench-v1', spec: { version_tag: 'bench-v1', model: 'bench/model' } },
    canary: { tag: 'bench-v2', spec: { version_tag: 'bench-v2', model: 'bench/model' } },
    // Judged on error rate: a simulated p99 is too noisy for a benchmark that must not flake.
    analysis: {
      ...loaded.analysis,
      // The example's 250 is sized for its 2000 simulated rps; at the 1000 used here, 5 % of
      // traffic gives ~300 requests a window, and over a 24 h rollout (14 400 windows at stage 1)
      // some window falls short by chance and counts as no data. Error rates need far fewer.
      minRequests: 50,
      thresholds: { error_rate: { max: 0.03 } },
      baselineComparison: { error_rate: { max_increase: 0.02 } },
    },
    ...overrides,
  } as Plan;
}

async function withRollout(
  plan: Plan,
  scenario: Scenario,
  rps: number,
  onEvent: (e: RolloutEvent, emulator: StartedEmulator) => void,
  onCall?: (path: string, method: string, body: unknown) => void,
) {
  const clock = new FakeClock();
  const emulator = await startEmulator({
    port: 0,
    apiKey: KEY,
    clock,
    scenario,
    rps,
    seed: 5,
    ...(onCall ? { onCall: (r) => onCall(r.path, r.method, r.body) } : {}),
  });
  const client = benchClient(emulator.baseUrl, clock);
  try {
    const result = await runRollout(plan, {
      clock,
      relay: client,
      emit: (e) => onEvent(e, emulator),
      relayUrl: emulator.baseUrl,
    });
    return { result, emulator };
  } finally {
    await client.close();
    await emulator.close();
  }
}

/** Wall ms from the metrics answer that failed the last allowed check to the rollback PATCH. */
async function detection(root: string, runs: number) {
  const plan = await benchPlan(root, {});
  const gaps: number[] = [];
  for (let i = 0; i < runs; i++) {
    let lastMetricsAt = 0;
    let patchAt: number | undefined;
    await withRollout(
      plan,
      FAILING,
      1000,
      () => {},
      (path, method, body) => {
        const now = performance.now();
        if (method === 'GET' && path.startsWith('/v1/metrics/versions')) lastMetricsAt = now;
        const rules = (body as { route_rules?: { version_tag: string; weight: number }[] } | undefined)
          ?.route_rules;
        if (
          patchAt === undefined &&
          method === 'PATCH' &&
          rules?.some((r) => r.version_tag === 'bench-v1' && r.weight === 100)
        ) {
          patchAt = now;
        }
      },
    ).then(({ result }) => {
      if (result.outcome !== 'rolled_back') throw new Error(`expected a rollback, got ${result.outcome}`);
    });
    if (patchAt === undefined) throw new Error('no rollback PATCH seen');
    gaps.push(patchAt - lastMetricsAt);
  }
  return { medianMs: median(gaps), maxMs: Math.max(...gaps), runs };
}

/** A long rollout: heap after the first stage vs at the end, and CPU per evaluation. */
async function longRollout(root: string, hours: number) {
  const stageMs = (hours * 3_600_000) / 3;
  const plan = await benchPlan(root, {});
  plan.stages = plan.stages.map((s, i) => ({ ...s, bakeMs: i < 3 ? stageMs : s.bakeMs }));
  // Thresholds no simulated noise can cross: 43 200 evaluations of a healthy canary must not roll back.
  plan.analysis = {
    ...plan.analysis,
    intervalMs: 2_000,
    thresholds: { error_rate: { max: 0.5 } },
    baselineComparison: {},
  };
  let heapAfterFirst: number | undefined;
  let rssAfterFirst: number | undefined;
  let evaluations = 0;
  let evaluationsAtFirst = 0;
  const cpu0 = cpuUsage();
  const wall0 = performance.now();
  let cpuAtFirst = cpu0;
  const { result, emulator } = await withRollout(plan, HEALTHY, 1000, (e) => {
    if (e.type === 'evaluation') evaluations++;
    if (e.type === 'stage_passed' && e.stage === 0) {
      heapAfterFirst = heapAfterGc();
      rssAfterFirst = memoryUsage().rss;
      evaluationsAtFirst = evaluations;
      cpuAtFirst = cpuUsage();
    }
  });
  const cpu = cpuUsage(cpuAtFirst);
  // Let closed sockets and the last timers settle first: one 24 h run (of eight) read 7 MiB
  // more here than the others, which read -0.2 to +1.1 MiB.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  const heapEnd = heapAfterGc();
  const rssEnd = memoryUsage().rss;
  void emulator;
  if (result.outcome !== 'promoted')
    throw new Error(`expected promotion, got ${result.outcome}: ${result.summary}`);
  const later = evaluations - evaluationsAtFirst;
  return {
    hours,
    evaluations,
    heapAfterFirstStage: heapAfterFirst ?? 0,
    heapEnd,
    heapGrowth: heapEnd - (heapAfterFirst ?? heapEnd),
    rssAfterFirstStage: rssAfterFirst ?? 0,
    rssGrowth: rssEnd - (rssAfterFirst ?? rssEnd),
    cpuMsPerEvaluation: later > 0 ? (cpu.user + cpu.system) / 1000 / later : 0,
    wallMs: performance.now() - wall0,
    totalCpuMs: (cpuUsage(cpu0).user + cpuUsage(cpu0).system) / 1000,
  };
}

/** The emulator at 10 000 simulated requests/s: retained memory over simulated time, query latency. */
async function emulatorLoad(queries: number) {
  const clock = new FakeClock();
  const emulator = await startEmulator({
    port: 0,
    apiKey: KEY,
    clock,
    scenario: HEALTHY,
    rps: 10_000,
    seed: 3,
  });
  const client = benchClient(emulator.baseUrl, clock);
  try {
    for (const tag of ['bench-v1', 'bench-v2'])
      await client.registerVersion({ version_tag: tag, model: 'm' });
    await client.createRoute({
      model_alias: 'bench-route',
      route_rules: [
        { version_tag: 'bench-v1', weight: 50 },
        { version_tag: 'bench-v2', weight: 50 },
      ],
    });
    const sample = () => {
      emulator.control.simulateUntil();
      return { stats: emulator.control.stats(), heap: heapAfterGc() };
    };
    clock.advance(3_600_000);
    const oneHour = sample();
    clock.advance(23 * 3_600_000);
    const oneDay = sample();
    const latencies: number[] = [];
    for (let i = 0; i < queries; i++) {
      clock.advance(2_000);
      const end = clock.now();
      const start = performance.now();
      await client.readMetrics({ versionTag: i % 2 ? 'bench-v1' : 'bench-v2', start: end - 300_000, end });
      latencies.push(performance.now() - start);
    }
    return {
      rps: 10_000,
      afterOneHour: { ...oneHour.stats, heap: oneHour.heap },
      afterOneDay: { ...oneDay.stats, heap: oneDay.heap },
      heapGrowth: oneDay.heap - oneHour.heap,
      queryMedianMs: median(latencies),
      queryP90Ms: [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length * 0.9)] ?? 0,
      queries,
    };
  } finally {
    await client.close();
    await emulator.close();
  }
}

/**
 * The emulator's cost per metrics call with 200 routes against 1, each route with its own two
 * versions. `one`: route 0 is read every 2 s of fake time while the others sit idle (a call
 * used to simulate every route first). `all`: every route is read every 2 s, round-robin (200
 * rollouts at once). CPU is the whole process's (client, HTTP and emulator), the same work at
 * either size apart from the emulator's.
 */
async function emulatorScale(calls: number) {
  const measure = async (routes: number, mode: 'one' | 'all') => {
    const clock = new FakeClock();
    const emulator = await startEmulator({ port: 0, apiKey: KEY, clock, rps: 200, seed: 9 });
    const client = benchClient(emulator.baseUrl, clock);
    try {
      for (let i = 0; i < routes; i++) {
        for (const tag of [`r${i}-a`, `r${i}-b`])
          await client.registerVersion({ version_tag: tag, model: 'm' });
        await client.createRoute({
          model_alias: `r${i}`,
          route_rules: [
            { version_tag: `r${i}-a`, weight: 50 },
            { version_tag: `r${i}-b`, weight: 50 },
          ],
        });
      }
      const read = async (c: number) => {
        clock.advance(mode === 'one' ? 2_000 : 2_000 / routes);
        const end = clock.now();
        const route = mode === 'one' ? 0 : c % routes;
        await client.readMetrics({ versionTag: `r${route}-b`, start: end - 300_000, end });
      };
      for (let c = 0; c < Math.min(200, calls); c++) await read(c);
      const latencies: number[] = [];
      const cpu0 = cpuUsage();
      for (let c = 0; c < calls; c++) {
        const start = performance.now();
        await read(c);
        latencies.push(performance.now() - start);
      }
      const cpu = cpuUsage(cpu0);
      const cpuUs = cpu.user + cpu.system;
      return {
        medianMs: median(latencies),
        cpuUsPerCall: cpuUs / calls,
        callsPerCpuS: calls / (cpuUs / 1e6),
        rss: memoryUsage().rss,
      };
    } finally {
      await client.close();
      await emulator.close();
    }
  };
  // Interleaved twice; each figure is the better of its two runs (load only ever adds CPU).
  const best = <T extends { cpuUsPerCall: number }>(a: T, b: T) => (a.cpuUsPerCall <= b.cpuUsPerCall ? a : b);
  const result: Record<
    'one' | 'all',
    { at1: Awaited<ReturnType<typeof measure>>; at200: Awaited<ReturnType<typeof measure>> }
  > = {} as never;
  for (const mode of ['one', 'all'] as const) {
    const a1 = await measure(1, mode);
    const a200 = await measure(200, mode);
    const b1 = await measure(1, mode);
    const b200 = await measure(200, mode);
    result[mode] = { at1: best(a1, b1), at200: best(a200, b200) };
  }
  return result;
}

const [task, root = process.cwd(), arg = ''] = process.argv.slice(2);
const tasks: Record<string, () => Promise<unknown>> = {
  detection: () => detection(root, Number(arg) || 5),
  long: () => longRollout(root, Number(arg) || 24),
  emulator: () => emulatorLoad(Number(arg) || 300),
  'emulator-scale': () => emulatorScale(Number(arg) || 2000),
};
const run = task ? tasks[task] : undefined;
if (!run) {
  process.stderr.write(`usage: harness <${Object.keys(tasks).join('|')}> <root> [arg]\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run())}\n`);
process.exit(0);
