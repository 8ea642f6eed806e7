/**
 * Watching an AbortSignal for as long as one call or one sleep lasts, without adding and
 * removing an EventTarget listener each time. A rollout's bake makes three relay calls and one
 * sleep per look, every few seconds for hours, each on the same long-lived signal (the run's,
 * or a look's kept controller, src/rollout/operator.ts); Node's addEventListener and
 * removeEventListener on an AbortSignal were a visible part of each look's CPU
 * (docs/benchmarks.md, "A rollout's CPU per evaluation"). Here a signal gets one listener, the
 * first time it is watched, and each watch is an entry in a set.
 *
 * No imports: the rollback bundle loads this (through src/clock.ts and the socket transport).
 */

/** The watches of each signal seen; the signal's one listener runs them. */
const watches = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `onAbort` once when `signal` aborts, unless the returned function is called first.
 * The caller checks `signal.aborted` before watching, as with addEventListener.
 */
export function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let set = watches.get(signal);
  if (set === undefined) {
    const created = new Set<() => void>();
    set = created;
    watches.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        // As an EventTarget does: a watch ended while the abort runs is not called, and one
        // begun then is not either (the signal has aborted; its caller checks that).
        for (const entry of [...created]) {
          if (created.delete(entry)) entry();
        }
        created.clear();
      },
      { once: true },
    );
  }
  const own = set;
  // A wrapper per watch: ending one watch never ends another of the same function.
  const entry = () => onAbort();
  own.add(entry);
  return () => {
    own.delete(entry);
  };
}
