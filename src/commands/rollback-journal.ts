/**
 * `canary rollback` in the route's journal, after the fact (a rollback never waits for a disk):
 * appended when the route has a journal, or when the journal chose the route. A confirmed
 * rollback is `rolled_back` then `run_ended` (exit 0); one a signal stopped before it was
 * confirmed is `rollback_failed` then `run_ended` with the signal's exit code, so `canary
 * history` and the next `canary rollback` read what the user was told.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '../clock.js';
import type { Io } from '../io.js';
import { journalPath, resolveStateDir } from '../journal/paths.js';
import type { RolloutEvent } from '../rollout/events.js';

/** The flags of `canary rollback` that say where its journal is and why it ran. */
interface JournalFlags {
  stateDir?: string | undefined;
  plan?: string | undefined;
  message?: string | undefined;
}

export interface RollbackEnding {
  route: string;
  to: string;
  url: string;
  apiKeyEnv: string;
  /** How long the rollback took, from its start to now. */
  durationMs: number;
  /** What happened, as rollout events (`rolled_back`, or `rollback_failed`). */
  events: (now: number) => RolloutEvent[];
  exitCode: number;
  message: string;
}

export async function recordRollback(
  opts: JournalFlags,
  io: Io,
  chosenStateDir: string | undefined,
  done: RollbackEnding,
): Promise<void> {
  const stateDir =
    chosenStateDir ??
    resolveStateDir({
      flag: opts.stateDir,
      env: io.env,
      cwd: io.cwd,
      planFile: opts.plan ? path.resolve(io.cwd, opts.plan) : undefined,
    });
  if (!existsSync(journalPath(stateDir, done.route))) return;
  const { JournalWriter } = await import('../journal/journal.js');
  const now = systemClock.now();
  const reason = opts.message?.trim() || undefined;
  const writer = new JournalWriter(
    { stateDir, route: done.route, redact: io.redact, warn: (m) => io.stderr.write(`${m}\n`) },
    {
      command: 'rollback',
      at: now - done.durationMs,
      route: done.route,
      baseline: done.to,
      relay: done.url,
      apiKeyEnv: done.apiKeyEnv,
      reason,
    },
  );
  for (const event of done.events(now)) writer.append(event);
  writer.append({
    type: 'run_ended',
    at: now,
    exitCode: done.exitCode,
    message: done.message + (reason ? `: ${reason}` : ''),
  });
  writer.close();
}
