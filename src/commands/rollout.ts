/**
 * `canary rollout <plan>`: thin wiring. Loads the plan, lets the prepare step
 * (src/commands/rollout-prepare.ts) check the flags and open everything the run needs, hands
 * the engine its inputs, and closes it all in one place however the run ends. The decisions
 * live in src/rollout/engine.ts.
 */
import path from 'node:path';
import { systemClock } from '../clock.js';
import type { Plan } from '../domain/plan.js';
import { CanaryError, ExitCode } from '../errors.js';
import type { Io } from '../io.js';
import { loadPlan } from '../plan/load.js';
import { runRollout } from '../rollout/engine.js';
import type { RolloutCommandOptions } from './rollout-options.js';
import { prepareRollout, type RunEnding } from './rollout-prepare.js';
import { exitCodeOf, stopLine } from './rollout-stops.js';

export type { RolloutCommandOptions } from './rollout-options.js';

export async function runRolloutCommand(opts: RolloutCommandOptions, io: Io): Promise<number> {
  const loaded = await loadPlan(opts.plan, { cwd: io.cwd });
  if (opts.dryRun) return dryRun(loaded, io);
  const plan = withKeyFlags(loaded, opts, io);
  const prepared = await prepareRollout(plan, opts, io);
  const ending: RunEnding = { exitCode: ExitCode.Internal };
  try {
    if (!prepared.ready) {
      ending.exitCode = prepared.exitCode;
      return ending.exitCode;
    }
    prepared.start();
    const result = await runRollout(plan, prepared.deps, prepared.options);
    ending.exitCode = exitCodeOf(result, prepared.stops);
    ending.outcome = result.outcome;
    ending.traffic = result.traffic;
    ending.finalLine = stopLine(result, prepared.stops, opts);
    return ending.exitCode;
  } catch (error) {
    ending.failure = error;
    ending.exitCode = error instanceof CanaryError ? error.exitCode : ExitCode.Internal;
    throw error;
  } finally {
    await prepared.close(ending);
  }
}

async function dryRun(plan: Plan, io: Io): Promise<number> {
  const { planSchedule } = await import('../plan/schedule.js');
  const { renderSchedule } = await import('../reporters/schedule.js');
  // What the schedule does not show: the evaluation before it, the custom metrics in it (read
  // first: an unreadable prompt set fails the dry run as it would fail the rollout, exit 2).
  const details = await (await import('../plan/dry-run-details.js')).dryRunDetails(plan);
  io.stdout.write(`${renderSchedule(planSchedule(plan, systemClock.now()), plan)}\n`);
  for (const block of details) io.stdout.write(`\n${block.join('\n')}\n`);
  io.stdout.write('dry run: nothing was changed.\n');
  return ExitCode.Ok;
}

/** --api-key-env / --api-key-file beat the plan's relay block, like --relay-url beats its url. */
function withKeyFlags(loaded: Plan, opts: RolloutCommandOptions, io: Io): Plan {
  if (!opts.apiKeyEnv && !opts.apiKeyFile) return loaded;
  return {
    ...loaded,
    relay: {
      ...loaded.relay,
      apiKeyEnv: opts.apiKeyEnv ?? loaded.relay.apiKeyEnv,
      apiKeyFile: opts.apiKeyFile ? path.resolve(io.cwd, opts.apiKeyFile) : loaded.relay.apiKeyFile,
    },
  };
}
