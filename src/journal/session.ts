/**
 * Everything `canary rollout` does around the engine for safety, in one place so the command
 * stays thin: take the route lock, notice a route left mid-rollout and offer to resume, open
 * the journal, and record how the run ended even when the engine never got to say so.
 */
import type { Clock } from '../clock.js';
import type { Plan } from '../domain/plan.js';
import type { RelayPort } from '../domain/relay.js';
import { ExitCode, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import type { RolloutEvent } from '../rollout/events.js';
import { JournalWriter, journalPath } from './journal.js';
import { acquireLock, type RouteLock } from './lock.js';
import { readJournal } from './reader.js';
import { describeResume, stageOfRoute } from './resume.js';
import { withRunContext } from './run-context.js';
import { summarizeRuns } from './run-summary.js';

export interface SessionOptions {
  plan: Plan;
  io: Io;
  stateDir: string;
  relay: RelayPort;
  relayUrl: string;
  inProcessEmulator: boolean;
  apiKeyEnv: string;
  apiKeyFile?: string | undefined;
  clock: Clock;
  /** A person can answer a question on this terminal (asked through io.prompter). */
  interactive: boolean;
  yes: boolean;
  /** A start stage the caller already chose (1-based); resume detection then stays out of the way. */
  startStage?: number | undefined;
}

export interface RolloutSession {
  /** 1-based stage to pass to the engine, when resuming. */
  startStage: number | undefined;
  /** Journal first, then `next`: a record is on disk before anything acts on the event. */
  wrapEmit(next: (event: RolloutEvent) => void): (event: RolloutEvent) => void;
  /** Records the exit and releases the lock; call exactly once, in a finally. */
  end(exitCode: number, error?: unknown): void;
}

/** The resume question, asked through Io's prompter (in tests, one that answers in-process). */
function askResume(io: Io, message: string): Promise<boolean> {
  return io.prompter.select({
    message,
    choices: [
      { name: 'no, leave traffic where it is', value: false },
      { name: 'yes, resume', value: true },
    ],
  });
}

async function detectResume(opts: SessionOptions): Promise<{ stage: number; resumes?: string } | undefined> {
  const { plan, io } = opts;
  let rules: import('../domain/relay.js').RouteRule[];
  try {
    rules = (await opts.relay.getRoute(plan.route)).route_rules;
  } catch {
    // Unknown route or an unreadable relay: the engine's pre-flight reports it properly.
    return undefined;
  }
  const stage = stageOfRoute(plan, rules);
  if (stage === null) return undefined;
  const runs = summarizeRuns(readJournal(journalPath(opts.stateDir, plan.route)));
  const info = describeResume(plan, stage, runs, opts.relayUrl);
  const question = `${info.description}. Resume the rollout at stage ${stage + 1}?`;
  if (!opts.yes) {
    if (!opts.interactive) {
      throw new UsageError(`${info.description}; nothing was changed.`, {
        hint: `pass --yes to resume at stage ${stage + 1} (its bake starts again), or run \`canary rollback ${plan.file}\` to go back to the baseline.`,
      });
    }
    const ok = await askResume(io, question);
    if (!ok) {
      throw new UsageError(`not resuming; ${info.description}; nothing was changed.`, {
        hint: `run \`canary rollback ${plan.file}\` to go back to the baseline, then run the plan again.`,
      });
    }
  }
  io.stderr.write(`resuming: ${info.description}; stage ${stage + 1} bakes again from the start.\n`);
  return info.previous ? { stage, resumes: info.previous.run } : { stage };
}

export async function openRolloutSession(opts: SessionOptions): Promise<RolloutSession> {
  const { plan, io } = opts;
  const warn = (message: string) => io.stderr.write(`${message}\n`);
  // An in-process emulator's route lives and dies with this process: nobody to race with.
  const lock: RouteLock | null = opts.inProcessEmulator
    ? null
    : acquireLock({
        stateDir: opts.stateDir,
        route: plan.route,
        plan: plan.file,
        now: opts.clock.now(),
        warn,
      });
  let resume: { stage: number; resumes?: string } | undefined;
  try {
    if (opts.startStage === undefined && !opts.inProcessEmulator) resume = await detectResume(opts);
  } catch (error) {
    lock?.release();
    throw error;
  }
  const startStage = opts.startStage ?? (resume ? resume.stage + 1 : undefined);
  const journal = new JournalWriter(
    { stateDir: opts.stateDir, route: plan.route, redact: io.redact, warn },
    {
      command: 'rollout',
      at: opts.clock.now(),
      route: plan.route,
      plan: plan.file,
      planHash: plan.hash,
      baseline: plan.baseline.tag,
      canary: plan.canary.tag,
      relay: opts.relayUrl,
      inProcessEmulator: opts.inProcessEmulator || undefined,
      apiKeyEnv: opts.apiKeyEnv,
      apiKeyFile: opts.apiKeyFile,
      rollbackDeadlineMs: plan.rollback.deadlineMs,
      startStage,
      resumes: resume?.resumes,
    },
  );
  let ended = false;
  return {
    startStage,
    wrapEmit(next) {
      return (raw) => {
        const event = withRunContext(raw, plan, io.env);
        journal.append(event);
        next(event);
      };
    },
    end(exitCode, error) {
      if (ended) return;
      ended = true;
      if (!journal.hasOutcome) {
        const message =
          error instanceof Error ? error.message : exitCode === ExitCode.Ok ? 'finished' : `exit ${exitCode}`;
        journal.append({ type: 'run_ended', at: opts.clock.now(), exitCode, message: io.redact(message) });
      }
      journal.close();
      lock?.release();
    },
  };
}
