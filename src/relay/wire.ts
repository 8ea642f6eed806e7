/**
 * How one relay call travels: headers and the key, the transport, retries with backoff inside
 * the call's deadline (src/relay/attempts.ts), and the answer read with its reader. A call
 * that still fails ends in a `RelayError` that says why (src/relay/failures.ts).
 */

import type { Clock } from '../clock.js';
import type { CallOptions } from '../domain/relay.js';
import { RelayError } from '../errors.js';
import { formatDuration } from '../format.js';
import { type LastAttempt, sendWithRetries } from './attempts.js';
import {
  type Answer,
  attemptsNote,
  describeNetwork,
  type FailureContext,
  failure,
  invalid,
  isLastingNetworkCode,
  type Request,
  snippet,
} from './failures.js';
import { isNotSentCode, type RetryPolicy } from './retry.js';
import { type AnswerReader, checkAnswer, describeProblems } from './schemas.js';
import type { Transport } from './transport.js';

export interface WireOptions {
  transport: Transport;
  /** The base URL's path, without a trailing slash: every request path goes under it. */
  basePath: string;
  host: string;
  apiKey: string;
  userAgent: string;
  clock: Clock;
  policy: RetryPolicy;
  random: () => number;
  failures: FailureContext;
}

/** The calls' shared road; the route, version and metrics calls are built on it. */
export interface Wire {
  readonly failures: FailureContext;
  /** Sends with retries; a final answer of any status comes back, no answer at all throws. */
  send(req: Request, call: CallOptions | undefined, accept?: (text: string) => boolean): Promise<Answer>;
  /** Sends and reads a 2xx answer of the reader's shape; anything else throws. */
  call<T>(req: Request, read: AnswerReader<T>, opts?: CallOptions): Promise<T>;
  /** Reads a 2xx answer's body with its reader (src/relay/schemas.ts). */
  parseBody<T>(req: Request, answer: Answer, read: AnswerReader<T>): T;
  failure(req: Request, answer: Answer): RelayError;
  invalid(req: Request, answer: Answer, problem: string, cause?: unknown): RelayError;
}

/** A `Wire` over a transport; src/relay/client.ts makes one per client. */
export function createWire(options: WireOptions): Wire {
  return new TransportWire(options);
}

class TransportWire implements Wire {
  readonly failures: FailureContext;
  /** The headers of every call without a body or a precondition, made once (see requestHeaders). */
  private readonly plainHeaders: Readonly<Record<string, string>>;

  constructor(private readonly options: WireOptions) {
    this.failures = options.failures;
    this.plainHeaders = Object.freeze(baseHeaders(options, true));
  }

  async send(
    req: Request,
    call: CallOptions | undefined,
    accept?: (text: string) => boolean,
  ): Promise<Answer> {
    const { options } = this;
    const deadlineMs = call?.deadlineMs ?? options.policy.deadlineMs;
    const query = req.query === undefined ? '' : `?${formQuery(req.query)}`;
    const { headers, payload } = requestHeaders(options, req, call, this.plainHeaders);
    const last = await sendWithRetries({
      transport: options.transport,
      method: req.method,
      path: `${options.basePath}${req.path}${query}`,
      headers,
      body: payload,
      signal: call?.signal,
      deadlineMs,
      clock: options.clock,
      policy: options.policy,
      random: options.random,
      maxAttempts: call?.maxAttempts,
      accept: accept === undefined ? undefined : (response) => accept(response.text),
    });
    const { attempts, stopNote } = last;
    if (last.kind === 'response') {
      const { status, text } = last.response;
      const location = last.response.headers.location;
      return { status, text, attempts, retriedBlind: last.retriedBlind, stopNote, location };
    }
    throw unanswered(options, req, last, deadlineMs);
  }

  parseBody<T>(req: Request, answer: Answer, read: AnswerReader<T>): T {
    const { failures } = this;
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch (error) {
      const what =
        answer.text.trim() === ''
          ? 'an empty body'
          : `a body that is not JSON ("${failures.scrub(snippet(answer.text))}")`;
      throw invalid(failures, req, answer, what, error);
    }
    const checked = checkAnswer(read, json);
    if (!checked.ok) {
      throw invalid(
        failures,
        req,
        answer,
        `an unexpected shape: ${failures.scrub(describeProblems(checked.problems))}`,
      );
    }
    return checked.value;
  }

  async call<T>(req: Request, read: AnswerReader<T>, opts?: CallOptions): Promise<T> {
    /** The body accept() found good: an accepted answer is the one returned, read only once. */
    let accepted: { text: string; output: T } | undefined;
    // A GET whose 2xx body is not JSON of the expected shape (truncated by a proxy, a relay
    // restarting) is retried like a 5xx within the call's deadline.
    const accept =
      req.method === 'GET'
        ? (text: string) => {
            try {
              const checked = checkAnswer(read, JSON.parse(text));
              if (checked.ok) accepted = { text, output: checked.value };
              return checked.ok;
            } catch {
              return false;
            }
          }
        : undefined;
    const answer = await this.send(req, opts, accept);
    if (answer.status < 200 || answer.status >= 300) throw this.failure(req, answer);
    if (accepted !== undefined && accepted.text === answer.text) return accepted.output;
    return this.parseBody(req, answer, read);
  }

  failure(req: Request, answer: Answer): RelayError {
    return failure(this.failures, req, answer);
  }

  invalid(req: Request, answer: Answer, problem: string, cause?: unknown): RelayError {
    return invalid(this.failures, req, answer, problem, cause);
  }
}

function baseHeaders(options: WireOptions, auth: boolean): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': options.userAgent };
  if (auth) headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}

/**
 * A call's headers. Most calls (every read of an hours-long rollout) have no body and no
 * precondition: they share one frozen object, which the socket transport checks and serialises
 * once (src/relay/socket-transport.ts).
 */
function requestHeaders(
  options: WireOptions,
  req: Request,
  call: CallOptions | undefined,
  plain: Readonly<Record<string, string>>,
): { headers: Record<string, string>; payload: string | undefined } {
  const ifMatch = req.method === 'PATCH' && call?.ifRevision !== undefined;
  if (req.auth !== false && !ifMatch && req.body === undefined) return { headers: plain, payload: undefined };
  const headers = baseHeaders(options, req.auth !== false);
  // The precondition (an addition to the contract): a relay that does not support it ignores it.
  if (ifMatch) headers['if-match'] = `"${call?.ifRevision}"`;
  if (req.body === undefined) return { headers, payload: undefined };
  headers['content-type'] = 'application/json';
  return { headers, payload: JSON.stringify(req.body) };
}

const FORM_EXTRA = /[!'()~]|%20/g;
const formExtra = (m: string) => (m === '%20' ? '+' : `%${m.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * A query string exactly as `new URLSearchParams(query).toString()` writes it (form encoding:
 * a space is `+`, and `!'()~` are escaped too), without URLSearchParams' set-up, which cost
 * each metrics read more than the rest of its request. A lone surrogate, which
 * encodeURIComponent refuses, goes to URLSearchParams itself.
 */
export function formQuery(query: Record<string, string>): string {
  try {
    let out = '';
    for (const [key, value] of Object.entries(query)) {
      out += `${out === '' ? '' : '&'}${encodeURIComponent(key).replace(FORM_EXTRA, formExtra)}=${encodeURIComponent(value).replace(FORM_EXTRA, formExtra)}`;
    }
    return out;
  } catch {
    return new URLSearchParams(query).toString();
  }
}

type Unanswered = Extract<LastAttempt, { kind: 'network' }>;

/** The error for a call that got no answer: a network failure, or its deadline ran out. */
function unanswered(options: WireOptions, req: Request, last: Unanswered, deadlineMs: number): RelayError {
  const operation = `${req.method} ${req.path}`;
  const { baseUrl } = options.failures;
  const { type, reason } = last.deadline
    ? {
        type: 'timeout',
        reason: `no complete answer within the ${formatDuration(deadlineMs)} deadline of this call${
          last.before
            ? `; the attempt before failed: ${describeNetwork(options.failures, last.before.error, last.before.code, last.before.responded).reason}`
            : ''
        }`,
      }
    : describeNetwork(options.failures, last.error, last.code, last.responded);
  const what =
    type === 'timeout'
      ? 'no answer in time from'
      : type === 'invalid_response'
        ? 'could not read the answer of'
        : 'could not reach';
  return new RelayError({
    message: `${operation}: ${what} the relay at ${options.host}: ${reason}${attemptsNote(last.attempts, last.stopNote)}.`,
    type,
    operation,
    unreachable: !last.deadline && last.code !== undefined && isLastingNetworkCode(last.code),
    notSent: !last.deadline && !last.responded && isNotSentCode(last.code),
    hint:
      type === 'timeout'
        ? 'The relay may be overloaded or hanging; check its status, or raise the timeout.'
        : type === 'invalid_response'
          ? `Is ${baseUrl} a relay that speaks the v1 API? A proxy or a different service may be answering.`
          : `Check that ${baseUrl} is the right URL and that the relay is reachable from here.`,
    cause: last.error,
  });
}
