/**
 * The relay client: one `RelayPort` over HTTP, as /shared/relay-api.md describes it. Built of
 * named pieces: the wire (src/relay/wire.ts: headers, transport, retries inside each call's
 * deadline, answers read against their schemas), the errors a person can act on
 * (src/relay/failures.ts), and the calls by subject (version-calls.ts, route-calls.ts,
 * metrics-calls.ts).
 */
import { type Clock, systemClock } from '../clock.js';
import type { RelayPort } from '../domain/relay.js';
import { VERSION } from '../version.js';
import { scrubber } from './failures.js';
import { metricsCalls } from './metrics-calls.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { routeCalls } from './route-calls.js';
import { DEFAULT_LIMITS, type TransportFactory } from './transport.js';
import { parseBaseUrl } from './url.js';
import { versionCalls } from './version-calls.js';
import { createWire } from './wire.js';

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

export function createRelayClient(options: RelayClientOptions): RelayClient {
  const { baseUrl } = parseBaseUrl(options.baseUrl, {
    allowInsecureHttp: options.allowInsecureHttp ?? false,
  });
  const base = new URL(baseUrl);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const transport = options.transport({
    origin: base.origin,
    connectTimeoutMs: timeouts.connectMs,
    headersTimeoutMs: timeouts.headersMs,
    bodyTimeoutMs: timeouts.bodyMs,
    connections: options.connections ?? 4,
    ...DEFAULT_LIMITS,
  });
  const wire = createWire({
    transport,
    basePath: base.pathname.replace(/\/+$/, ''),
    host: base.host,
    apiKey: options.apiKey,
    userAgent: options.userAgent ?? `canary/${VERSION}`,
    clock: options.clock ?? systemClock,
    policy: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    random: options.random ?? Math.random,
    failures: {
      baseUrl,
      protocol: base.protocol,
      keySource: options.keySource,
      timeouts,
      ...scrubber(options.apiKey),
    },
  });
  return {
    name: 'relay',
    baseUrl,
    ...versionCalls(wire),
    ...routeCalls(wire),
    ...metricsCalls(wire),
    close() {
      return transport.close();
    },
  };
}
