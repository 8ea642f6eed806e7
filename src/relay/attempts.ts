/**
 * The attempt loop of every HTTP call canary makes (the relay client, the Prometheus source):
 * send through a transport, decide by the contract's retry rules (./retry.ts) whether and when
 * to try again, all within the call's one deadline. It returns the last attempt as it was; each
 * caller turns that into its own answer or its own error message.
 */
import type { Clock } from '../clock.js';
import { formatDuration } from '../format.js';
import {
  type AttemptOutcome,
  parseRetryAfter,
  type RetryMethod,
  type RetryPolicy,
  retryDelay,
} from './retry.js';
import { respondedBeforeFailing, type Transport, type TransportResponse } from './transport.js';

export interface AttemptsOptions {
  transport: Transport;
  method: RetryMethod;
  /** Path and query, from the origin. */
  path: string;
  headers: Record<string, string>;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Bounds the attempts in flight as well as the waits between them. */
  deadlineMs: number;
  clock: Clock;
  policy: RetryPolicy;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** At most this many attempts, when fewer than the policy's. */
  maxAttempts?: number | undefined;
  /** Whether a 2xx carries a usable body; one that does not is retried like a 5xx (GET only). */
  accept?: ((response: TransportResponse) => boolean) | undefined;
}

interface Tally {
  attempts: number;
  /** A retry followed an attempt the server may have acted on unseen (no response, or a 429). */
  retriedBlind: boolean;
  /** Why retrying stopped before the policy's last attempt (the deadline), for messages. */
  stopNote: string | undefined;
}

/** How an attempt failed without an answer, as the caller describes it. */
interface NetworkFailure {
  error: unknown;
  code: string | undefined;
  /** Part of a response had arrived when the attempt failed. */
  responded: boolean;
}

export type LastAttempt = Tally &
  (
    | { kind: 'response'; response: TransportResponse }
    | (NetworkFailure & {
        kind: 'network';
        /** The call's deadline ended the attempt. */
        deadline: boolean;
        /**
         * When the deadline ended this attempt, how the latest attempt before it failed, if one
         * did otherwise (a reset, a refusal): a slow last attempt must not hide what the relay did.
         */
        before?: NetworkFailure | undefined;
      })
  );

/** The failure's code: its own, its cause's, or the first of an AggregateError (both address families refused). */
function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown }; errors?: { code?: unknown }[] };
  for (const candidate of [e?.code, e?.cause?.code, e?.errors?.[0]?.code]) {
    if (typeof candidate === 'string') return candidate;
  }
  return undefined;
}

/** Not a transient failure, so retryDelay never retries an attempt the deadline cut short. */
const DEADLINE_CODE = 'CANARY_DEADLINE';

/** Sends until a 2xx, an answer or failure retrying cannot change, the last attempt, or the deadline. */
export async function sendWithRetries(options: AttemptsOptions): Promise<LastAttempt> {
  const { transport, method, signal, deadlineMs, clock, policy, random } = options;
  const start = clock.now();
  let retriedBlind = false;
  let before: NetworkFailure | undefined;
  for (let attempts = 1; ; attempts++) {
    if (signal?.aborted) throw signal.reason;
    let last: LastAttempt;
    let outcome: AttemptOutcome;
    try {
      const response = await transport.request({
        path: options.path,
        method,
        headers: options.headers,
        body: options.body,
        signal,
        timeoutMs: Math.max(1, deadlineMs - (clock.now() - start)),
      });
      last = { kind: 'response', response, attempts, retriedBlind, stopNote: undefined };
      before = undefined;
      if (response.status >= 200 && response.status < 300) {
        if (options.accept === undefined || options.accept(response)) return last;
        outcome = { kind: 'malformed', status: response.status };
      } else {
        outcome = {
          kind: 'response',
          status: response.status,
          retryAfterMs: parseRetryAfter(response.headers['retry-after'], clock.now()),
        };
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const code = errorCode(error);
      const responded = respondedBeforeFailing(error);
      const deadline = code === 'DEADLINE';
      last = {
        kind: 'network',
        error,
        code,
        responded,
        deadline,
        before: deadline ? before : undefined,
        attempts,
        retriedBlind,
        stopNote: undefined,
      };
      if (!deadline) before = { error, code, responded };
      outcome = { kind: 'network', code: deadline ? DEADLINE_CODE : code, responded };
    }

    const delay = retryDelay(method, outcome, attempts, policy, random);
    const most = Math.min(policy.maxAttempts, options.maxAttempts ?? policy.maxAttempts);
    if (delay === undefined || attempts >= most) return last;
    if (clock.now() - start + delay >= deadlineMs) {
      return {
        ...last,
        stopNote: `waiting ${formatDuration(delay)} more would pass the ${formatDuration(deadlineMs)} deadline`,
      };
    }
    // After a blind retry or a 429 a POST may land twice; the client then counts a 409 for its
    // own body as success.
    if (
      (outcome.kind === 'network' && !outcome.responded) ||
      (outcome.kind === 'response' && outcome.status === 429)
    )
      retriedBlind = true;
    await clock.sleep(delay, signal);
  }
}
