/**
 * The judgement suite: scenarios whose right outcome is known, each run through the real
 * engine (in-process emulator, one FakeClock shared by emulator and engine, the real relay
 * client over loopback) for many seeds, once with the plan's significance test and once
 * with it off (plain comparison of the observed values). For each: the share judged
 * correctly, the rollbacks, the time to decision and, for bad canaries, the blast radius:
 * the failed requests the canary served before the rollback.
 *
 *   npm run judge -- [--seeds N] [--quick] [--confidence 0.95] [--min-windows 4]
 *                    [--scenario name,...] [--concurrency N] [--out bench/judgement.json]
 *
 * Run through bench/judge.mjs, which bundles this file with esbuild (Node 20 runs no TypeScript).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FakeClock } from '../src/clock.js';
import { startEmulator } from '../src/emulator/index.js';
import { loadPlan } from '../src/plan/load.js';
import { SIGNIFICANCE_DEFAULTS } from '../src/plan/schema.js';
import type { Plan, SignificanceConfig } from '../src/plan/types.js';
import { createRelayClient } from '../src/relay/client.js';
import { undiciTransport } from '../src/relay/undici-transport.js';
import { runRollout } from '../src/rollout/engine.js';
import type { RolloutEvent } from '../src/rollout/events.js';
import { CANARY, type JudgeScenario, SCENARIOS } from './judge/scenarios.js';

const ROOT = process.env.JUDGE_ROOT ?? process.cwd();
const KEY = 'judge-suite-key-0c41';

export interface RunResult {
  seed: number;
  outcome: string;
  cause: string | null;
  correct: boolean;
  /** Virtual ms from the start to the run's end (rollback confirmed or promoted). */
  decisionMs: number;
  /** 0-based stage the run reached. */
  stage: number | null;
  canaryRequests: number;
  canaryErrors: number;
}

export interface ModeSummary {
  runs: number;
  correctPct: number;
  rolledBackPct: number;
  causes: Record<string, number>;
  decisionSeconds: { median: number; p90: number };
  canaryErrors: { median: number; p90: number; max: number };
  canaryRequests: { median: number };
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? 0;
}

export async function runOne(scenario: JudgeScenario, plan: Plan, seed: number): Promise<RunResult> {
  const clock = new FakeClock();
  const start = clock.now();
  const emulator = await startEmulator({
    port: 0,
    apiKey: KEY,
    clock,
    scenario: scenario.emulator,
    rps: scenario.rps,
    seed,
  });
  const client = createRelayClient({
    transport: undiciTransport,
    baseUrl: emulator.baseUrl,
    apiKey: KEY,
    keySource: 'judge',
    clock,
  });
  const stopOutage = new AbortController();
  const { outage } = scenario;
  if (outage) {
    clock
      .sleep(outage.fromMs, stopOutage.signal)
      .then(() => {
        emulator.control.injectFault({
          mode: 'server_error',
          status: 503,
          count: 1_000_000,
          path_prefix: '/v1/metrics',
        });
        return clock.sleep(outage.toMs - outage.fromMs, stopOutage.signal);
      })
      .then(() => emulator.control.clearFaults())
      .catch(() => {});
  }
  try {
    const events: RolloutEvent[] = [];
    const result = await runRollout(plan, {
      clock,
      relay: client,
      emit: (e) => events.push(e),
      relayUrl: emulator.baseUrl,
    });
    stopOutage.abort();
    emulator.control.clearFaults();
    const end = clock.now();
    const served = await client.readMetrics({ versionTag: CANARY, start, end, route: plan.route });
    const rolledBack = result.outcome === 'rolled_back';
    return {
      seed,
      outcome: result.outcome,
      cause: result.cause ?? null,
      correct: scenario.truth === 'bad' ? rolledBack : result.outcome === 'promoted',
      decisionMs: end - start,
      stage: result.stage,
      canaryRequests: served.request_count ?? 0,
      canaryErrors: served.error_count ?? 0,
    };
  } finally {
    stopOutage.abort();
    await client.close();
    await emulator.close();
  }
}

export function summarise(runs: RunResult[]): ModeSummary {
  const pct = (n: number) => Math.round((1000 * n) / Math.max(1, runs.length)) / 10;
  const causes: Record<string, number> = {};
  for (const r of runs) {
    if (r.outcome === 'rolled_back') causes[r.cause ?? 'unknown'] = (causes[r.cause ?? 'unknown'] ?? 0) + 1;
  }
  const seconds = runs.map((r) => r.decisionMs / 1000);
  const errors = runs.map((r) => r.canaryErrors);
  return {
    runs: runs.length,
    correctPct: pct(runs.filter((r) => r.correct).length),
    rolledBackPct: pct(runs.filter((r) => r.outcome === 'rolled_back').length),
    causes,
    decisionSeconds: { median: quantile(seconds, 0.5), p90: quantile(seconds, 0.9) },
    canaryErrors: { median: quantile(errors, 0.5), p90: quantile(errors, 0.9), max: Math.max(0, ...errors) },
    canaryRequests: {
      median: quantile(
        runs.map((r) => r.canaryRequests),
        0.5,
      ),
    },
  };
}

/** Runs `task` over `items` with at most `limit` in flight (runs overlap their loopback waits). */
async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function pad(text: string | number, width: number, right = false): string {
  const s = String(text);
  return right ? s.padStart(width) : s.padEnd(width);
}

function table(rows: { scenario: JudgeScenario; fixed: ModeSummary; significance: ModeSummary }[]): string {
  const head =
    `${pad('scenario', 24)} ${pad('truth', 5)} │ ${pad('correct', 8, true)} ${pad('rolled', 7, true)} ${pad('decide s', 9, true)} ${pad('failed', 13, true)}` +
    ` │ ${pad('correct', 8, true)} ${pad('rolled', 7, true)} ${pad('decide s', 9, true)} ${pad('failed', 13, true)}`;
  const group = `${pad('', 30)} │ ${pad('fixed comparison (significance off)', 40)} │ significance test`;
  const lines = [group, head, '─'.repeat(head.length)];
  const cells = (m: ModeSummary, truth: string) => {
    const failed = truth === 'bad' ? `${m.canaryErrors.median} / ${m.canaryErrors.p90}` : '–';
    return (
      `${pad(`${m.correctPct}%`, 8, true)} ${pad(`${m.rolledBackPct}%`, 7, true)} ` +
      `${pad(m.decisionSeconds.median, 9, true)} ${pad(failed, 13, true)}`
    );
  };
  for (const row of rows) {
    lines.push(
      `${pad(row.scenario.name, 24)} ${pad(row.scenario.truth, 5)} │ ${cells(row.fixed, row.scenario.truth)} │ ${cells(row.significance, row.scenario.truth)}`,
    );
  }
  lines.push('');
  lines.push(
    'correct: share of seeds judged right (bad → rolled back, good → promoted); rolled: share rolled back;',
  );
  lines.push(
    'decide s: median virtual seconds to the decision; failed: canary failed requests before the decision (median / p90).',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      confidence: { type: 'string' },
      'min-windows': { type: 'string' },
      scenario: { type: 'string' },
      concurrency: { type: 'string', default: '6' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'judgement.json') },
    },
  });
  const seeds = Number(values.seeds ?? (values.quick ? 10 : 50));
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error('--seeds takes a whole number of at least 1');
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('--concurrency takes a whole number');
  const chosen = values.scenario
    ? SCENARIOS.filter((s) => values.scenario?.split(',').includes(s.name))
    : SCENARIOS;
  if (chosen.length === 0) {
    throw new Error(`no such scenario; the scenarios are ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }

  const planFile = path.join(ROOT, 'bench', 'judge', 'plan.yaml');
  const loaded = await loadPlan(planFile);
  const significance: SignificanceConfig = {
    ...(loaded.analysis.significance ?? SIGNIFICANCE_DEFAULTS),
  };
  if (values.confidence !== undefined) significance.confidence = Number(values.confidence);
  if (values['min-windows'] !== undefined) significance.minWindows = Number(values['min-windows']);
  const plans: Record<'fixed' | 'significance', Plan> = {
    fixed: { ...loaded, analysis: { ...loaded.analysis, significance: undefined } },
    significance: { ...loaded, analysis: { ...loaded.analysis, significance } },
  };

  const started = Date.now();
  console.log(
    `judging ${chosen.length} scenarios × ${seeds} seeds × 2 analyses (confidence ${significance.confidence}, ` +
      `min windows ${significance.minWindows})…`,
  );
  const rows: { scenario: JudgeScenario; fixed: ModeSummary; significance: ModeSummary }[] = [];
  const raw: Record<string, Record<string, RunResult[]>> = {};
  for (const scenario of chosen) {
    const seedList = Array.from({ length: seeds }, (_, i) => 1000 + i);
    const byMode: Record<string, RunResult[]> = {};
    for (const mode of ['fixed', 'significance'] as const) {
      byMode[mode] = await pool(seedList, concurrency, (seed) => runOne(scenario, plans[mode], seed));
    }
    raw[scenario.name] = byMode;
    rows.push({
      scenario,
      fixed: summarise(byMode.fixed ?? []),
      significance: summarise(byMode.significance ?? []),
    });
    console.log(`  ${scenario.name} done (${Math.round((Date.now() - started) / 1000)} s)`);
  }

  console.log('');
  console.log(table(rows));
  const bad = rows.filter((r) => r.scenario.truth === 'bad');
  const good = rows.filter((r) => r.scenario.truth === 'good');
  const target = {
    everyBadRolledBack: bad.every((r) => r.significance.correctPct === 100),
    goodRolledBackAtMost1Pct: good.every((r) => r.significance.rolledBackPct <= 1),
  };
  console.log('');
  console.log(
    `target (significance): every bad canary rolled back in 100 % of seeds: ${target.everyBadRolledBack ? 'met' : 'NOT met'}; ` +
      `good canaries rolled back in ≤ 1 %: ${target.goodRolledBackAtMost1Pct ? 'met' : 'NOT met'}`,
  );
  const report = {
    generatedAt: new Date().toISOString(),
    seeds,
    plan: path.relative(ROOT, planFile),
    significance,
    wallSeconds: Math.round((Date.now() - started) / 1000),
    target,
    scenarios: rows.map((r) => ({
      name: r.scenario.name,
      truth: r.scenario.truth,
      description: r.scenario.description,
      fixed: r.fixed,
      significance: r.significance,
    })),
    runs: raw,
  };
  await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), values.out)} in ${report.wallSeconds} s`);
}

// bench/judge.mjs sets JUDGE_RUN; tests import runOne and summarise without running the suite.
if (process.env.JUDGE_RUN === '1') {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
