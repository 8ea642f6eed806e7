/**
 * A stop signal that comes once the run's outcome is decided: the engine has finished (or the
 * run ended before it could start) and the close list is under way. Traffic is where the
 * journal says and the exit code is the run's own; the signal only cuts short what still waits
 * (the webhooks' drain, up to NOTIFY_DRAIN_MS), and the last lines say what it cut.
 */

import type { RouteRule } from '../domain/relay.js';
import { formatRules } from '../format.js';
import { cutText, type DrainResult } from '../notify/webhook.js';
import { SIGNAL_WORDS, type Stops } from './rollout-stops.js';

/** How the run ended, as far as a late signal's line needs it. */
export interface DecidedEnding {
  exitCode: number;
  /** The engine's outcome, when it ran (none for a run that ended in an error). */
  outcome?: string | undefined;
  /** The route's rules as last confirmed; null when uncertain. */
  traffic?: readonly RouteRule[] | null | undefined;
  /** What a signal or the timeout made canary do (./rollout-stops.ts stopLine), printed last. */
  finalLine?: string | undefined;
}

/**
 * Marks the outcome decided, as the close list begins: every signal from now on is late. One
 * that came while the engine was finishing, too late for it to act on (the run ended as it
 * would have, with no line about the signal), counts as late too, so it cuts the drain short
 * and the last lines still say it was received.
 */
export function decideStops(stops: Stops, ending: DecidedEnding): void {
  stops.decided = true;
  if (stops.signalName && !stops.timedOut && ending.outcome !== undefined && ending.finalLine === undefined) {
    stops.lateSignal ??= stops.signalName;
    stops.cut.abort();
  }
}

/**
 * The line a late signal leaves, before the run's own final line (if any), else ending in the
 * run's outcome, traffic and exit code: `terminated (SIGTERM) after the run's outcome was
 * decided: webhook delivery cut short, 1 webhook notice not delivered; the outcome stands:
 * promoted, traffic: v1 0%, v2 100%; exit 0`. Undefined without a late signal.
 */
export function lateStopLine(stops: Stops, ending: DecidedEnding, drained?: DrainResult): string | undefined {
  if (!stops.lateSignal) return undefined;
  const line = `${SIGNAL_WORDS[stops.lateSignal]} after the run's outcome was decided: ${cutText(drained)}`;
  if (ending.finalLine) return line; // the run's final line follows, with the outcome and the exit
  const outcome =
    ending.outcome === undefined
      ? 'the outcome stands'
      : `the outcome stands: ${ending.outcome}, traffic: ${formatRules(ending.traffic)}`;
  return `${line}; ${outcome}; exit ${ending.exitCode}`;
}
