/**
 * Pure retry arithmetic for the relay client: when to retry, and how long to wait. The
 * waiting itself happens on the injected Clock in client.ts.
 */

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** First backoff step for 5xx and connection failures. */
  baseDelayMs: number;
  /** Largest backoff step. */
  maxDelayMs: number;
  /** Overall budget for a call including every wait; a wait that would pass it is not started. */
  deadlineMs: number;
  /** Longest Retry-After honoured; a relay asking for more is treated as asking for this. */
  maxRetryAfterMs: number;
  /** Upper bound of the random extra added to a Retry-After wait, so clients do not stampede. */
  retryAfterJitterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  deadlineMs: 60_000,
  maxRetryAfterMs: 60_000,
  retryAfterJitterMs: 500,
};

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random. The fixed
 * half keeps the waits growing (so a struggling relay gets real relief); the random half
 * spreads clients apart.
 * @param retry 1 for the wait before the second attempt, 2 before the third, …
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + clamp01(random()) * (step / 2));
}

/**
 * Parses `Retry-After` (delta seconds or an HTTP date) into milliseconds from `nowMs`.
 * Undefined when absent or unreadable, so the caller falls back to backoff.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // Only an HTTP date has letters (a weekday, a month); '-3' would otherwise parse as a year.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** The wait after a 429: what the relay asked for, capped, plus a little jitter. */
export function rateLimitDelay(retryAfterMs: number, policy: RetryPolicy, random: () => number): number {
  const asked = Math.min(Math.max(0, retryAfterMs), policy.maxRetryAfterMs);
  return Math.round(asked + clamp01(random()) * policy.retryAfterJitterMs);
}

/**
 * Network error codes worth another attempt: the relay may be restarting or a socket went
 * stale. DNS "not found" and TLS failures are not here: they will not fix themselves.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  // The transports' own (src/relay/transport.ts). BAD_RESPONSE and BODY_TOO_LARGE are not
  // here: something that is not a relay is answering, and will answer the same again.
  'SOCKET_CLOSED',
  'CONNECT_TIMEOUT',
  'HEADERS_TIMEOUT',
  'BODY_TIMEOUT',
]);

export function isTransientNetworkCode(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** Failures before any byte of the request could reach the server: nothing was sent. */
const NOT_SENT_CODES = new Set([
  'PROXY',
  'ECONNREFUSED',
  'CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

export function isNotSentCode(code: string | undefined): boolean {
  return code !== undefined && NOT_SENT_CODES.has(code);
}

/** Answers from something that is not a relay answering well; a GET may meet a better one next time. */
const BROKEN_ANSWER_CODES = new Set(['BAD_RESPONSE', 'BODY_TOO_LARGE']);

export type RetryMethod = 'GET' | 'POST' | 'PATCH';

/** What happened on one attempt, as far as the retry decision cares. */
export type AttemptOutcome =
  | { kind: 'response'; status: number; retryAfterMs: number | undefined }
  /** `responded` is false when nothing came back: the relay may or may not have acted. */
  | { kind: 'network'; code: string | undefined; responded: boolean }
  /** A 2xx whose body is not what the call expects (not JSON, the wrong shape). */
  | { kind: 'malformed'; status: number };

/**
 * The contract's retry rules. GET is idempotent and retried after a 5xx, a 429, a malformed
 * 2xx or a lost connection. A PATCH is retried only where nothing can have been applied (a 429,
 * a connection never made): after a 5xx, a timeout, a lost connection or a malformed answer
 * the change may or may not have landed, and the contract says to read the route back before
 * deciding anything, which is the caller's to do (src/rollout/stage-change.ts, rollback.ts).
 * A POST is retried when no
 * response arrived at all, and after a 429: a rate limit is refused before the relay does
 * anything, and the contract's 429 row says to wait and retry (a repeat that lands twice
 * comes back 409 for the same body, which the client counts as success). A 5xx answer to
 * a POST is final: the relay may have stored it.
 * Returns the wait before the next attempt, or undefined for "do not retry".
 */
export function retryDelay(
  method: RetryMethod,
  outcome: AttemptOutcome,
  retry: number,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  if (outcome.kind === 'malformed') return method === 'GET' ? backoffDelay(retry, policy, random) : undefined;
  if (outcome.kind === 'response') {
    if (outcome.status === 429) {
      return outcome.retryAfterMs === undefined
        ? backoffDelay(retry, policy, random)
        : rateLimitDelay(outcome.retryAfterMs, policy, random);
    }
    if (method !== 'GET') return undefined;
    if (outcome.status >= 500 && outcome.status <= 599) return backoffDelay(retry, policy, random);
    return undefined;
  }
  if (method === 'GET' && outcome.code !== undefined && BROKEN_ANSWER_CODES.has(outcome.code)) {
    return backoffDelay(retry, policy, random);
  }
  if (!isTransientNetworkCode(outcome.code)) return undefined;
  if (method === 'POST' && outcome.responded) return undefined;
  if (method === 'PATCH' && !isNotSentCode(outcome.code)) return undefined;
  return backoffDelay(retry, policy, random);
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
