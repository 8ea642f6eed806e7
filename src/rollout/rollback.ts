/**
 * Instant rollback: one version at 100 %, every other at 0, confirmed by the relay's answer to
 * the PATCH (or, when that answer does not show it, by reading the route back). Used by the
 * engine the moment a check decides it, and by `canary rollback`.
 *
 * Speed matters more than tidiness here: when the caller already knows the route's rules,
 * the PATCH is sent synchronously, before this function awaits or emits anything.
 */
import type { Clock } from '../clock.js';
import type {
  CallOptions,
  RelayPort,
  Route,
  RouteRule,
  RouteUpdate,
  UpdateRouteRequest,
} from '../domain/relay.js';
import { RelayError, RollbackFailedError } from '../errors.js';
import { formatDuration, formatRules } from '../format.js';
import { curlForUpdate } from '../relay/curl.js';
import { rollbackAttemptMs } from './deadlines.js';
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
  /** Called before each wait to retry: a terminal shows that the rollback is not confirmed yet. */
  onRetry?: ((retry: { attempts: number; cause: string; waitMs: number }) => void) | undefined;
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
  /**
   * Set when the relay refused the rollback itself (a 3xx, or a 4xx such as an unknown tag):
   * nothing was changed, and sending the same request again, by hand or not, would not help.
   */
  readonly refusal: { error: RelayError; rules: RouteRule[] | null } | undefined;
  constructor(
    message: string,
    manualCommand: string,
    cause?: unknown,
    refusal?: { error: RelayError; rules: RouteRule[] | null },
  ) {
    super(message, { hint: refusal ? undefined : `restore it by hand:\n  ${manualCommand}`, cause });
    this.manualCommand = manualCommand;
    this.refusal = refusal;
  }
}

/**
 * The caller's signal stopped the retrying before the rollback was confirmed. Says what is
 * known, so the caller can tell the user where the route may be: whether a PATCH went out (it
 * may then have landed or not), the rules before it, and the last real cause.
 */
export class RollbackInterruptedError extends RollbackNotConfirmedError {
  constructor(
    message: string,
    manualCommand: string,
    readonly known: {
      patchSent: boolean;
      before: RouteRule[] | null;
      attempts: number;
      durationMs: number;
      lastCause: string | undefined;
    },
  ) {
    super(message, manualCommand, known.lastCause);
  }
}

const WEIGHT_TOLERANCE = 0.001;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;
/** An attempt with less time than this left would only fail for lack of it: the deadline has come. */
const MIN_ATTEMPT_MS = 250;

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

/**
 * Answers that will not change on retry: a redirect (canary does not follow one with the key),
 * or a 4xx other than 408/409/412/429 (the request itself is refused: an unknown tag, a bad key).
 */
function isRefusal(error: unknown): error is RelayError {
  if (!(error instanceof RelayError) || error.status === undefined) return false;
  const s = error.status;
  if (s >= 300 && s < 400) return true;
  return s >= 400 && s < 500 && s !== 408 && s !== 409 && s !== 412 && s !== 429;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function rollbackRoute(opts: RollbackOptions): Promise<RollbackResult> {
  const run = new RollbackRun(opts);
  run.start();
  return run.untilConfirmed();
}

/** One rollback: its first PATCH, then attempts (read, PATCH, read back) until confirmed or out of time. */
class RollbackRun {
  private readonly startedAt: number;
  private readonly deadline: number;
  /** One hung call is abandoned and tried again well before the deadline (src/rollout/deadlines.ts). */
  private readonly attemptMs: number;
  private before: RouteRule[] | null;
  private inFlight: Promise<RouteUpdate> | null = null;
  /** A PATCH went out: the relay may have acted on it, whatever came back. */
  private patched = false;
  private attempts = 0;
  /** The last thing that went wrong for a reason of its own, not for want of time. */
  private lastCause: string | undefined;
  /** What the route read back after a PATCH that failed, when it was not rolled back. */
  private notApplied: string | undefined;
  /** Anything but a first PATCH answered with the rollback: the result is then confirmed by a read. */
  private offCourse = false;
  private wait = FIRST_RETRY_MS;

  constructor(private readonly opts: RollbackOptions) {
    this.startedAt = opts.clock.now();
    this.deadline = this.startedAt + opts.deadlineMs;
    this.attemptMs = rollbackAttemptMs(opts.deadlineMs);
    this.before = opts.knownRules ? opts.knownRules.map((r) => ({ ...r })) : null;
  }

  /** Every call is one attempt: the loop does the retrying, reading the route between tries. */
  private call(): CallOptions {
    const { clock, signal } = this.opts;
    return {
      deadlineMs: Math.max(1, Math.min(this.attemptMs, this.deadline - clock.now())),
      maxAttempts: 1,
      ...(signal ? { signal } : {}),
    };
  }

  private request(rules: RouteRule[] | null): UpdateRouteRequest {
    return { route_id: this.opts.route, route_rules: rollbackRules(rules, this.opts.to) };
  }

  /** Sends the PATCH at once when the rules are known, then says the rollback has started. */
  start(): void {
    const { opts } = this;
    if (this.before) {
      // Nothing may come between the decision and this call: no await, no emit.
      this.inFlight = opts.relay.updateRoute(this.request(this.before), this.call());
      this.inFlight.catch(() => {}); // observed below; avoid an unhandled rejection meanwhile
      this.patched = true;
    }
    opts.onPatchSent?.();
    opts.emit?.({
      type: 'rollback_started',
      at: opts.clock.now(),
      stage: opts.stage ?? 0,
      cause: opts.cause ?? 'request',
      reason: opts.reason ?? `rollback requested: ${opts.to} to 100%`,
      to: this.request(this.before).route_rules,
    });
  }

  async untilConfirmed(): Promise<RollbackResult> {
    const { clock, signal } = this.opts;
    for (;;) {
      this.attempts++;
      try {
        const done = await this.attempt();
        if (done) return done;
      } catch (error) {
        this.onFailedAttempt(error);
      }
      this.giveUpWhenStopped();
      const waitMs = Math.min(this.wait, Math.max(0, this.deadline - clock.now() - MIN_ATTEMPT_MS));
      this.opts.onRetry?.({ attempts: this.attempts, cause: this.cause(), waitMs });
      try {
        await clock.sleep(waitMs, signal);
      } catch {
        // Interrupted while waiting to retry: no further attempt, said at once.
      }
      if (signal?.aborted) this.interrupted();
      this.wait = Math.min(this.wait * 2, MAX_RETRY_MS);
    }
  }

  /** One try: read the route (unless a PATCH is on its way), PATCH it, confirm. */
  private async attempt(): Promise<RollbackResult | undefined> {
    const { relay, route, to } = this.opts;
    if (!this.inFlight) {
      const current: Route = await relay.getRoute(route, this.call());
      if (this.before === null) this.before = current.route_rules.map((r) => ({ ...r }));
      if (isRolledBack(current.route_rules, to)) return this.confirmed(current, this.patched);
      if (this.patched) this.notApplied = formatRules(current.route_rules);
      this.inFlight = relay.updateRoute(this.request(current.route_rules), this.call());
      this.patched = true;
    }
    const written = await this.inFlight;
    this.inFlight = null;
    // The relay's answer to the PATCH is the route after the write (the contract): when it
    // shows the rollback and nothing looked off, reading the route back would cost an
    // incident one more round trip for nothing. Otherwise a read confirms it.
    if (isRolledBack(written.route_rules, to) && !this.offCourse)
      return this.confirmed(written, this.patched);
    const back = await relay.getRoute(route, this.call());
    if (isRolledBack(back.route_rules, to)) return this.confirmed(back, this.patched);
    this.lastCause = `the relay accepted the PATCH but the route reads back ${formatRules(back.route_rules)}`;
    return undefined;
  }

  /** Notes why an attempt failed; throws when trying again cannot help. */
  private onFailedAttempt(error: unknown): void {
    const { route, to, clock, signal } = this.opts;
    this.inFlight = null;
    this.offCourse = true;
    // Stopped by the caller: the abort says nothing about the relay; the last real cause stands.
    if (signal?.aborted) return;
    if (
      !this.patched &&
      error instanceof RelayError &&
      (error.status === 404 || error.status === 401 || error.unreachable || error.notSent)
    ) {
      // Nothing was written: an unknown route, a refused key, a relay that cannot be reached
      // as configured, or a connection that was never made (refused, no route to the host).
      // That is the caller's to report now, not after the deadline as an uncertain rollback.
      throw new RelayError({
        message: `${error.message} Nothing was written: the rollback of ${route} did not reach the relay.`,
        type: error.type,
        operation: error.operation,
        status: error.status,
        hint: error.hint,
        cause: error,
        unreachable: error.unreachable,
        notSent: error.notSent,
        exitCode: error.exitCode,
      });
    }
    if (isRefusal(error)) {
      this.fail(`the relay refused the rollback of ${route} to ${to}: ${describe(error)}`, error, {
        error,
        rules: this.before,
      });
    }
    // A call cut short only because the deadline was about to end says nothing new.
    if (
      !(
        error instanceof RelayError &&
        error.type === 'timeout' &&
        this.deadline - clock.now() < MIN_ATTEMPT_MS
      )
    ) {
      this.lastCause = describe(error);
    }
  }

  /** What went wrong last, for messages: its own cause, and whether the PATCH was seen not to apply. */
  private cause(): string {
    return `${this.lastCause ?? 'no answer'}${this.notApplied ? `; the route then read ${this.notApplied}: the PATCH did not apply` : ''}`;
  }

  /** Fails when interrupted, or when too little time is left for another attempt. */
  private giveUpWhenStopped(): void {
    const { route, to, clock, signal, deadlineMs } = this.opts;
    const cause = this.cause();
    if (signal?.aborted) this.interrupted();
    if (this.deadline - clock.now() < MIN_ATTEMPT_MS + Math.min(this.wait, MIN_ATTEMPT_MS)) {
      const { attempts } = this;
      this.fail(
        `rollback of ${route} to ${to} could not be confirmed within ${formatDuration(deadlineMs)} ` +
          `(${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${cause}); traffic state is uncertain`,
        this.lastCause,
      );
    }
  }

  private fail(
    message: string,
    cause?: unknown,
    refusal?: { error: RelayError; rules: RouteRule[] | null },
  ): never {
    const command = this.failed(message);
    throw new RollbackNotConfirmedError(message, command, cause, refusal);
  }

  /** The caller's signal came first: no further call, and what is known goes with the error. */
  private interrupted(): never {
    const { route, to, clock } = this.opts;
    const message = `rollback of ${route} to ${to} was interrupted before it was confirmed (last: ${this.cause()})`;
    const command = this.failed(message);
    throw new RollbackInterruptedError(message, command, {
      patchSent: this.patched,
      before: this.before,
      attempts: this.attempts,
      durationMs: clock.now() - this.startedAt,
      lastCause: this.lastCause,
    });
  }

  /** Emits `rollback_failed`; returns the command that does the rollback by hand. */
  private failed(message: string): string {
    const { opts } = this;
    const command = curlForUpdate(
      opts.baseUrl ?? '<relay-url>/v1',
      this.request(this.before),
      opts.apiKeyEnv,
    );
    opts.emit?.({ type: 'rollback_failed', at: opts.clock.now(), message, manualCommand: command });
    return command;
  }

  private confirmed(route: Pick<Route, 'route_rules' | 'revision'>, changed: boolean): RollbackResult {
    const { clock } = this.opts;
    const durationMs = clock.now() - this.startedAt;
    this.opts.emit?.({
      type: 'rolled_back',
      at: clock.now(),
      rules: route.route_rules,
      revision: route.revision,
      durationMs,
    });
    return {
      before: this.before,
      after: route.route_rules,
      revision: route.revision,
      changed,
      durationMs,
      attempts: this.attempts,
    };
  }
}
