/**
 * HTTP through a pool of keep-alive connections (undici's Agent): the transport of Prometheus
 * queries during a rollout (the relay's calls go through src/relay/socket-pool.ts). undici's
 * own failure codes are translated into the transport's (src/relay/transport.ts), so callers
 * read one set whichever transport they were given.
 */
import { Agent } from 'undici';
import {
  brokenAnswer,
  type Transport,
  TransportError,
  type TransportErrorCode,
  type TransportFactory,
  type TransportOptions,
} from './transport.js';

const UNDICI_CODES: Record<string, TransportErrorCode> = {
  UND_ERR_CONNECT_TIMEOUT: 'CONNECT_TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'HEADERS_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'BODY_TIMEOUT',
  UND_ERR_SOCKET: 'SOCKET_CLOSED',
  UND_ERR_CLOSED: 'SOCKET_CLOSED',
  UND_ERR_HEADERS_OVERFLOW: 'BAD_RESPONSE',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'BAD_RESPONSE',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'BODY_TOO_LARGE',
};

function undiciCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

/** undici's own errors become TransportErrors; the system's and TLS's pass through unchanged. */
function translate(error: unknown, responded: boolean): unknown {
  const code = undiciCode(error);
  if (code === undefined) return error;
  const mapped = UNDICI_CODES[code] ?? (code.startsWith('HPE_') ? 'BAD_RESPONSE' : undefined);
  if (mapped === undefined) {
    return responded ? brokenAnswer(code, error) : error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TransportError(mapped, `${message} (${code})`, { responded, cause: error });
}

/** The reason a call's own deadline aborts it with (never seen by callers: it becomes DEADLINE). */
const DEADLINE_PASSED = Object.freeze({ reason: 'deadline' });

export const undiciTransport: TransportFactory = (options: TransportOptions): Transport => {
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: 10_000,
    connections: options.connections,
    // Named so that undici need not load node:http to look up Node's default (scripts/build.mjs).
    maxHeaderSize: options.maxHeaderBytes,
    maxResponseSize: options.maxBodyBytes,
  });
  return {
    async request(req) {
      let responded = false;
      // One controller per call, aborted by the caller's signal or the deadline. Not
      // AbortSignal.timeout and AbortSignal.any: each call would leave a timer alive until its
      // deadline passed and tie a dependent signal to the caller's, which a rollout keeps for
      // hours; a rollout's profile showed them, with the DOMException each abort() makes, as a
      // tenth of its CPU per evaluation (docs/benchmarks.md).
      const controller =
        req.timeoutMs === undefined && req.signal === undefined ? undefined : new AbortController();
      let timedOut = false;
      const timer =
        req.timeoutMs === undefined || controller === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              controller.abort(DEADLINE_PASSED);
            }, req.timeoutMs);
      const onAbort = () => controller?.abort(req.signal?.reason);
      if (req.signal?.aborted) onAbort();
      else req.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const res = await agent.request({
          origin: options.origin,
          path: req.path,
          method: req.method as 'GET',
          headers: req.headers,
          body: req.body,
          signal: controller?.signal,
        });
        responded = true;
        const text = await res.body.text();
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? (value[0] ?? '') : value;
        }
        return { status: res.statusCode, headers, text };
      } catch (error) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (timedOut) {
          throw new TransportError('DEADLINE', `no complete answer within ${req.timeoutMs} ms`, {
            responded,
            cause: error,
          });
        }
        throw translate(error, responded);
      } finally {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      }
    },
    close: () => agent.close(),
  };
};
