/**
 * The judgement suite: scenarios whose right outcome is known (bench/judge/scenarios.ts), run
 * through the real engine and analysis against the emulator in virtual time (the same runner
 * as `canary simulate`), for the plan `canary init` writes and for each example plan, over
 * scrambled seeds. Bad scenarios also run with the plan's significance test off (the fixed
 * comparison of observed values, failure_limit 2 in a row), on the same seeds, for the blast
 * radius side by side.
 *
 *   npm run judge -- [--seeds N] [--plans init,quickstart,...] [--scenario name,...]
 *                    [--no-fixed] [--concurrency N] [--out bench/judgement.json]
 *   npm run judge -- debug <plan> <scenario.yaml> [first] [count] [--failed]
 *   npm run judge -- custom [--seeds N] …   (analysis.metrics: bench/judge-custom.ts)
 *
 * Run through bench/judge.mjs, which bundles this file with esbuild (Node 20 runs no TypeScript).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Plan } from '../src/domain/plan.js';
import { loadPlan } from '../src/plan/load.js';
import { runSeeds, type SeedResult } from '../src/simulate/run-seed.js';
import { type SimulationSummary, summariseRuns } from '../src/simulate/summary.js';
import { initPlan } from './judge/init-plan.js';
import { type JudgeScenario, SCENARIOS } from './judge/scenarios.js';

const ROOT = process.env.JUDGE_ROOT ?? process.cwd();

export { customMain } from './judge-custom.js';
export { debugMain } from './judge-debug.js';

export { initPlan };

export const PLANS: Record<string, () => Promise<Plan>> = {
  init: initPlan,
  quickstart: () => loadPlan(path.join(ROOT, 'examples', 'quickstart.yaml')),
  'bad-canary': () => loadPlan(path.join(ROOT, 'examples', 'bad-canary.yaml')),
  production: () => loadPlan(path.join(ROOT, 'examples', 'production.yaml')),
};

export interface Entry extends SimulationSummary {
  plan: string;
  scenario: string;
  truth: 'good' | 'bad';
  holdout: boolean;
  description: string;
  rps: number;
  /** Share of seeds judged right: bad → rolled back, good → promoted. */
  correct_pct: number;
  /** Bad scenarios: the same seeds with significance off (the fixed comparison). */
  fixed?: SimulationSummary & { correct_pct: number };
}

function correctPct(runs: SeedResult[], truth: 'good' | 'bad'): number {
  const right = runs.filter((r) =>
    truth === 'bad' ? r.outcome === 'rolled_back' : r.outcome === 'promoted',
  );
  return Math.round((1000 * right.length) / Math.max(1, runs.length)) / 10;
}

export async function judgeOne(
  planName: string,
  plan: Plan,
  scenario: JudgeScenario,
  seeds: number,
  options: { fixed: boolean; concurrency: number },
): Promise<Entry | null> {
  const built = scenario.build(plan);
  if (!built) return null;
  const input = { plan, scenario: built.scenario, rps: built.rps, outage: built.outage };
  const runs = await runSeeds(input, seeds, options);
  const entry: Entry = {
    plan: planName,
    scenario: scenario.name,
    truth: scenario.truth,
    holdout: scenario.holdout === true,
    description: scenario.description,
    rps: built.rps,
    correct_pct: correctPct(runs, scenario.truth),
    ...summariseRuns(runs),
  };
  if (options.fixed && scenario.truth === 'bad' && plan.analysis.significance) {
    const fixedPlan: Plan = {
      ...plan,
      analysis: { ...plan.analysis, significance: undefined, failureLimit: 2 },
    };
    const fixedRuns = await runSeeds({ ...input, plan: fixedPlan }, seeds, options);
    entry.fixed = { correct_pct: correctPct(fixedRuns, 'bad'), ...summariseRuns(fixedRuns) };
  }
  return entry;
}

function pad(text: string | number, width: number, right = false): string {
  const s = String(text);
  return right ? s.padStart(width) : s.padEnd(width);
}

export function table(entries: Entry[]): string {
  const head =
    `${pad('plan', 11)} ${pad('scenario', 30)} ${pad('truth', 5)} ${pad('rolled', 7, true)} ${pad('outcomes', 34)} ` +
    `${pad('decide s', 9, true)} ${pad('failed', 11, true)} ${pad('excess', 11, true)} │ ${pad('fixed: rolled', 13, true)} ${pad('failed', 11, true)}`;
  const lines = [head, '─'.repeat(head.length)];
  for (const e of entries) {
    const outcomes = Object.entries(e.outcomes)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const spread = (s: { median: number; p90: number }) => `${s.median}/${s.p90}`;
    lines.push(
      `${pad(e.plan, 11)} ${pad(`${e.scenario}${e.holdout ? ' *' : ''}`, 30)} ${pad(e.truth, 5)} ${pad(`${e.rolled_back_pct}%`, 7, true)} ` +
        `${pad(outcomes, 34)} ${pad(e.decision_seconds.median, 9, true)} ${pad(spread(e.failed_canary_requests), 11, true)} ` +
        `${pad(spread(e.excess_failed_requests), 11, true)} │ ${pad(e.fixed ? `${e.fixed.rolled_back_pct}%` : '–', 13, true)} ` +
        `${pad(e.fixed ? spread(e.fixed.failed_canary_requests) : '–', 11, true)}`,
    );
  }
  lines.push('');
  lines.push(
    '* hold-out scenario (not looked at while tuning). failed/excess: failed canary requests before the',
  );
  lines.push(
    'decision, median/p90 (excess: beyond the baseline’s error rate). fixed: significance off, same seeds.',
  );
  return lines.join('\n');
}

/** The issue's targets, checked on the entries given (one plan's). */
export function targets(entries: Entry[]) {
  const bad = entries.filter((e) => e.truth === 'bad');
  const good = entries.filter((e) => e.truth === 'good');
  const shared = entries.find((e) => e.scenario === 'shared-incident');
  const low = entries.find((e) => e.scenario === 'rps-20');
  const x3 = entries.find((e) => e.scenario === 'errors-3x');
  return {
    bad_rolled_back_99: bad.every((e) => e.rolled_back_pct >= 99),
    good_rolled_back_at_most_1: good.every((e) => e.rolled_back_pct <= 1),
    shared_incident_no_health_rollback: shared ? (shared.outcomes.health ?? 0) === 0 : null,
    shared_incident_said: shared ? shared.shared_incident_seen_pct : null,
    rps_20_promoted_95: low ? low.promoted_pct >= 95 : null,
    blast_radius_3x_vs_fixed:
      x3?.fixed !== undefined
        ? x3.failed_canary_requests.median <= x3.fixed.failed_canary_requests.median
        : null,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      plans: { type: 'string', default: Object.keys(PLANS).join(',') },
      scenario: { type: 'string' },
      'no-fixed': { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '4' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'judgement.json') },
    },
  });
  const seeds = Number(values.seeds);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error('--seeds takes a whole number of at least 1');
  const planNames = values.plans.split(',');
  for (const name of planNames)
    if (!PLANS[name]) throw new Error(`no plan ${name}; plans: ${Object.keys(PLANS).join(', ')}`);
  const chosen = values.scenario
    ? SCENARIOS.filter((s) => values.scenario?.split(',').includes(s.name))
    : SCENARIOS;
  if (chosen.length === 0)
    throw new Error(`no such scenario; the scenarios are ${SCENARIOS.map((s) => s.name).join(', ')}`);

  const started = Date.now();
  const entries: Entry[] = [];
  for (const name of planNames) {
    const plan = await (PLANS[name] as () => Promise<Plan>)();
    for (const scenario of chosen) {
      const entry = await judgeOne(name, plan, scenario, seeds, { fixed: !values['no-fixed'], concurrency });
      if (!entry) continue;
      entries.push(entry);
      console.log(
        `  ${name} / ${scenario.name}: rolled back ${entry.rolled_back_pct} % (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }
  }
  console.log('');
  console.log(table(entries));
  const byPlan = Object.fromEntries(
    planNames.map((name) => [name, targets(entries.filter((e) => e.plan === name))]),
  );
  console.log('');
  for (const [name, t] of Object.entries(byPlan)) console.log(`targets ${name}: ${JSON.stringify(t)}`);
  const report = {
    generated_at: new Date().toISOString(),
    seeds,
    seed_scheme: 'splitmix32 finaliser of 1..N (src/simulate/run-seed.ts scrambledSeed)',
    wall_seconds: Math.round((Date.now() - started) / 1000),
    targets: byPlan,
    entries,
  };
  await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), values.out)} in ${report.wall_seconds} s`);
}

if (process.env.JUDGE_RUN === '1' && process.argv[2] !== 'debug' && process.argv[2] !== 'custom') {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
