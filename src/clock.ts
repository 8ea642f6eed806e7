/**
 * Time is injected everywhere the core waits or stamps, so a 24-hour rollout runs in
 * milliseconds under a fake clock and no test sleeps for real.
 */
import { watchAbort } from './abort-watch.js';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const timer = setTimeout(
        () => {
          unwatch?.();
          resolve();
        },
        Math.max(0, ms),
      );
      // A watch, not a listener of its own: a bake sleeps on the same signal every look.
      const unwatch =
        signal &&
        watchAbort(signal, () => {
          clearTimeout(timer);
          reject(abortReason(signal));
        });
    });
  },
};

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * Virtual time for tests, the judgement suite and long simulations. Time moves only when
 * every participant is waiting: `sleep` parks the caller, and once the event loop has run
 * dry of other work the earliest sleeper is woken with the clock set to its wake time.
 * This keeps ordering deterministic (ties wake in call order) without any real waiting.
 */
export class FakeClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;
  private scheduled = false;
  /** Work in flight that time must wait for (see `hold`). */
  private holds = 0;

  constructor(start: number | Date = Date.UTC(2026, 10, 21, 10, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  /** Moves time forward by hand (for code that polls `now()` without sleeping). */
  advance(ms: number): void {
    this.current += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const sleeper: Sleeper = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve: () => {} };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortReason(signal as AbortSignal));
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
      this.schedule();
    });
  }

  /**
   * Marks work in flight whose end virtual time must wait for, such as a loopback HTTP call to
   * an in-process emulator: its answer can take several turns of the event loop, and without a
   * hold a second sleeper (a deadline, an outage script) would be woken first and jump time past
   * the call. Returns the release; calling it twice releases once.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0 && this.sleepers.length > 0) this.schedule();
    };
  }

  /** Number of callers currently parked in `sleep`. */
  get pending(): number {
    return this.sleepers.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after pending I/O callbacks and promise jobs, so real I/O (such as
    // loopback HTTP to an in-process emulator) settles before virtual time jumps.
    setImmediate(() => this.wakeNext());
  }

  private wakeNext(): void {
    this.scheduled = false;
    // Released holds schedule again; until then nothing wakes.
    if (this.sleepers.length === 0 || this.holds > 0) return;
    this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.sleepers.shift() as Sleeper;
    if (next.at > this.current) this.current = next.at;
    next.resolve();
    if (this.sleepers.length > 0) this.schedule();
  }
}
