/**
 * While a command whose work is done waits for its webhooks (the drain: `canary rollback
 * plan.yaml`'s notices), SIGINT, SIGTERM and SIGHUP cut that wait short instead of ending the
 * process by Node's default action, which would leave no line saying what was not delivered and
 * an exit code that is not the command's. `canary rollout` has its own listener for the whole
 * run (src/commands/rollout-stops.ts), which does the same once the run's outcome is decided.
 * `canary rollback` also listens with this while it retries (src/commands/rollback-interrupt.ts):
 * the first signal stops the retrying, a second ends its last read of the route.
 */

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The signals that ask a command to stop. */
export type StopSignal = (typeof STOP_SIGNALS)[number];
export type DrainStopSignal = StopSignal;

/** What stops listening: `processExitsNext` keeps answering until the process exits. */
export type StopListening = (how: { processExitsNext: boolean }) => void;

/**
 * Calls `onSignal` for each stop signal until told to stop listening; shared by every command
 * that answers them (this file's drain cut, `canary rollout`'s src/commands/rollout-stops.ts).
 * Removed at once, a signal in the instant before the exit would end the process by Node's
 * default action (no exit code of ours); so with `processExitsNext` the handlers stay: one more
 * signal in that instant is absorbed (and removes them), and the one after meets the default.
 */
export function listenToStopSignals(onSignal: (name: StopSignal) => void): StopListening {
  let closed = false;
  const remove = () => {
    for (const [name, handler] of handlers) process.removeListener(name, handler);
  };
  const handlers = STOP_SIGNALS.map(
    (name) =>
      [
        name,
        () => {
          if (closed) return remove();
          onSignal(name);
        },
      ] as const,
  );
  for (const [name, handler] of handlers) process.on(name, handler);
  return ({ processExitsNext }) => {
    if (processExitsNext) closed = true;
    else remove();
  };
}

export interface DrainCut {
  /** Aborted by the first stop signal: hand it to Notifier.drain. */
  readonly signal: AbortSignal;
  /** Aborted by any stop signal after the first (`canary rollback`'s last read ends at once). */
  readonly again: AbortSignal;
  /** The first stop signal received, if any. */
  received(): DrainStopSignal | undefined;
  /**
   * Stops listening. With `processExitsNext` the handlers stay to the exit itself: one more
   * signal in that instant is absorbed, and the one after meets Node's default action.
   */
  stop(how: { processExitsNext: boolean }): void;
}

export function cutBySignals(): DrainCut {
  const cut = new AbortController();
  // Made only when asked for or needed: a rollback that is confirmed at once never pays for it.
  let again: AbortController | undefined;
  let received: DrainStopSignal | undefined;
  const stop = listenToStopSignals((name) => {
    if (received) {
      again ??= new AbortController();
      again.abort();
    }
    received ??= name;
    cut.abort();
  });
  return {
    signal: cut.signal,
    get again() {
      again ??= new AbortController();
      return again.signal;
    },
    received: () => received,
    stop,
  };
}
