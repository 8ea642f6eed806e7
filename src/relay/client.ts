import { type Clock, systemClock } from '../clock.js';
import { CanaryError, ExitCode, RelayError } from '../errors.js';
import { VERSION } from '../version.js';
import { seconds, sendWithRetries } from './attempts.js';
import { describeDifferences, diffVersion, sameRules } from './compare.js';
import { proxyForDisplay, proxySettings } from './proxy.js';
import { DEFAULT_RETRY_POLICY, isNotSentCode, type RetryMethod, type RetryPolicy } from './retry.js';
import {
  type AnswerSchema,
  describeIssues,
  errorBodySchema,
  healthSchema,
  metricsSchema,
  routeSchema,
  routeUpdateSchema,
  storedVersionSchema,
  toRouteUpdate,
  toVersionMetrics,
  validate,
} from './schemas.js';
import { DEFAULT_LIMITS, type TransportFactory } from './transport.js';
import type {
  CallOptions,
  CreateRouteRequest,
  MetricsQuery,
  RelayPort,
  Route,
  RouteUpdate,
  StoredVersion,
  UpdateRouteRequest,
  VersionMetrics,
  VersionSpec,
} from './types.js';
import { lacksV1, parseBaseUrl } from './url.js';

export { curlForUpdate } from './curl.js';

export interface RelayClientOptions {
  baseUrl: string;
  /**
   * How calls reach the relay: undiciTransport (src/relay/undici-transport.ts) for long-lived
   * and concurrent use, socketTransport (src/relay/socket-transport.ts) for `canary rollback`.
   */
  transport: TransportFactory;
  apiKey: string;
  /** Where the key came from, e.g. `env RELAY_API_KEY`; named in 401 messages instead of the key. */
  keySource: string;
  clock?: Clock;
  allowInsecureHttp?: boolean;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  retry?: Partial<RetryPolicy>;
  /** Jitter source in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
  userAgent?: string;
  /**
   * Most connections open to the relay at once (default 4). A caller whose calls run strictly one
   * after another should say 1: undici's pool opens a new connection for a call made while the
   * previous one is still being released, a TCP handshake and a parser more per call. The socket
   * transport always uses one.
   */
  connections?: number;
}

export interface RelayClient extends RelayPort {
  readonly baseUrl: string;
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUTS = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };

const REDACTED = '[REDACTED]';

interface Request {
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
interface Answer {
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

function isTlsCode(code: string): boolean {
  return /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(code);
}

/** Failures that another attempt a moment later would meet again (see RelayError.unreachable). */
function isLastingNetworkCode(code: string): boolean {
  return isTlsCode(code) || code === 'ENOTFOUND' || code === 'BAD_RESPONSE' || code === 'BODY_TOO_LARGE';
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
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

export function createRelayClient(options: RelayClientOptions): RelayClient {
  const { baseUrl } = parseBaseUrl(options.baseUrl, {
    allowInsecureHttp: options.allowInsecureHttp ?? false,
  });
  const base = new URL(baseUrl);
  const origin = base.origin;
  const basePath = base.pathname.replace(/\/+$/, '');
  const host = base.host;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const apiKey = options.apiKey;
  const keySource = options.keySource;
  const userAgent = options.userAgent ?? `canary/${VERSION}`;

  const transport = options.transport({
    origin,
    connectTimeoutMs: timeouts.connectMs,
    headersTimeoutMs: timeouts.headersMs,
    bodyTimeoutMs: timeouts.bodyMs,
    connections: options.connections ?? 4,
    ...DEFAULT_LIMITS,
  });

  /** Belt and braces: a relay (or a proxy) echoing the Authorization header must not leak it. */
  const scrub = (text: string): string => (apiKey.length >= 4 ? text.split(apiKey).join(REDACTED) : text);
  const scrubDeep = (value: unknown): unknown => {
    if (typeof value === 'string') return scrub(value);
    if (Array.isArray(value)) return value.map(scrubDeep);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubDeep(v)]));
    }
    return value;
  };

  const v1Hint = lacksV1(baseUrl)
    ? `The base URL ${baseUrl} does not end in /v1; the relay API normally lives under it: try ${baseUrl}/v1.`
    : undefined;

  function describeNetwork(
    error: unknown,
    code: string | undefined,
    responded: boolean,
  ): { type: string; reason: string } {
    const raw = error instanceof Error ? scrub(error.message) : scrub(String(error));
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
          reason: `could not connect within ${seconds(timeouts.connectMs)} (${code})`,
        };
      case 'HEADERS_TIMEOUT':
        return { type: 'timeout', reason: `no response within ${seconds(timeouts.headersMs)} (${code})` };
      case 'BODY_TIMEOUT':
        return {
          type: 'timeout',
          reason: `the response body stalled for ${seconds(timeouts.bodyMs)} (${code})`,
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

  function attemptsNote(attempts: number, stopNote: string | undefined): string {
    if (stopNote !== undefined)
      return ` (after ${attempts} attempt${attempts === 1 ? '' : 's'}; ${stopNote})`;
    return attempts > 1 ? ` (after ${attempts} attempts)` : '';
  }

  async function send(
    req: Request,
    call: CallOptions | undefined,
    accept?: (text: string) => boolean,
  ): Promise<Answer> {
    const operation = `${req.method} ${req.path}`;
    const signal = call?.signal;
    const deadlineMs = call?.deadlineMs ?? policy.deadlineMs;
    const query = req.query === undefined ? '' : `?${new URLSearchParams(req.query).toString()}`;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent };
    if (req.auth !== false) headers.authorization = `Bearer ${apiKey}`;
    // The precondition (an addition to the contract): a relay that does not support it ignores it.
    if (req.method === 'PATCH' && call?.ifRevision !== undefined)
      headers['if-match'] = `"${call.ifRevision}"`;
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }

    const last = await sendWithRetries({
      transport,
      method: req.method,
      path: `${basePath}${req.path}${query}`,
      headers,
      body: payload,
      signal,
      deadlineMs,
      clock,
      policy,
      random,
      maxAttempts: call?.maxAttempts,
      accept: accept === undefined ? undefined : (response) => accept(response.text),
    });
    const { attempts, stopNote } = last;
    if (last.kind === 'response') {
      const { status, text } = last.response;
      const location = last.response.headers.location;
      return { status, text, attempts, retriedBlind: last.retriedBlind, stopNote, location };
    }
    const { type, reason } = last.deadline
      ? {
          type: 'timeout',
          reason: `no complete answer within the ${seconds(deadlineMs)} deadline of this call`,
        }
      : describeNetwork(last.error, last.code, last.responded);
    const what =
      type === 'timeout'
        ? 'no answer in time from'
        : type === 'invalid_response'
          ? 'could not read the answer of'
          : 'could not reach';
    throw new RelayError({
      message: `${operation}: ${what} the relay at ${host}: ${reason}${attemptsNote(attempts, stopNote)}.`,
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

  /** Turns a final non-2xx answer into the error a person can act on. */
  function failure(req: Request, answer: Answer): RelayError {
    const operation = `${req.method} ${req.path}`;
    const { status } = answer;
    let type = defaultType(status);
    let relayMessage: string | undefined;
    let field: string | undefined;
    let existing: unknown;
    try {
      const parsed = validate(errorBodySchema(), JSON.parse(answer.text));
      if (parsed.success) {
        type = parsed.output.error.type ?? type;
        relayMessage = parsed.output.error.message;
        field = parsed.output.error.field;
        existing = parsed.output.error.existing;
      }
    } catch {
      // A proxy's HTML error page, say; the status still tells the story.
    }
    if (relayMessage === undefined && answer.text.trim() !== '') relayMessage = snippet(answer.text);
    type = scrub(type);
    field = field === undefined ? undefined : scrub(field);
    const said = relayMessage === undefined ? '' : `: ${scrub(relayMessage)}`;
    const tail = attemptsNote(answer.attempts, answer.stopNote);
    const common = { type, operation, status, field, existing: scrubDeep(existing) };

    if (status === 401 || status === 403) {
      return new RelayError({
        ...common,
        message: `${operation}: the relay rejected the API key from ${keySource} (${status} ${type}${said}).`,
        hint: `Check the key in ${keySource}: it must be a valid key for ${baseUrl}.`,
        exitCode: ExitCode.BadInput,
      });
    }
    if (status === 404) {
      return new RelayError({
        ...common,
        message: `${operation}: ${req.subject} was not found on the relay (404 ${type}${said}).`,
        hint: v1Hint ?? `Check the name; the relay at ${baseUrl} does not know ${req.subject}.`,
      });
    }
    if (status === 409) {
      return new RelayError({
        ...common,
        message: `${operation}: ${req.subject} already exists on the relay (409 ${type}${said}).`,
      });
    }
    if (status === 422 || status === 400) {
      const what = field === undefined ? 'the request' : `field ${field}`;
      return new RelayError({
        ...common,
        message: `${operation}: the relay refused ${what}${said} (${status} ${type}).`,
        hint: field === undefined ? undefined : `Fix ${field} in the plan or flags and run again.`,
      });
    }
    if (status === 412) {
      return new RelayError({
        ...common,
        message: `${operation}: ${req.subject} changed since the revision canary last read (412 ${type}${said}).`,
      });
    }
    if (status >= 300 && status < 400) {
      const where = answer.location === undefined ? '' : ` to ${scrub(answer.location)}`;
      return new RelayError({
        ...common,
        message: `${operation}: the relay answered ${status}, a redirect${where}; canary does not follow redirects (it would send the key elsewhere).`,
        hint: `Set the relay URL to where the API really is${where ? ` (the redirect points${where})` : ''}.`,
        unreachable: true,
      });
    }
    if (status === 429) {
      return new RelayError({
        ...common,
        message: `${operation}: the relay is rate-limiting canary (429 ${type}${said})${tail}.`,
        hint: 'Wait a moment and run again, or lower the polling rate (analysis.interval).',
      });
    }
    if (status === 407) {
      return new RelayError({
        ...common,
        message: `${operation}: the proxy asked for credentials (407 Proxy Authentication Required${said}).`,
        hint: 'Put them in the proxy URL: HTTPS_PROXY=http://user:password@proxy:port (and HTTP_PROXY for http relays).',
        notSent: true,
      });
    }
    if (status >= 500) {
      return new RelayError({
        ...common,
        message: `${operation}: the relay failed with ${status} ${type}${said}${tail}${viaProxy(status)}.`,
        hint:
          req.method === 'POST'
            ? 'POST calls are not retried after an answer; check the relay and run again (re-running is safe).'
            : 'The relay is having trouble; check its status and run again.',
      });
    }
    return new RelayError({
      ...common,
      message: `${operation}: unexpected answer ${status} ${type}${said}.`,
    });
  }

  /** A 502 or 504 through a proxy may be the proxy's own answer: say so. */
  function viaProxy(status: number): string {
    if (status !== 502 && status !== 504) return '';
    const proxy = proxySettings();
    if (proxy === undefined) return '';
    const url = base.protocol === 'https:' ? (proxy.httpsProxy ?? proxy.httpProxy) : proxy.httpProxy;
    return url === undefined
      ? ''
      : ` (through ${proxyForDisplay(url)}: the proxy may not have reached the relay)`;
  }

  function invalid(req: Request, answer: Answer, problem: string, cause?: unknown): RelayError {
    const operation = `${req.method} ${req.path}`;
    return new RelayError({
      message: `${operation}: the relay answered ${answer.status} with ${problem}.`,
      type: 'invalid_response',
      operation,
      status: answer.status,
      hint: `Is ${baseUrl} a relay that speaks the v1 API? A proxy or a different service may be answering.`,
      cause,
    });
  }

  function parseBody<T>(req: Request, answer: Answer, schema: AnswerSchema<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch (error) {
      const what =
        answer.text.trim() === ''
          ? 'an empty body'
          : `a body that is not JSON ("${scrub(snippet(answer.text))}")`;
      throw invalid(req, answer, what, error);
    }
    const parsed = validate(schema, json);
    if (!parsed.success)
      throw invalid(req, answer, `an unexpected shape: ${scrub(describeIssues(parsed.issues))}`);
    return parsed.output;
  }

  /**
   * Sends, then builds the answer's schema while the request is on the wire: send() has put the
   * request on its way (or is connecting) when it returns, so the schema costs no wall time.
   */
  async function call<T>(req: Request, schemaOf: () => AnswerSchema<T>, opts?: CallOptions): Promise<T> {
    let schema: AnswerSchema<T> | undefined;
    /** The body accept() found good: an accepted answer is the one returned, read only once. */
    let accepted: { text: string; output: T } | undefined;
    // A GET whose 2xx body is not JSON of the expected shape (truncated by a proxy, a relay
    // restarting) is retried like a 5xx within the call's deadline.
    const accept =
      req.method === 'GET'
        ? (text: string) => {
            try {
              schema ??= schemaOf();
              const parsed = validate(schema, JSON.parse(text));
              if (parsed.success) accepted = { text, output: parsed.output };
              return parsed.success;
            } catch {
              return false;
            }
          }
        : undefined;
    const sent = send(req, opts, accept);
    schema ??= schemaOf();
    const answer = await sent;
    if (answer.status < 200 || answer.status >= 300) throw failure(req, answer);
    if (accepted !== undefined && accepted.text === answer.text) return accepted.output;
    return parseBody(req, answer, schema);
  }

  const client: RelayClient = {
    name: 'relay',
    baseUrl,

    async health(opts) {
      const req: Request = { method: 'GET', path: '/health', auth: false, subject: 'the health endpoint' };
      const answer = await send(req, opts);
      if (answer.status < 200 || answer.status >= 300) throw failure(req, answer);
      const body = parseBody(req, answer, healthSchema());
      if (body.status !== 'ok') throw invalid(req, answer, `status "${scrub(body.status)}" instead of "ok"`);
    },

    async registerVersion(spec: VersionSpec, opts?: CallOptions) {
      const req: Request = {
        method: 'POST',
        path: '/models/versions',
        body: spec,
        subject: 'the versions endpoint',
      };
      const answer = await send(req, opts);
      if (answer.status >= 200 && answer.status < 300) {
        return { version: parseBody(req, answer, storedVersionSchema()), created: true };
      }
      if (answer.status !== 409) throw failure(req, answer);

      const conflict = failure(req, answer);
      const parsed = validate(storedVersionSchema(), conflict.existing);
      // `existing` is what makes re-running a plan safe; a relay without it is asked directly.
      const existing: StoredVersion = parsed.success
        ? parsed.output
        : await client.getVersion(spec.version_tag, opts);
      const diffs = diffVersion(spec, existing);
      if (diffs.length === 0) return { version: existing, created: false };
      throw new CanaryError(
        `version ${spec.version_tag} is already registered with a different configuration: ${describeDifferences(diffs)}. Versions are immutable: use a new version_tag.`,
        ExitCode.BadInput,
        {
          hint: `Give the changed configuration a new version_tag, or make the plan match what the relay stores for ${spec.version_tag}.`,
        },
      );
    },

    getVersion(tag: string, opts?: CallOptions): Promise<StoredVersion> {
      return call(
        {
          method: 'GET',
          path: `/models/versions/${encodeURIComponent(tag)}`,
          subject: `version ${tag}`,
        },
        storedVersionSchema,
        opts,
      );
    },

    async createRoute(request: CreateRouteRequest, opts?: CallOptions): Promise<Route> {
      const req: Request = {
        method: 'POST',
        path: '/routes/traffic',
        body: request,
        subject: `route ${request.model_alias}`,
      };
      const answer = await send(req, opts);
      if (answer.status >= 200 && answer.status < 300) return parseBody(req, answer, routeSchema());
      if (answer.status === 409 && answer.retriedBlind) {
        // An earlier attempt may have created the route before its answer was lost: if the
        // route now holds exactly our rules, that attempt is the one the relay remembers.
        const route = await client.getRoute(request.model_alias, opts);
        if (sameRules(route.route_rules, request.route_rules)) return route;
      }
      throw failure(req, answer);
    },

    getRoute(routeId: string, opts?: CallOptions): Promise<Route> {
      return call(
        {
          method: 'GET',
          path: `/routes/traffic/${encodeURIComponent(routeId)}`,
          subject: `route ${routeId}`,
        },
        routeSchema,
        opts,
      );
    },

    async updateRoute(request: UpdateRouteRequest, opts?: CallOptions): Promise<RouteUpdate> {
      const raw = await call(
        {
          method: 'PATCH',
          path: '/routes/traffic',
          body: { route_id: request.route_id, route_rules: request.route_rules },
          subject: `route ${request.route_id}`,
        },
        routeUpdateSchema,
        opts,
      );
      return toRouteUpdate(raw, request.route_id);
    },

    async readMetrics(query: MetricsQuery, opts?: CallOptions): Promise<VersionMetrics> {
      const start = new Date(query.start).toISOString();
      const end = new Date(query.end).toISOString();
      const raw = await call(
        {
          method: 'GET',
          path: '/metrics/versions',
          query: { version_tag: query.versionTag, start_time: start, end_time: end },
          subject: `metrics for version ${query.versionTag}`,
        },
        metricsSchema,
        opts,
      );
      return toVersionMetrics(raw, { versionTag: query.versionTag, start, end });
    },

    close() {
      return transport.close();
    },
  };
  return client;
}
