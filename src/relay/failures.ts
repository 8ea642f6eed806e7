/**
 * The relay client's errors: what a failed call says to a person, from a network failure's code
 * or a non-2xx answer's status and body. Every text that came from the relay passes `scrub`
 * first, so a relay (or a proxy) echoing the key cannot leak it into a message.
 */

import { ExitCode, RelayError } from '../errors.js';
import { formatDuration } from '../format.js';
import { proxyForDisplay, proxySettings } from './proxy.js';
import type { RetryMethod } from './retry.js';
import { checkAnswer, readErrorAnswer } from './schemas.js';
import { lacksV1 } from './url.js';

/** One call as the client describes it, before it is sent. */
export interface Request {
  method: RetryMethod;
  /** Path relative to the base URL, e.g. `/routes/traffic/abc`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** `GET /health` is the one call without the key. */
  auth?: boolean;
  /** What a 404 is about, e.g. `route code-review-production`. */
  subject: string;
}

/** The final answer of a call, after any retries. */
export interface Answer {
  status: number;
  text: string;
  attempts: number;
  /** A retry happened because an earlier attempt got no response: the relay may have acted. */
  retriedBlind: boolean;
  /** Why retrying stopped early (deadline), for the message. */
  stopNote: string | undefined;
  /** A redirect's Location header, for the message. */
  location: string | undefined;
}

/** What the messages name: where the relay is, where the key came from, the limits that ran out. */
export interface FailureContext {
  baseUrl: string;
  /** `https:` or `http:`: which proxy variable applies. */
  protocol: string;
  /** Where the key came from, e.g. `env RELAY_API_KEY`; named in 401 messages instead of the key. */
  keySource: string;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number };
  scrub: (text: string) => string;
  scrubDeep: (value: unknown) => unknown;
}

const REDACTED = '[REDACTED]';

/** Belt and braces: a relay (or a proxy) echoing the Authorization header must not leak it. */
export function scrubber(apiKey: string): {
  scrub: (text: string) => string;
  scrubDeep: (value: unknown) => unknown;
} {
  const scrub = (text: string): string => (apiKey.length >= 4 ? text.split(apiKey).join(REDACTED) : text);
  const scrubDeep = (value: unknown): unknown => {
    if (typeof value === 'string') return scrub(value);
    if (Array.isArray(value)) return value.map(scrubDeep);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubDeep(v)]));
    }
    return value;
  };
  return { scrub, scrubDeep };
}

function isTlsCode(code: string): boolean {
  return /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(code);
}

/** Failures that another attempt a moment later would meet again (see RelayError.unreachable). */
export function isLastingNetworkCode(code: string): boolean {
  return isTlsCode(code) || code === 'ENOTFOUND' || code === 'BAD_RESPONSE' || code === 'BODY_TOO_LARGE';
}

export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

export function attemptsNote(attempts: number, stopNote: string | undefined): string {
  if (stopNote !== undefined) return ` (after ${attempts} attempt${attempts === 1 ? '' : 's'}; ${stopNote})`;
  return attempts > 1 ? ` (after ${attempts} attempts)` : '';
}

/** Matches the contract's status table when a relay (or a proxy in front of it) sends no error body. */
function defaultType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 422) return 'validation_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'http_error';
}

/** A network failure's code, in words, with the kind of error it makes. */
export function describeNetwork(
  ctx: FailureContext,
  error: unknown,
  code: string | undefined,
  responded: boolean,
): { type: string; reason: string } {
  const raw = error instanceof Error ? ctx.scrub(error.message) : ctx.scrub(String(error));
  const { timeouts } = ctx;
  switch (code) {
    case 'ECONNREFUSED':
      return {
        type: 'network_error',
        reason: 'connection refused (ECONNREFUSED): is the relay running there?',
      };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'SOCKET_CLOSED':
      return {
        type: 'network_error',
        reason: `the connection was closed ${responded ? 'while reading the response' : 'before any response'} (${code})`,
      };
    case 'ENOTFOUND':
      return { type: 'network_error', reason: 'host name not found (ENOTFOUND): check the relay URL' };
    case 'EAI_AGAIN':
      return { type: 'network_error', reason: 'DNS lookup failed temporarily (EAI_AGAIN)' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return { type: 'network_error', reason: `network unreachable (${code})` };
    case 'ETIMEDOUT':
      return { type: 'timeout', reason: 'the connection timed out (ETIMEDOUT)' };
    case 'CONNECT_TIMEOUT':
      return {
        type: 'timeout',
        reason: `could not connect within ${formatDuration(timeouts.connectMs)} (${code})`,
      };
    case 'HEADERS_TIMEOUT':
      return {
        type: 'timeout',
        reason: `no response within ${formatDuration(timeouts.headersMs)} (${code})`,
      };
    case 'BODY_TIMEOUT':
      return {
        type: 'timeout',
        reason: `the response body stalled for ${formatDuration(timeouts.bodyMs)} (${code})`,
      };
    case 'BAD_RESPONSE':
    case 'BODY_TOO_LARGE':
      return { type: 'invalid_response', reason: `${raw}` };
    case 'PROXY':
      return { type: 'network_error', reason: raw };
    default:
      if (code !== undefined && isTlsCode(code)) {
        return { type: 'network_error', reason: `TLS failure (${code}): ${raw}` };
      }
      return { type: 'network_error', reason: code === undefined ? raw : `${raw} (${code})` };
  }
}

/** The relay's error body, when it sent one the contract describes. */
function readErrorBody(answer: Answer): {
  type: string | undefined;
  message: string | undefined;
  field: string | undefined;
  existing: unknown;
} {
  try {
    const checked = checkAnswer(readErrorAnswer, JSON.parse(answer.text));
    if (checked.ok) {
      const { error } = checked.value;
      return { type: error.type, message: error.message, field: error.field, existing: error.existing };
    }
  } catch {
    // A proxy's HTML error page, say; the status still tells the story.
  }
  return { type: undefined, message: undefined, field: undefined, existing: undefined };
}

type Explained = Pick<RelayErrorInit, 'message' | 'hint' | 'exitCode' | 'unreachable' | 'notSent'>;
type RelayErrorInit = ConstructorParameters<typeof RelayError>[0];

/** Turns a final non-2xx answer into the error a person can act on. */
export function failure(ctx: FailureContext, req: Request, answer: Answer): RelayError {
  const { scrub } = ctx;
  const operation = `${req.method} ${req.path}`;
  const { status } = answer;
  const body = readErrorBody(answer);
  let relayMessage = body.message;
  if (relayMessage === undefined && answer.text.trim() !== '') relayMessage = snippet(answer.text);
  const type = scrub(body.type ?? defaultType(status));
  const field = body.field === undefined ? undefined : scrub(body.field);
  const said = relayMessage === undefined ? '' : `: ${scrub(relayMessage)}`;
  const common = { type, operation, status, field, existing: ctx.scrubDeep(body.existing) };
  return new RelayError({ ...common, ...explain(ctx, req, answer, { operation, type, field, said }) });
}

/** The message and hint for a status, by what the contract's status table says it means. */
function explain(
  ctx: FailureContext,
  req: Request,
  answer: Answer,
  {
    operation,
    type,
    field,
    said,
  }: { operation: string; type: string; field: string | undefined; said: string },
): Explained {
  const { baseUrl, keySource } = ctx;
  const { status } = answer;
  const tail = attemptsNote(answer.attempts, answer.stopNote);
  if (status === 401 || status === 403) {
    return {
      message: `${operation}: the relay rejected the API key from ${keySource} (${status} ${type}${said}).`,
      hint: `Check the key in ${keySource}: it must be a valid key for ${baseUrl}.`,
      exitCode: ExitCode.BadInput,
    };
  }
  if (status === 404) {
    return {
      message: `${operation}: ${req.subject} was not found on the relay (404 ${type}${said}).`,
      hint: v1Hint(baseUrl) ?? `Check the name; the relay at ${baseUrl} does not know ${req.subject}.`,
    };
  }
  if (status === 409) {
    return { message: `${operation}: ${req.subject} already exists on the relay (409 ${type}${said}).` };
  }
  if (status === 422 || status === 400) {
    const what = field === undefined ? 'the request' : `field ${field}`;
    return {
      message: `${operation}: the relay refused ${what}${said} (${status} ${type}).`,
      hint: field === undefined ? undefined : `Fix ${field} in the plan or flags and run again.`,
    };
  }
  if (status === 412) {
    return {
      message: `${operation}: ${req.subject} changed since the revision canary last read (412 ${type}${said}).`,
    };
  }
  if (status >= 300 && status < 400) {
    const where = answer.location === undefined ? '' : ` to ${ctx.scrub(answer.location)}`;
    return {
      message: `${operation}: the relay answered ${status}, a redirect${where}; canary does not follow redirects (it would send the key elsewhere).`,
      hint: `Set the relay URL to where the API really is${where ? ` (the redirect points${where})` : ''}.`,
      unreachable: true,
    };
  }
  if (status === 429) {
    return {
      message: `${operation}: the relay is rate-limiting canary (429 ${type}${said})${tail}.`,
      hint: 'Wait a moment and run again, or lower the polling rate (analysis.interval).',
    };
  }
  if (status === 407) {
    return {
      message: `${operation}: the proxy asked for credentials (407 Proxy Authentication Required${said}).`,
      hint: 'Put them in the proxy URL: HTTPS_PROXY=http://user:password@proxy:port (and HTTP_PROXY for http relays).',
      notSent: true,
    };
  }
  if (status >= 500) {
    return {
      message: `${operation}: the relay failed with ${status} ${type}${said}${tail}${viaProxy(ctx, status)}.`,
      hint:
        req.method === 'POST'
          ? 'POST calls are not retried after an answer; check the relay and run again (re-running is safe).'
          : 'The relay is having trouble; check its status and run again.',
    };
  }
  return { message: `${operation}: unexpected answer ${status} ${type}${said}.` };
}

/** A base URL without /v1 is the likeliest cause of a 404. */
function v1Hint(baseUrl: string): string | undefined {
  return lacksV1(baseUrl)
    ? `The base URL ${baseUrl} does not end in /v1; the relay API normally lives under it: try ${baseUrl}/v1.`
    : undefined;
}

/** A 502 or 504 through a proxy may be the proxy's own answer: say so. */
function viaProxy(ctx: FailureContext, status: number): string {
  if (status !== 502 && status !== 504) return '';
  const proxy = proxySettings();
  if (proxy === undefined) return '';
  const url = ctx.protocol === 'https:' ? (proxy.httpsProxy ?? proxy.httpProxy) : proxy.httpProxy;
  return url === undefined
    ? ''
    : ` (through ${proxyForDisplay(url)}: the proxy may not have reached the relay)`;
}

/** A 2xx answer that is not what the contract says: something other than a relay may be answering. */
export function invalid(
  ctx: FailureContext,
  req: Request,
  answer: Answer,
  problem: string,
  cause?: unknown,
): RelayError {
  const operation = `${req.method} ${req.path}`;
  return new RelayError({
    message: `${operation}: the relay answered ${answer.status} with ${problem}.`,
    type: 'invalid_response',
    operation,
    status: answer.status,
    hint: `Is ${ctx.baseUrl} a relay that speaks the v1 API? A proxy or a different service may be answering.`,
    cause,
  });
}
