/**
 * What `canary rollback` tells besides the journal, once it is done: the GitHub step summary
 * under Actions (./rollback-summary.ts, loaded only there) and, given a plan with `notify:`, its
 * webhooks (./rollback-notify.ts, handed in by the plan reader, so the fast incident form never
 * bundles them). Carries the `-m` reason to both.
 */
import { CanaryError, ExitCode } from '../errors.js';
import type { Io } from '../io.js';

// The announcement's shape lives with the summary writer, which the lazy import below loads:
// declared here, it would make the two files import each other.
export type { RollbackAnnouncement } from './rollback-summary.js';

import type { RollbackAnnouncement } from './rollback-summary.js';

/** Sends an announcement to the plan's webhooks (src/commands/rollback-notify.ts). */
export type Announce = (a: RollbackAnnouncement) => Promise<void>;

export function failureOf(error: unknown): NonNullable<RollbackAnnouncement['failure']> {
  return {
    message: error instanceof Error ? error.message : String(error),
    exitCode: error instanceof CanaryError ? error.exitCode : ExitCode.Internal,
    hint: error instanceof CanaryError ? error.hint : undefined,
  };
}

/**
 * After the rollback and its output (a rollback waits for nothing): the summary, then the
 * webhooks, whose drain is bounded. Neither can change the exit code.
 */
export async function tell(io: Io, announce: Announce | undefined, a: RollbackAnnouncement): Promise<void> {
  try {
    const file = io.env.GITHUB_STEP_SUMMARY;
    if (io.env.GITHUB_ACTIONS === 'true' && file)
      (await import('./rollback-summary.js')).appendRollbackSummary(file, a, io);
    await announce?.(a);
  } catch (error) {
    io.stderr.write(`warning: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}
