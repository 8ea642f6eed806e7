/**
 * Instant rollback: one version at 100 %, every other at 0, confirmed by the relay's answer to
 * the PATCH (or, when that answer does not show it, by reading the route back). Used by the
 * engine the moment a check decides it, and by `canary rollback`.
 *
 * Speed matters more than tidiness here: when the caller already knows the route's rules,
 * the PATCH is sent synchronously, before this function awaits or emits anything.
 */
import type { Clock } from '../clock.js';
import { RelayError, RollbackFailedError } from '../errors.js';
import { curlForUpdate } from '../relay/curl.js';
import type { RelayPort, Route, RouteRule, RouteUpdate, UpdateRouteRequest } from '../relay/types.js';
import type { EmitFn, RollbackCause } from './events.js';

export interface RollbackOptions {
  relay: RelayPort;
  clock: Clock;
  /** Route id (model alias). */
  route: string;
  /** The tag to put at 100 %. */
  to: string;
  /** Keep retrying until the rollback is confirmed or this much time has passed. */
  deadlineMs: number;
  /** The route's rules as the caller last confirmed them; lets the PATCH go out without a read first. */
  knownRules?: RouteRule[] | undefined;
  /** Relay base URL for the manual command printed on failure. */
  baseUrl?: string | undefined;
  /** Env var holding the key, named in the manual command (never its value). */
  apiKeyEnv?: string | undefined;
  emit?: EmitFn | undefined;
  /** Stops retrying (e.g. Ctrl-C during `canary rollback`); the engine does not pass one. */
  signal?: AbortSignal | undefined;
  /** For the `rollback_started` event. */
  stage?: number | undefined;
  cause?: RollbackCause | undefined;
  reason?: string | undefined;
  /** Called right after the first PATCH is handed to the relay client, before any event. */
  onPatchSent?: (() => void) | undefined;
}

export interface RollbackResult {
  /** The rules before the rollback, when known. */
  before: RouteRule[] | null;
  /** The rules the relay confirmed (its answer to the PATCH, or the route read back). */
  after: RouteRule[];
  revision?: number | undefined;
  /** False when the route was already at the target and nothing was written. */
  changed: boolean;
  durationMs: number;
  attempts: number;
}

/** The rollback could not be confirmed; carries the command that does it by hand. */
export class RollbackNotConfirmedError extends RollbackFailedError {
  readonly manualCommand: string;
  constructor(message: string, manualCommand: string, cause?: unknown) {
    super(message, { hint: `restore it by hand:\n  ${manualCommand}`, cause });
    this.manualCommand = manualCommand;
  }
}

const WEIGHT_TOLERANCE = 0.001;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/** `to` at 100, every other tag the route names at 0 (a PATCH replaces the rule list). */
export function rollbackRules(current: RouteRule[] | null, to: string): RouteRule[] {
  const rules = (current ?? []).map((r) => ({
    version_tag: r.version_tag,
    weight: r.version_tag === to ? 100 : 0,
  }));
  if (!rules.some((r) => r.version_tag === to)) rules.unshift({ version_tag: to, weight: 100 });
  return rules;
}

export function isRolledBack(rules: RouteRule[], to: string): boolean {
  const target = rules.find((r) => r.version_tag === to);
  if (!target || Math.abs(target.weight - 100) > WEIGHT_TOLERANCE) return false;
  return rules.every((r) => r.version_tag === to || Math.abs(r.weight) <= WEIGHT_TOLERANCE);
}

/** 4xx answers other than 408/429 will not change on retry: the request itself is refused. */
function isDefinitive(error: unknown): boolean {
  return (
    error instanceof RelayError &&
    error.status !== undefined &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 408 &&
    error.status !== 429
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function rollbackRoute(opts: RollbackOptions): Promise<RollbackResult> {
  const { relay, clock, route, to } = opts;
  const startedAt = clock.now();
  const deadline = startedAt + opts.deadlineMs;
  const request = (rules: RouteRule[] | null): UpdateRouteRequest => ({
    route_id: route,
    route_rules: rollbackRules(rules, to),
  });

  let before: RouteRule[] | null = opts.knownRules ? opts.knownRules.map((r) => ({ ...r })) : null;
  let inFlight: Promise<RouteUpdate> | null = null;
  let patched = false;
  if (before) {
    // Nothing may come between the decision and this call: no await, no emit.
    // Bounded by the rollback's own deadline, not the client's default, so exit 4 comes on time.
    inFlight = relay.updateRoute(request(before), { deadlineMs: opts.deadlineMs });
    inFlight.catch(() => {}); // observed below; avoid an unhandled rejection meanwhile
    patched = true;
  }
  opts.onPatchSent?.();
  opts.emit?.({
    type: 'rollback_started',
    at: clock.now(),
    stage: opts.stage ?? 0,
    cause: opts.cause ?? 'request',
    reason: opts.reason ?? `rollback requested: ${to} to 100 %`,
    to: request(before).route_rules,
  });

  const manualCommand = () =>
    curlForUpdate(opts.baseUrl ?? '<relay-url>/v1', request(before), opts.apiKeyEnv);
  const fail = (message: string, cause?: unknown): never => {
    const command = manualCommand();
    opts.emit?.({ type: 'rollback_failed', at: clock.now(), message, manualCommand: command });
    throw new RollbackNotConfirmedError(message, command, cause);
  };

  let attempts = 0;
  let lastError: unknown;
  let wait = FIRST_RETRY_MS;
  for (;;) {
    attempts++;
    const remaining = () => Math.max(1, deadline - clock.now());
    try {
      if (!inFlight) {
        const current: Route = await relay.getRoute(route, { signal: opts.signal, deadlineMs: remaining() });
        if (before === null) before = current.route_rules.map((r) => ({ ...r }));
        if (isRolledBack(current.route_rules, to)) {
          return confirmed(current, patched);
        }
        inFlight = relay.updateRoute(request(current.route_rules), { deadlineMs: remaining() });
        patched = true;
      }
      const written = await inFlight;
      inFlight = null;
      // The relay's answer to the PATCH is its word on the route after the write: when it shows
      // the rollback, reading the route back would cost an incident one more round trip to the
      // relay for nothing. An answer that does not show it is checked by reading the route.
      if (isRolledBack(written.route_rules, to)) return confirmed(written, patched);
      const back = await relay.getRoute(route, { signal: opts.signal, deadlineMs: remaining() });
      if (isRolledBack(back.route_rules, to)) return confirmed(back, patched);
      lastError = new Error(
        `read back ${back.route_rules.map((r) => `${r.version_tag} ${r.weight}%`).join(', ')} after the PATCH`,
      );
    } catch (error) {
      inFlight = null;
      lastError = error;
      if (
        !patched &&
        error instanceof RelayError &&
        (error.status === 404 || error.status === 401 || error.unreachable)
      ) {
        // Nothing was written: an unknown route, a refused key, or a relay that cannot be
        // reached as configured (an untrusted certificate, a host that does not exist) is the
        // caller's error to report now, not after the deadline as an uncertain rollback.
        throw error;
      }
      if (isDefinitive(error)) {
        fail(`the relay refused the rollback of ${route} to ${to}: ${describe(error)}`, error);
      }
    }
    if (opts.signal?.aborted) {
      fail(`rollback of ${route} to ${to} was interrupted before it was confirmed`, lastError);
    }
    if (clock.now() >= deadline) {
      fail(
        `rollback of ${route} to ${to} could not be confirmed within ${Math.round(opts.deadlineMs / 1000)} s ` +
          `(${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${describe(lastError)}); traffic state is uncertain`,
        lastError,
      );
    }
    try {
      await clock.sleep(Math.min(wait, Math.max(0, deadline - clock.now())), opts.signal);
    } catch {
      // Interrupted while waiting to retry: report below on the next pass.
    }
    wait = Math.min(wait * 2, MAX_RETRY_MS);
  }

  function confirmed(route: Pick<Route, 'route_rules' | 'revision'>, changed: boolean): RollbackResult {
    const durationMs = clock.now() - startedAt;
    opts.emit?.({
      type: 'rolled_back',
      at: clock.now(),
      rules: route.route_rules,
      revision: route.revision,
      durationMs,
    });
    return {
      before,
      after: route.route_rules,
      revision: route.revision,
      changed,
      durationMs,
      attempts,
    };
  }
}
