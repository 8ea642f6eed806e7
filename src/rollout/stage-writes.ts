/**
 * One stage change, as the contract asks (../shared/relay-api.md, PATCH): send the new weights
 * with `If-Match` on the revision this run last saw; after a 5xx, a timeout, a lost connection
 * or a malformed answer, read the route back before deciding anything:
 * - it shows the new weights: the change landed;
 * - it shows what this run last confirmed (same revision): nothing landed, send it again;
 * - anything else: someone else changed the route (drift); stop without writing.
 * A 412 is the relay saying the same as the last case, unless the change that moved the
 * revision was this run's own earlier attempt (the read shows our weights).
 * Pure: the relay port and the clock only.
 */
import type { Clock } from '../clock.js';
import type { RelayPort, Route, RouteRule } from '../domain/relay.js';
import { RelayError } from '../errors.js';
import { sameWeights } from '../relay/compare.js';

const FIRST_WAIT_MS = 250;

export type WeightsChange =
  /** The relay holds the new weights; `revision` is the one the change made, when known. */
  | { kind: 'applied'; rules: RouteRule[]; revision: number | undefined; confirmedBy: 'answer' | 'read' }
  /** The route is neither where this run left it nor where it was sending it. */
  | { kind: 'drift'; route: Route };

export interface WeightsChangeOptions {
  relay: RelayPort;
  clock: Clock;
  route: string;
  target: RouteRule[];
  /** What this run last confirmed: the weights and revision a "nothing landed" read shows. */
  previous: { rules: RouteRule[]; revision: number | undefined };
  /** For the whole change, re-sends and read-backs included. */
  deadlineMs: number;
  /** Each call's own limit within it. */
  callDeadlineMs: number;
}

/** 3xx and 4xx other than 408/412/429: the request itself is refused, and will be again. */
function refused(error: RelayError): boolean {
  const s = error.status;
  return s !== undefined && s >= 300 && s < 500 && s !== 408 && s !== 412 && s !== 429;
}

export async function changeWeights(opts: WeightsChangeOptions): Promise<WeightsChange> {
  const { relay, clock, route, target, previous } = opts;
  const deadline = clock.now() + opts.deadlineMs;
  const callMs = () => Math.max(1, Math.min(opts.callDeadlineMs, deadline - clock.now()));
  let lastError: unknown;
  let wait = FIRST_WAIT_MS;
  /** An earlier attempt may have been applied unseen (a 5xx, a timeout, a lost answer). */
  let mayHaveLanded = false;
  for (;;) {
    let preconditionFailed = false;
    try {
      const update = await relay.updateRoute(
        { route_id: route, route_rules: target },
        { deadlineMs: callMs(), ifRevision: previous.revision },
      );
      // A 200 is the route's state after the write (the contract): when it shows our weights
      // this is done; when it does not, the read below decides.
      if (sameWeights(update.route_rules, target)) {
        return {
          kind: 'applied',
          rules: update.route_rules,
          revision: update.revision,
          confirmedBy: 'answer',
        };
      }
      lastError = new Error(`the relay answered the PATCH with other weights than were sent`);
      mayHaveLanded = true;
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      if (refused(error)) throw error;
      lastError = error;
      if (error.status === 412) preconditionFailed = true;
      else if (!error.notSent) mayHaveLanded = true;
    }
    // The change may or may not have landed: read before deciding.
    let back: Route | undefined;
    try {
      back = await relay.getRoute(route, { deadlineMs: callMs() });
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      lastError = error;
    }
    if (back) {
      // A 412 with none of our attempts possibly applied: someone else moved the revision, even
      // if to the very weights we were sending (an identical rollout started at the same time).
      if (preconditionFailed && !mayHaveLanded) return { kind: 'drift', route: back };
      if (sameWeights(back.route_rules, target)) {
        return { kind: 'applied', rules: back.route_rules, revision: back.revision, confirmedBy: 'read' };
      }
      const untouched =
        sameWeights(back.route_rules, previous.rules) &&
        (previous.revision === undefined ||
          back.revision === undefined ||
          back.revision === previous.revision);
      if (!untouched) return { kind: 'drift', route: back };
    }
    if (clock.now() + wait >= deadline) throw lastError;
    await clock.sleep(wait);
    wait = Math.min(wait * 2, 4_000);
  }
}
