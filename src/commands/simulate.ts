/**
 * `canary simulate <plan> --scenario <file>`: the plan's real engine and analysis against the
 * built-in emulator in virtual time, over many seeds, so a plan can be tuned before it meets
 * production. Thin: the runs are src/simulate/run-seed.ts, the figures src/simulate/summary.ts.
 */
import path from 'node:path';
import type { simulateCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';
import { DEFAULT_RPS, loadScenario, parseScenario, type Scenario } from '../emulator/index.js';
import { UsageError } from '../errors.js';
import { formatDuration } from '../format.js';
import type { Io } from '../io.js';
import { recordLine } from '../output/record.js';
import { loadPlan } from '../plan/load.js';
import { runSeeds } from '../simulate/run-seed.js';
import { type SimulationSummary, summariseRuns } from '../simulate/summary.js';
import { startSpinner } from '../terminal/spinner.js';

export type SimulateOptions = CommandOptions<typeof simulateCommand>;

/** Runs in flight at once: each waits on loopback most of the time, so a few overlap well. */
const CONCURRENCY = 4;
const MAX_SEEDS = 10_000;

async function scenarioFor(
  opts: SimulateOptions,
  planEmulator: { scenario?: unknown; rps?: number } | undefined,
  cwd: string,
  planDir: string,
): Promise<{ scenario: Scenario; name: string }> {
  if (opts.scenario !== undefined) {
    return { scenario: await loadScenario(path.resolve(cwd, opts.scenario)), name: opts.scenario };
  }
  const fromPlan = planEmulator?.scenario;
  if (typeof fromPlan === 'string') {
    return { scenario: await loadScenario(path.resolve(planDir, fromPlan)), name: fromPlan };
  }
  if (fromPlan && typeof fromPlan === 'object') {
    const { stringify } = await import('yaml');
    return {
      scenario: parseScenario(stringify(fromPlan), 'emulator.scenario'),
      name: 'the plan’s inline scenario',
    };
  }
  throw new UsageError(
    'simulate needs a scenario: pass --scenario FILE (or give the plan emulator.scenario).',
    {
      hint: 'a scenario sets each version’s error rate, latency and cost; see "Scenario files" in the README',
    },
  );
}

function counts(record: Record<string, number>, label: (key: string) => string): string {
  return Object.entries(record)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${label(key)} ${n}`)
    .join(', ');
}

function render(summary: SimulationSummary, header: string, stageLabel: (key: string) => string): string {
  const rolled = Object.fromEntries(Object.entries(summary.outcomes).filter(([k]) => k !== 'promoted'));
  const lines = [
    header,
    `promoted      ${summary.promoted_pct.toFixed(1)}%`,
    `rolled back   ${summary.rolled_back_pct.toFixed(1)}%${Object.keys(rolled).length ? `   by cause: ${counts(rolled, (k) => k)}` : ''}`,
    `ended at      ${counts(summary.stage_decided, stageLabel)}`,
    `decided after median ${formatDuration(summary.decision_seconds.median * 1000)}, p90 ${formatDuration(summary.decision_seconds.p90 * 1000)}`,
    `failed canary requests   median ${summary.failed_canary_requests.median}, p90 ${summary.failed_canary_requests.p90}`,
    `  beyond the baseline's error rate   median ${summary.excess_failed_requests.median}, p90 ${summary.excess_failed_requests.p90}`,
  ];
  if (summary.shared_incident_seen_pct > 0) {
    lines.push(
      `both versions degraded (shared incident) in ${summary.shared_incident_seen_pct.toFixed(1)}% of runs`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function runSimulateCommand(opts: SimulateOptions, io: Io): Promise<number> {
  if (!Number.isSafeInteger(opts.seeds) || opts.seeds < 1 || opts.seeds > MAX_SEEDS) {
    throw new UsageError(`--seeds takes a whole number from 1 to ${MAX_SEEDS}, got ${opts.seeds}.`);
  }
  const plan = await loadPlan(opts.plan, { cwd: io.cwd });
  const { scenario, name } = await scenarioFor(opts, plan.emulator, io.cwd, path.dirname(plan.file));
  // As in a rollout, the plan's emulator.rps wins over its own scenario's; a scenario given with
  // --scenario is the traffic being asked about, so its rps wins over the plan's.
  const rps =
    opts.rps ??
    (opts.scenario !== undefined
      ? (scenario.rps ?? plan.emulator?.rps)
      : (plan.emulator?.rps ?? scenario.rps)) ??
    DEFAULT_RPS;

  // Plain is simulate's output for a person (the other is one JSON object).
  const spinner = startSpinner(io, `simulating ${opts.seeds} rollouts…`, {
    forPerson: opts.output === 'plain',
    color: !io.env.NO_COLOR,
  });
  let done = 0;
  try {
    const runs = await runSeeds({ plan, scenario, rps }, opts.seeds, {
      concurrency: CONCURRENCY,
      onRun: () => {
        done++;
        spinner.update(`simulating rollouts: ${done}/${opts.seeds}`);
      },
    });
    spinner.stop();
    const summary = summariseRuns(runs);
    const planName = path.relative(io.cwd, plan.file) || plan.file;
    if (opts.output === 'json') {
      io.stdout.write(recordLine('simulation', { plan: planName, scenario: name, rps, ...summary }));
      return 0;
    }
    const stageLabel = (key: string) => {
      const stage = plan.stages[Number(key) - 1];
      return stage ? `stage ${key} (${stage.weight}%)` : `stage ${key}`;
    };
    const header =
      `simulated ${opts.seeds} rollout${opts.seeds === 1 ? '' : 's'} of ${planName} against ${name} at ${rps} requests/s ` +
      '(virtual time; gates approved, stage checks and webhooks not run)';
    io.stdout.write(render(summary, header, stageLabel));
    return 0;
  } finally {
    spinner.stop();
  }
}
