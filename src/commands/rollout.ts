/**
 * `canary rollout <plan>`: thin wiring. Loads and checks the plan, picks the reporter,
 * connects to the relay, hands everything to the engine, and maps signals and gates to
 * the engine's inputs. The decisions live in src/rollout/engine.ts.
 */
import path from 'node:path';
import { systemClock } from '../clock.js';
import { CanaryError, ExitCode, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { loadPlan } from '../plan/load.js';
import type { Plan } from '../plan/types.js';
import type { Reporter } from '../reporters/reporter.js';
import type { RolloutEvent } from '../rollout/events.js';
import { connect } from './connection.js';

export interface RolloutCommandOptions {
  plan: string;
  dryRun?: boolean | undefined;
  yes?: boolean | undefined;
  output: 'auto' | 'tty' | 'plain' | 'json';
  relayUrl?: string | undefined;
  allowInsecureHttp?: boolean | undefined;
  /** Journal and lock folder (default: .canary next to the plan). */
  stateDir?: string | undefined;
  color: boolean;
}

type GateDecision = 'promote' | 'rollback' | 'hold';

/** A terminal where someone can answer a question: both ends are TTYs and this is not CI. */
function isInteractive(io: Io): boolean {
  const ci = io.env.CI !== undefined && io.env.CI !== '' && io.env.CI !== 'false' && io.env.CI !== '0';
  return io.stdin.isTTY === true && io.stdout.isTTY === true && !ci;
}

async function dryRun(plan: Plan, io: Io): Promise<number> {
  const { planSchedule, renderSchedule } = await import('../plan/schedule.js');
  io.stdout.write(`${renderSchedule(planSchedule(plan, systemClock.now()), plan)}\n`);
  io.stdout.write('dry run: nothing was changed.\n');
  return ExitCode.Ok;
}

export async function runRolloutCommand(opts: RolloutCommandOptions, io: Io): Promise<number> {
  const plan = await loadPlan(opts.plan, { cwd: io.cwd });
  if (opts.dryRun) return dryRun(plan, io);

  const interactive = isInteractive(io);
  const hasGates = plan.stages.some((s) => s.pause);
  // Refuse before touching anything, rather than hang or fail at stage 3 an hour from now.
  if (hasGates && !interactive && !opts.yes) {
    throw new UsageError('this plan has a pause: true stage and there is no terminal to ask.', {
      hint: 'pass --yes to promote through gates once their checks pass, or run it in a terminal.',
    });
  }

  const { selectOutput, colorEnabled } = await import('../reporters/select.js');
  const { createReporter } = await import('../reporters/index.js');
  const mode = selectOutput({ flag: opts.output, isTTY: io.stdout.isTTY === true, env: io.env });
  const color = colorEnabled({ flagColor: opts.color, env: io.env, isTTY: io.stdout.isTTY === true, mode });
  const reporter: Reporter = createReporter(mode, {
    stdout: io.stdout,
    stderr: io.stderr,
    color,
    now: () => systemClock.now(),
    footer: () => terminal?.footer(),
  });

  const connection = await connect(
    {
      flagUrl: opts.relayUrl,
      planUrl: plan.relay.url,
      apiKeyEnv: plan.relay.apiKeyEnv,
      apiKeyFile: plan.relay.apiKeyFile,
      allowInsecureHttp: opts.allowInsecureHttp,
      emulator: plan.emulator,
      baseDir: path.dirname(plan.file),
    },
    io,
  );

  const controller = new AbortController();
  // Keys, the Ctrl-C menu and gate prompts for a person at the terminal (src/terminal/session.ts).
  const terminal = interactive
    ? await (await import('../terminal/session.js')).createTerminalSession({
        io,
        controller,
        reporter,
        baseline: plan.baseline.tag,
        canary: plan.canary.tag,
        color,
      })
    : undefined;
  let signalName: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => () => {
    if (terminal && name === 'SIGINT') return terminal.interrupt(); // the same menu as the Ctrl-C key
    if (signalName) return; // a rollback is already under way; a second signal must not cut it short
    signalName = name;
    controller.abort({ action: 'rollback', cause: 'interrupt' });
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  // Lock, resume detection and journal (src/journal/session.ts); loaded only for real runs.
  const { openRolloutSession } = await import('../journal/session.js');
  const { resolveStateDir } = await import('../journal/journal.js');
  let session: Awaited<ReturnType<typeof openRolloutSession>>;
  try {
    session = await openRolloutSession({
      plan,
      io,
      stateDir: resolveStateDir({ flag: opts.stateDir, env: io.env, cwd: io.cwd, planFile: plan.file }),
      relay: connection.client,
      relayUrl: connection.url,
      inProcessEmulator: connection.inProcessEmulator,
      apiKeyEnv: connection.apiKeyEnv,
      apiKeyFile: plan.relay.apiKeyFile,
      clock: systemClock,
      interactive,
      yes: opts.yes === true,
    });
  } catch (error) {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    await reporter.close();
    await connection.close();
    throw error;
  }
  let exitCode: number = ExitCode.Internal;
  let failure: unknown;

  const emit = session.wrapEmit((event: RolloutEvent) => {
    try {
      terminal?.observe(event);
      reporter.event(event);
    } catch {
      // A rendering bug must never stop or delay the rollout itself.
    }
  });

  const gate = async ({ stage, signal }: { stage: number; signal: AbortSignal }): Promise<GateDecision> => {
    if (!interactive) return 'promote'; // only reachable with --yes (checked above)
    const { select } = await import('@inquirer/prompts');
    const answer = await select<GateDecision>(
      {
        message: `Stage ${stage + 1}/${plan.stages.length} passed its bake. What next?`,
        choices: [
          { name: 'promote to the next stage', value: 'promote' },
          { name: 'roll back to the baseline', value: 'rollback' },
          { name: 'keep holding (ask again later)', value: 'hold' },
        ],
      },
      { signal, output: process.stderr },
    );
    return answer;
  };

  try {
    const { runRollout } = await import('../rollout/engine.js');
    terminal?.start();
    const result = await runRollout(
      plan,
      {
        clock: systemClock,
        relay: connection.client,
        emit,
        signal: controller.signal,
        gate: (terminal?.gate ?? gate) as never,
        controls: terminal?.controls,
        relayUrl: connection.url,
        apiKeyEnv: connection.apiKeyEnv,
      },
      { startStage: session.startStage },
    );
    if (result.outcome === 'interrupted') {
      exitCode = signalName === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted;
    } else exitCode = result.exitCode;
    return exitCode;
  } catch (error) {
    failure = error;
    exitCode = error instanceof CanaryError ? error.exitCode : ExitCode.Internal;
    throw error;
  } finally {
    terminal?.close();
    session.end(exitCode, failure);
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    await reporter.close();
    await connection.close();
  }
}
