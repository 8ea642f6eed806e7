/**
 * A spinner for where a person waits with no other feedback: a rollback retrying a relay that
 * does not answer, `status` against a slow relay, `simulate` over many seeds. Only on a
 * terminal, never in CI, never in plain or JSON output: the caller says whether its output is
 * for a person (`forPerson`), this checks the rest.
 *
 * Light on purpose: the rollback and status bundles carry this module, and ora (./spinner-ora.ts)
 * is loaded only when a spinner is drawn, from its own bundle, dist/spinner.cjs
 * (scripts/build.mjs), so no command pays for it at start-up. Everything ora writes goes
 * through the Io's stderr, so secrets are redacted there as in every other line.
 */
import type { Io } from '../io.js';

export interface Spinner {
  /** Changes what the spinner says. */
  update(text: string): void;
  /** Takes the spinner off the screen; safe to call more than once, or before it showed. */
  stop(): void;
}

const NO_SPINNER: Spinner = { update() {}, stop() {} };

export interface SpinnerOptions {
  /** The command's output is for a person at this terminal (not plain, not JSON). */
  forPerson: boolean;
  color: boolean;
  /** Show only once the wait has lasted this long, so a quick answer draws nothing. */
  delayMs?: number | undefined;
}

/** A terminal a person reads: checked at once, before anything is loaded. */
function onTerminal(io: Pick<Io, 'stderr' | 'env'>, forPerson: boolean): boolean {
  return forPerson && io.stderr.isTTY === true && io.env.TERM !== 'dumb';
}

/**
 * Whether a spinner may be drawn on `io.stderr`. The CI rule (src/interactive.ts, ci-info) is
 * loaded only here, when a spinner is about to be drawn, not with the rollback's code.
 */
export async function spinnerAllowed(io: Pick<Io, 'stderr' | 'env'>, forPerson: boolean): Promise<boolean> {
  if (!onTerminal(io, forPerson)) return false;
  const { isCi } = await import('../interactive.js');
  return !isCi(io.env);
}

/** Starts a spinner saying `text` on stderr, or a spinner that draws nothing where none belongs. */
export function startSpinner(io: Io, text: string, options: SpinnerOptions): Spinner {
  if (!onTerminal(io, options.forPerson)) return NO_SPINNER;
  let current = text;
  let stopped = false;
  let drawn: { update(text: string): void; stop(): void } | undefined;
  const show = async () => {
    if (!(await spinnerAllowed(io, options.forPerson)) || stopped) return;
    const { drawSpinner } = await import('./spinner-ora.js');
    if (!stopped) drawn = drawSpinner(io.stderr, current, options.color);
  };
  const timer = setTimeout(() => void show(), options.delayMs ?? 0);
  // A spinner never keeps the process alive: the wait it decorates does that.
  timer.unref();
  return {
    update(next) {
      current = next;
      drawn?.update(next);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      drawn?.stop();
      drawn = undefined;
    },
  };
}
