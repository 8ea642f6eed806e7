/**
 * The one seam between canary's HTTP clients (the relay client, the Prometheus source) and the
 * wire. Three implementations:
 * - src/relay/socket-transport.ts: one connection, calls one after another, nothing to load but
 *   node:net. For `canary rollback`, which makes two calls and exits, and whose start-up is
 *   most of what an incident waits for (docs/benchmarks.md).
 * - src/relay/socket-pool.ts: a few of those at once, for the relay calls of `canary rollout`
 *   and `canary status`: a rollout's CPU per evaluation fell by a third without undici's pool,
 *   streams and WebAssembly parser (docs/benchmarks.md).
 * - src/relay/undici-transport.ts: a pool of keep-alive connections (undici), for Prometheus
 *   queries during a rollout.
 * All three answer the same way and fail with the same codes, so the client above decides
 * retries and words its messages without knowing which one it talks through; the relay
 * client's tests run against each.
 */

export interface TransportRequest {
  method: string;
  /** Path and query, already encoded, e.g. `/v1/routes/traffic/abc`. */
  path: string;
  /** May be frozen and shared by many calls: a transport never changes it. */
  headers: Record<string, string>;
  body?: string | undefined;
  /** Aborts the call: the connection it used is closed and the call rejects with the reason. */
  signal?: AbortSignal | undefined;
  /**
   * The most the whole call may take, connecting included; past it the call fails with DEADLINE.
   * A plain timer where an AbortSignal.timeout would do: the first AbortSignal costs a process
   * about a millisecond to set up, which `canary rollback` does not spend.
   */
  timeoutMs?: number | undefined;
}

export interface TransportResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its first value. */
  headers: Record<string, string>;
  /** The whole body, decoded as UTF-8. */
  text: string;
}

export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>;
  /** Lets calls in flight finish, then closes every connection. */
  close(): Promise<void>;
}

export interface TransportOptions {
  /** `http://host:port` or `https://host:port`. */
  origin: string;
  /** Longest wait for a connection (TCP and TLS handshakes). */
  connectTimeoutMs: number;
  /** Longest wait, once the request is sent, for the response's status line and headers. */
  headersTimeoutMs: number;
  /** Longest silence while the body arrives. */
  bodyTimeoutMs: number;
  /** Most connections open at once (the socket transport always uses one). */
  connections: number;
  /** A response whose headers are larger is refused (BAD_RESPONSE). */
  maxHeaderBytes: number;
  /** A response whose body is larger is refused (BODY_TOO_LARGE). */
  maxBodyBytes: number;
}

export type TransportFactory = (options: TransportOptions) => Transport;

/**
 * Failure codes of both transports, beside the operating system's own (ECONNREFUSED,
 * ECONNRESET, ENOTFOUND, …) and TLS's (CERT_HAS_EXPIRED, …), which pass through unchanged.
 */
export type TransportErrorCode =
  /** The call's own time limit (TransportRequest.timeoutMs) ran out. */
  | 'DEADLINE'
  | 'CONNECT_TIMEOUT'
  | 'HEADERS_TIMEOUT'
  | 'BODY_TIMEOUT'
  /** The connection closed before the whole response arrived. */
  | 'SOCKET_CLOSED'
  /** What came back is not an HTTP/1.1 response canary can read. */
  | 'BAD_RESPONSE'
  | 'BODY_TOO_LARGE'
  /** The forwarding proxy (HTTPS_PROXY/HTTP_PROXY) failed: nothing reached the relay. */
  | 'PROXY';

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  /** True once the response's status line and headers had arrived: the server acted on the call. */
  readonly responded: boolean;
  constructor(code: TransportErrorCode, message: string, options: { responded: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportError';
    this.code = code;
    this.responded = options.responded;
  }
}

/**
 * The connection failed after the response's headers had arrived: a broken answer rather than
 * an unreachable relay, since the relay acted on the call. Worded the same by both transports.
 */
export function brokenAnswer(detail: string, cause: unknown): TransportError {
  return new TransportError('SOCKET_CLOSED', `the connection failed while reading the answer (${detail})`, {
    responded: true,
    cause,
  });
}

/** Whether a failed call had got as far as a response (see TransportError.responded). */
export function respondedBeforeFailing(error: unknown): boolean {
  return error instanceof TransportError && error.responded;
}

export const DEFAULT_LIMITS = {
  /** Node's own default; a relay's headers are a few hundred bytes. */
  maxHeaderBytes: 16 * 1024,
  /** A relay's answers are a few kilobytes; anything near this is not a relay answering. */
  maxBodyBytes: 4 * 1024 * 1024,
};
