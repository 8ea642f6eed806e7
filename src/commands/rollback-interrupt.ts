/**
 * `canary rollback` stopped by SIGINT, SIGTERM or SIGHUP while it retries (the incident command:
 * whoever pressed Ctrl-C must be told where the route is). The first signal aborts the call in
 * flight and the wait to retry (src/rollout/rollback.ts); then the route is read once more,
 * briefly, and the last lines say what is known:
 * - it reads back at the target: the rollback is in place after all; it counts as confirmed
 *   (exit 0, the usual result line and record), with a line naming the signal;
 * - otherwise: whether a PATCH went out (it may then have landed or not), what the read showed
 *   (or why there was none), and the exact commands to check and to retry; exit 128+n, and a
 *   `rollback_interrupted` record with `-o json`.
 * A second signal ends that read at once: the same message, without the read.
 */

import type { DrainCut } from '../cut-by-signals.js';
import type { RelayPort, Route, RouteRule } from '../domain/relay.js';
import { CanaryError, type ExitCode } from '../errors.js';
import { formatRules } from '../format.js';
import type { Io } from '../io.js';
import { recordLine } from '../output/record.js';
import { isRolledBack, type RollbackInterruptedError, type RollbackResult } from '../rollout/rollback.js';
import { SIGNAL_EXIT, SIGNAL_WORDS } from './rollout-stops.js';

/** The last read: time for a relay that answers at all, not long for a person who pressed Ctrl-C. */
export const LAST_READ_MS = 2_000;

/** Stopped by a signal before the rollback was confirmed: the signal's exit code (128+n). */
export class RollbackStoppedError extends CanaryError {
  constructor(
    message: string,
    exitCode: ExitCode,
    hint: string,
    /** For the journal: the command that does the rollback by hand, and how long it tried. */
    readonly manualCommand: string,
    readonly durationMs: number,
  ) {
    super(message, exitCode, { hint });
  }
}

export interface InterruptScene {
  io: Io;
  relay: RelayPort;
  route: string;
  to: string;
  /** The listener that stopped the rollback; `again` ends the last read. */
  stops: DrainCut;
  json: boolean;
  /** The commands that check the route and do the rollback again, as the user ran it. */
  next: { check: string; retry: string };
}

type LastRead = { route: Route } | { failure: string } | { skipped: true };

async function readOnce(s: InterruptScene): Promise<LastRead> {
  const again = s.stops.again;
  if (again.aborted) return { skipped: true };
  try {
    return {
      route: await s.relay.getRoute(s.route, { deadlineMs: LAST_READ_MS, maxAttempts: 1, signal: again }),
    };
  } catch (error) {
    if (again.aborted) return { skipped: true };
    return { failure: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * After the signal: the rollback confirmed by the last read (returned, with the line that says
 * so), or a RollbackStoppedError saying what is known.
 */
export async function answerInterrupt(
  error: RollbackInterruptedError,
  s: InterruptScene,
): Promise<{ result: RollbackResult; note: string }> {
  const name = s.stops.received() ?? 'SIGINT';
  const { route, to } = s;
  const known = error.known;
  const read = await readOnce(s);
  if ('route' in read && isRolledBack(read.route.route_rules, to)) {
    const rules = read.route.route_rules;
    return {
      result: {
        before: known.before,
        after: rules,
        revision: read.route.revision,
        changed: known.patchSent && !(known.before && isRolledBack(known.before, to)),
        durationMs: known.durationMs,
        attempts: known.attempts,
      },
      note: `${SIGNAL_WORDS[name]} before the rollback's answer came, but ${route} reads back ${formatRules(rules)}: the rollback is in place; exit 0`,
    };
  }
  const code = SIGNAL_EXIT[name] as ExitCode;
  const sent = known.patchSent
    ? `a PATCH was sent but not confirmed (last: ${known.lastCause ?? 'no answer'}), so it may or may not have landed`
    : 'no PATCH had gone out: nothing was changed';
  const message = `${SIGNAL_WORDS[name]} before the rollback of ${route} to ${to} was confirmed: ${sent}; ${readText(route, read)}; exit ${code}`;
  if (s.json) {
    const rules: RouteRule[] | null = 'route' in read ? read.route.route_rules : null;
    s.io.stdout.write(
      recordLine('rollback_interrupted', {
        route,
        to,
        signal: name,
        // Written snake_case: these names are this record's own (src/output/record.ts renames
        // only the fields the events share).
        patch_sent: known.patchSent,
        read_back: rules,
        revision: 'route' in read ? (read.route.revision ?? null) : null,
        read_error: 'failure' in read ? read.failure : null,
        message,
        exit_code: code,
        next: [s.next.check, s.next.retry],
      }),
    );
  }
  throw new RollbackStoppedError(
    message,
    code,
    `check where the route is, then roll it back again:\n  ${s.next.check}\n  ${s.next.retry}`,
    error.manualCommand,
    known.durationMs,
  );
}

function readText(route: string, read: LastRead): string {
  if ('route' in read) {
    const revision = read.route.revision === undefined ? '' : ` (revision ${read.route.revision})`;
    return `${route} reads back ${formatRules(read.route.route_rules)}${revision}: the rollback is not in place`;
  }
  if ('failure' in read) return `the route could not be read back (${read.failure})`;
  return 'the route was not read back (a second signal)';
}

/** The line when a signal came while the rollback's confirming answer was on its way. */
export function confirmedAnyway(stops: DrainCut): string | undefined {
  const name = stops.received();
  return name && `${SIGNAL_WORDS[name]} as the rollback was confirmed: it stands; exit 0`;
}

/** `canary status …` and `canary rollback …` for this route, with the flags that reach the same relay. */
export function nextCommands(
  how: {
    plan: string | undefined;
    relayUrlFlag: string | undefined;
    url: string;
    apiKeyEnv: string;
    apiKeyFile: string | undefined;
  },
  route: string,
  to: string,
): { check: string; retry: string } {
  const relay: string[] = [];
  // A plan names its relay; the flag, when given, overrides it (as it did this time).
  if (!how.plan || how.relayUrlFlag) relay.push('--relay-url', how.relayUrlFlag ?? how.url);
  if (how.apiKeyEnv !== 'RELAY_API_KEY') relay.push('--api-key-env', how.apiKeyEnv);
  if (how.apiKeyFile) relay.push('--api-key-file', how.apiKeyFile);
  const tail = relay.map(quote).join(' ');
  const join = (...parts: string[]) => parts.filter(Boolean).join(' ');
  if (how.plan) {
    return {
      check: join('canary status', quote(how.plan), tail),
      retry: join('canary rollback', quote(how.plan), tail),
    };
  }
  return {
    check: join('canary status --route', quote(route), tail),
    retry: join('canary rollback --route', quote(route), '--to', quote(to), tail),
  };
}

/** A word a shell reads as it is, else single-quoted. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
