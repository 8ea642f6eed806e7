/**
 * What stops a rollout from outside: SIGINT, SIGTERM and SIGHUP (answered with --on-interrupt),
 * and --timeout (answered with --on-timeout). Each aborts the run's controller with a reason the
 * engine acts on (src/rollout/engine.ts), and the last line of the run says what it did.
 *
 * The signals are answered to the very end of the process. Once the run's outcome is decided
 * (its close list has begun) a signal changes nothing about traffic or the exit code: it only
 * cuts short what still waits (the webhooks' drain), and the last lines say so
 * (./rollout-late-stop.ts).
 */

import { listenToStopSignals, type StopListening, type StopSignal } from '../cut-by-signals.js';
import { ExitCode } from '../errors.js';
import { formatDuration, formatRules } from '../format.js';
import type { RolloutAbortReason, RolloutResult } from '../rollout/engine.js';
import type { TerminalSession } from '../terminal/session.js';

/** The signals a rollout answers with its --on-interrupt action. */
export type { StopListening, StopSignal };

/** 128 + the signal's number, as a shell reports a process the signal ended. */
export const SIGNAL_EXIT: Record<StopSignal, number> = {
  SIGINT: ExitCode.Interrupted,
  SIGTERM: ExitCode.Terminated,
  SIGHUP: ExitCode.HungUp,
};

export const SIGNAL_WORDS: Record<StopSignal, string> = {
  SIGINT: 'interrupted (SIGINT)',
  SIGTERM: 'terminated (SIGTERM)',
  SIGHUP: 'hung up (SIGHUP)',
};

/** The flags that say what a stop does. */
export interface StopFlags {
  onInterrupt?: 'rollback' | 'leave' | undefined;
  timeout?: number | undefined;
  onTimeout?: 'rollback' | 'leave' | undefined;
}

/** What stopped the run from outside, for the exit code and the last line. */
export interface Stops {
  /** Aborted (with a `RolloutAbortReason`) by a signal, the timeout or the Ctrl-C menu. */
  readonly controller: AbortController;
  signalName: StopSignal | undefined;
  timedOut: boolean;
  /** A `rolled_back` event was seen: whatever stopped the run, the baseline went back. */
  rolledBack: boolean;
  /** The run's outcome is decided (its close list has begun): a signal from now on is late. */
  decided: boolean;
  /** A signal that came once the outcome was decided (or too late for the engine to act on). */
  lateSignal: StopSignal | undefined;
  /** Aborted by a late signal: what still waits at exit (the webhooks' drain) gives up at once. */
  readonly cut: AbortController;
}

export function createStops(): Stops {
  return {
    controller: new AbortController(),
    signalName: undefined,
    timedOut: false,
    rolledBack: false,
    decided: false,
    lateSignal: undefined,
    cut: new AbortController(),
  };
}

/**
 * Answers the stop signals from now on; returns what stops listening. `terminal` is asked at
 * each signal: a person at an open terminal gets the Ctrl-C menu for SIGINT instead.
 */
export function listenForSignals(
  stops: Stops,
  flags: StopFlags,
  terminal: () => TerminalSession | undefined,
): StopListening {
  // Kept to the exit itself when the process exits next (listenToStopSignals).
  return listenToStopSignals((name) => {
    if (stops.decided) {
      stops.lateSignal ??= name;
      stops.cut.abort();
      return;
    }
    // SIGINT at a terminal opens the same menu as the Ctrl-C key. A SIGHUP means that terminal
    // is gone (an SSH drop, a closed window): nobody is left to ask, so --on-interrupt decides.
    // So does a Ctrl-C at a terminal whose session is over: no menu on a closed terminal.
    const person = terminal();
    if (person?.isOpen && name === 'SIGINT') return person.interrupt();
    if (stops.signalName) return; // a rollback is already under way; a second signal must not cut it short
    stops.signalName = name;
    if (stops.controller.signal.aborted) return; // the timeout or the menu already decided
    const reason: RolloutAbortReason = {
      action: flags.onInterrupt ?? 'rollback',
      cause: 'interrupt',
      exitCode: SIGNAL_EXIT[name],
      why: `${name} received`,
    };
    stops.controller.abort(reason);
  });
}

/** Starts --timeout, if given; returns what clears it. */
export function startTimeout(stops: Stops, flags: StopFlags): () => void {
  if (flags.timeout === undefined) return () => {};
  const timer = setTimeout(() => {
    if (stops.controller.signal.aborted) return;
    stops.timedOut = true;
    const reason: RolloutAbortReason = { action: flags.onTimeout ?? 'rollback', cause: 'timeout' };
    stops.controller.abort(reason);
  }, flags.timeout);
  return () => clearTimeout(timer);
}

/** The run's exit code: a signal's own when it interrupted the run, else the engine's. */
export function exitCodeOf(result: RolloutResult, stops: Stops): number {
  if (result.outcome === 'interrupted' && stops.signalName && !stops.timedOut)
    return SIGNAL_EXIT[stops.signalName];
  return result.exitCode;
}

/** One line stating what a signal or the timeout made canary do; undefined for other endings. */
export function stopLine(result: RolloutResult, stops: Stops, flags: StopFlags): string | undefined {
  const { outcome } = result;
  // A signal that arrived while a rollback was already under way (a failed check) is still
  // answered: the rollback finishes, and the exit code is the signal's.
  const duringRollback = outcome === 'rolled_back' && stops.signalName !== undefined && !stops.timedOut;
  if (outcome !== 'interrupted' && outcome !== 'rollback_failed' && !duringRollback) return undefined;
  let what: string;
  let flag: string;
  if (stops.timedOut) {
    what = `timed out after ${flags.timeout === undefined ? '?' : formatDuration(flags.timeout)} (--timeout)`;
    flag = `--on-timeout ${flags.onTimeout ?? 'rollback'}`;
  } else if (stops.signalName) {
    what = SIGNAL_WORDS[stops.signalName];
    flag = `--on-interrupt ${flags.onInterrupt ?? 'rollback'}`;
  } else return undefined;
  const traffic = result.traffic ? formatRules(result.traffic) : 'unknown';
  let action: string;
  if (outcome === 'rollback_failed') action = `rollback NOT confirmed; ${result.next ?? ''}`;
  else if (duringRollback)
    action = `during a rollback (${result.cause ?? 'check'}), which finished: rolled back to the baseline; traffic: ${traffic}`;
  else if (stops.rolledBack) action = `rolled back to the baseline (${flag}); traffic: ${traffic}`;
  else if (result.summary.includes('nothing was changed'))
    action = `stopped before changing anything; traffic: ${traffic}`;
  else action = `left traffic where it was (${flag}); traffic: ${traffic}`;
  return `${what}: ${action}; exit ${result.exitCode}`;
}
