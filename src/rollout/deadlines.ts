/**
 * How long each relay call of a rollout may take, derived from the plan rather than from the
 * client's 60 s default: a hung relay must not hold a 1 s-interval rollout for a minute, and a
 * rollback must never wait behind a read that will not finish.
 */

/** What a read may take beyond the interval it serves: room for one or two quick retries. */
export const READ_GRACE_MS = 2_000;
/** Reads of a slow-interval plan are still bounded: a 10 min interval does not wait 10 min on one read. */
const READ_CAP_MS = 30_000;
/** Registering versions and creating a route happen once; a slow relay gets this much at least. */
const PREFLIGHT_MIN_MS = 15_000;

/** Each read while a stage bakes (the route, each version's metrics): interval (capped) + grace. */
export function readDeadlineMs(intervalMs: number): number {
  return Math.min(Math.max(intervalMs, 0), READ_CAP_MS) + READ_GRACE_MS;
}

/** Each pre-flight call (health, versions, the route). */
export function preflightDeadlineMs(intervalMs: number): number {
  return Math.max(readDeadlineMs(intervalMs), PREFLIGHT_MIN_MS);
}

/**
 * A stage change: the PATCH, the read-back after a failed one and any re-send, all together.
 * As long as a rollback may take, and never less than two reads.
 */
export function changeDeadlineMs(intervalMs: number, rollbackDeadlineMs: number): number {
  return Math.max(2 * readDeadlineMs(intervalMs), Math.min(rollbackDeadlineMs, 30_000));
}

/**
 * One attempt of a rollback (a read or a PATCH): a quarter of the rollback's deadline, between
 * 1 s and 10 s, so that one hung call is abandoned and retried well within the deadline.
 */
export function rollbackAttemptMs(deadlineMs: number): number {
  return Math.min(10_000, Math.max(1_000, Math.floor(deadlineMs / 4)));
}
