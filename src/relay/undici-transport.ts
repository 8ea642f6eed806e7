/**
 * HTTP through a pool of keep-alive connections (undici's Agent): the transport of Prometheus
 * queries during a rollout (the relay's calls go through src/relay/socket-pool.ts). undici's
 * own failure codes are translated into the transport's (src/relay/transport.ts), so callers
 * read one set whichever transport they were given.
 */
import { Agent, type Dispatcher, EnvHttpProxyAgent } from 'undici';
import { formatDuration } from '../format.js';
import { type ProxySettings, proxyForDisplay, proxyPort, proxySettings } from './proxy.js';
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

/**
 * A failure of the proxy rather than of the relay: the proxy refused the connection or could not
 * be found, or refused to tunnel (its answer to CONNECT). Worded as the proxy's, and sent as
 * PROXY, a failure before anything reached the relay.
 */
function proxyFailure(error: unknown, proxy: ProxySettings | undefined): TransportError | undefined {
  if (proxy === undefined) return undefined;
  const e = error as { code?: unknown; port?: unknown; hostname?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : '';
  const tunnel = /^Proxy response \((\d+)\)/.exec(message);
  const urls = [proxy.httpProxy, proxy.httpsProxy].filter((u): u is string => u !== undefined);
  if (tunnel) {
    return new TransportError(
      'PROXY',
      `${proxyForDisplay(urls[0])} refused to open a tunnel to the relay (it answered ${tunnel[1]} to CONNECT)`,
      { responded: false, cause: error },
    );
  }
  for (const url of urls) {
    const host = new URL(url).hostname;
    const samePort = typeof e?.port === 'number' && e.port === proxyPort(url);
    if ((e?.code === 'ECONNREFUSED' && samePort) || (e?.code === 'ENOTFOUND' && e.hostname === host)) {
      const what =
        e.code === 'ECONNREFUSED' ? 'refused the connection' : 'has a host name that does not resolve';
      return new TransportError('PROXY', `${proxyForDisplay(url)} ${what} (${String(e.code)})`, {
        responded: false,
        cause: error,
      });
    }
  }
  return undefined;
}

/** undici's own errors become TransportErrors; the system's and TLS's pass through unchanged. */
function translate(error: unknown, responded: boolean, proxy?: ProxySettings): unknown {
  const viaProxy = proxyFailure(error, proxy);
  if (viaProxy) return viaProxy;
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

/**
 * undici's dispatcher for every HTTP client canary has (this transport, webhooks): through the
 * forwarding proxy HTTPS_PROXY / HTTP_PROXY / NO_PROXY name (src/relay/proxy.ts), else direct.
 */
export function proxiedAgent(options: Agent.Options, proxy: ProxySettings | undefined): Dispatcher {
  return proxy
    ? new EnvHttpProxyAgent({ ...options, ...proxy } as EnvHttpProxyAgent.Options)
    : new Agent(options);
}

export const undiciTransport: TransportFactory = (options: TransportOptions): Transport => {
  const agentOptions = {
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: 10_000,
    connections: options.connections,
    // The same bound as the socket transports': a relay's answers have small headers.
    maxHeaderSize: options.maxHeaderBytes,
    maxResponseSize: options.maxBodyBytes,
  };
  const proxy = proxySettings();
  const agent = proxiedAgent(agentOptions, proxy);
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
          // A copy: undici's proxy agent adds \`host\` to the object it is given, and the relay
          // client hands every bodiless call the same frozen one (src/relay/wire.ts).
          headers: { ...req.headers },
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
          throw new TransportError('DEADLINE', `no complete answer within ${formatDuration(req.timeoutMs)}`, {
            responded,
            cause: error,
          });
        }
        throw translate(error, responded, proxy);
      } finally {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      }
    },
    close: () => agent.close(),
  };
};
