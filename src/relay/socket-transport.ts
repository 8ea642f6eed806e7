/**
 * HTTP/1.1 over one node:net (or node:tls) connection, one call at a time: the transport of
 * `canary rollback`. An incident's rollback makes two calls and exits, and most of its time
 * is start-up: this loads nothing but node:net and a small response reader, where undici
 * compiles a WebAssembly parser and node:http loads its whole client and server (together about
 * 25 ms of a rollback here, docs/benchmarks.md).
 *
 * What it does not do, because a short-lived command does not need it: pooling (calls queue for
 * the one connection), pipelining, HTTP/2, proxies (undici's Agent honours none either).
 * Everything a call needs is here: connect, headers and body timeouts, aborting through the
 * call's signal, keep-alive reuse with a fresh connection whenever the last one cannot be
 * reused, size limits, and the same failure codes as the undici transport.
 */
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { watchAbort } from '../abort-watch.js';
import { formatDuration } from '../format.js';
import { type ParsedResponse, ResponseReader } from './http1-response.js';
import {
  brokenAnswer,
  type Transport,
  TransportError,
  type TransportFactory,
  type TransportOptions,
  type TransportRequest,
  type TransportResponse,
} from './transport.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: a CR, LF or NUL would split the request
const UNSAFE = /[\r\n\u0000]/;

function checkSafe(what: string, value: string): void {
  // The client builds every header from checked input (the key is checked for control
  // characters when it is read); this guards against a request that would smuggle a second one.
  if (UNSAFE.test(value)) throw new Error(`socket transport: ${what} contains CR, LF or NUL`);
}

/**
 * Header lines already checked, by the headers object they came from: the relay client passes
 * the same frozen object for every bodiless call, so its lines are checked and joined once, not
 * on every call of an hours-long rollout (docs/benchmarks.md, "A rollout's CPU per evaluation").
 */
const checkedHeaders = new WeakMap<Record<string, string>, string>();

function headerLines(headers: Record<string, string>): string {
  const known = checkedHeaders.get(headers);
  if (known !== undefined) return known;
  let lines = '';
  for (const [name, value] of Object.entries(headers)) {
    checkSafe(`header ${name}`, name);
    checkSafe(`header ${name}`, value);
    lines += `${name}: ${value}\r\n`;
  }
  // Only a frozen object is remembered: one that can change could carry new lines next time.
  if (Object.isFrozen(headers)) checkedHeaders.set(headers, lines);
  return lines;
}

/** Serialises a request; the body, if any, goes in the same write. */
function requestBytes(req: TransportRequest, host: string): string {
  checkSafe('the path', req.path);
  let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${host}\r\n${headerLines(req.headers)}`;
  if (req.body !== undefined) head += `content-length: ${Buffer.byteLength(req.body)}\r\n`;
  return `${head}\r\n${req.body ?? ''}`;
}

/**
 * Milliseconds on a monotonic clock. Not performance.now(): the first use of `performance` loads
 * Node's perf_hooks, about 1.1 ms of a rollback; process.hrtime is already there.
 */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

type Limit = 'DEADLINE' | 'CONNECT_TIMEOUT' | 'HEADERS_TIMEOUT' | 'BODY_TIMEOUT';
/** In this order when two pass at the same moment. */
const LIMITS: readonly Limit[] = ['DEADLINE', 'CONNECT_TIMEOUT', 'HEADERS_TIMEOUT', 'BODY_TIMEOUT'];

/** A watchdog has set a timer in this process: the first one's set-up is paid (see Watchdog). */
let timersReady = false;

/**
 * All of one call's time limits on one timer. Each limit is a moment (monotonicMs()); the
 * timer is set for the earliest, and when it fires, the first limit passed ends the call or the
 * timer is set for the next. The process's first timer is set on the event loop's next turn,
 * by which time the request has left: setting up a process's first timer costs about 1.5 ms,
 * which then overlaps with the relay's answer instead of delaying the request. No limit can
 * pass sooner anyway, since timers only fire on a turn of the loop. Later calls set theirs at
 * once, which spares a rollout a turn of the loop per call.
 */
class Watchdog {
  /** When each limit passes; Infinity when it is not set. Plain fields: a Map per call cost more. */
  private readonly due: Record<Limit, number> = {
    DEADLINE: Number.POSITIVE_INFINITY,
    CONNECT_TIMEOUT: Number.POSITIVE_INFINITY,
    HEADERS_TIMEOUT: Number.POSITIVE_INFINITY,
    BODY_TIMEOUT: Number.POSITIVE_INFINITY,
  };
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private waiting: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly expire: (limit: Limit) => void) {
    if (timersReady) return;
    this.waiting = setImmediate(() => {
      this.waiting = undefined;
      this.arm();
    });
  }

  set(limit: Limit, at: number): void {
    this.due[limit] = at;
    if (this.waiting === undefined && at < this.armedFor) this.arm();
  }

  clear(limit: Limit): void {
    // The timer stays: if it fires for this limit, it finds it gone and moves on to the next.
    this.due[limit] = Number.POSITIVE_INFINITY;
  }

  stop(): void {
    this.stopped = true;
    if (this.waiting !== undefined) clearImmediate(this.waiting);
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private arm(): void {
    if (this.stopped) return;
    const { due } = this;
    const next = Math.min(due.DEADLINE, due.CONNECT_TIMEOUT, due.HEADERS_TIMEOUT, due.BODY_TIMEOUT);
    if (next === Number.POSITIVE_INFINITY || (this.timer !== undefined && next >= this.armedFor)) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - monotonicMs()));
    // A pending call keeps the process alive through its socket, not through its timer.
    this.timer.unref();
    timersReady = true;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    // Timers count whole milliseconds; a limit due within one has passed.
    const now = monotonicMs() + 1;
    let passed: Limit | undefined;
    for (const limit of LIMITS) {
      const at = this.due[limit];
      if (at <= now && (passed === undefined || at < this.due[passed])) passed = limit;
    }
    if (passed !== undefined) {
      this.stop();
      this.expire(passed);
      return;
    }
    this.arm();
  }
}

/** What a connection's listeners hand on: to the call it carries, if it carries one. */
interface CallHandlers {
  data(chunk: Buffer): void;
  end(): void;
  error(error: NodeJS.ErrnoException): void;
}

/**
 * A connection and the call it carries now. Its listeners are added once, when it opens, and
 * hand each event to that call: adding and removing four listeners per call, and two more
 * while it waited idle, cost a rollout more than reading the answer.
 */
interface Connection {
  socket: Socket;
  call: CallHandlers | undefined;
}

/** One call's message for each limit, worded only when one runs out. */
function limitMessage(limit: Limit, req: TransportRequest, options: TransportOptions): string {
  switch (limit) {
    case 'DEADLINE':
      return `no complete answer within ${formatDuration(req.timeoutMs)}`;
    case 'CONNECT_TIMEOUT':
      return `could not connect within ${formatDuration(options.connectTimeoutMs)}`;
    case 'HEADERS_TIMEOUT':
      return `no response within ${formatDuration(options.headersTimeoutMs)}`;
    default:
      return `the body stalled for ${formatDuration(options.bodyTimeoutMs)}`;
  }
}

export const socketTransport: TransportFactory = (options: TransportOptions): Transport => {
  const url = new URL(options.origin);
  const secure = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (secure ? 443 : 80));
  const limits = { maxHeaderBytes: options.maxHeaderBytes, maxBodyBytes: options.maxBodyBytes };

  /** The connection kept for the next call, when the last response allows it. */
  let idle: Connection | undefined;
  /** Calls run one after another on the one connection. */
  let queue: Promise<unknown> = Promise.resolve();
  let active = 0;
  let closed = false;

  async function open(): Promise<{ connection: Connection; connected: Promise<void> }> {
    let socket: Socket;
    if (secure) {
      // Loaded only for https: a loopback relay (the emulator, the benchmark) never pays for it.
      const tls = await import('node:tls');
      socket = tls.connect({
        host: hostname,
        port,
        // SNI names a host, never an address.
        ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
        ALPNProtocols: ['http/1.1'],
      });
    } else {
      socket = tcpConnect({ host: hostname, port });
    }
    socket.setNoDelay(true);
    const connection: Connection = { socket, call: undefined };
    socket.on('data', (chunk: Buffer) => connection.call?.data(chunk));
    socket.on('end', () => connection.call?.end());
    socket.on('close', () => {
      if (connection.call) connection.call.end();
      // A kept connection the server closed meanwhile just means a new one for the next call.
      else if (idle === connection) idle = undefined;
    });
    // With no call on it, a kept connection's error is nothing to report: its close follows.
    socket.on('error', (error: NodeJS.ErrnoException) => connection.call?.error(error));
    const connected = new Promise<void>((resolve) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
    });
    return { connection, connected };
  }

  /** `deadline`: monotonicMs() by which the call must be answered, queueing included. */
  function send(req: TransportRequest, deadline: number | undefined): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      if (closed) {
        reject(new TransportError('SOCKET_CLOSED', 'the transport was closed', { responded: false }));
        return;
      }
      const signal = req.signal;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      if (deadline !== undefined && monotonicMs() >= deadline) {
        // Its time ran out while it waited for the connection.
        reject(
          new TransportError('DEADLINE', `no answer within ${formatDuration(req.timeoutMs)}`, {
            responded: false,
          }),
        );
        return;
      }
      let bytes: string;
      try {
        bytes = requestBytes(req, url.host);
      } catch (error) {
        reject(error);
        return;
      }
      const reader = new ResponseReader(limits);
      let connection: Connection | undefined;
      let settled = false;
      // Past the headers, the relay has acted on the call, whichever limit then ran out.
      const watchdog = new Watchdog((limit) =>
        fail(new TransportError(limit, limitMessage(limit, req, options), { responded: reader.headersDone })),
      );
      if (deadline !== undefined) watchdog.set('DEADLINE', deadline);

      const cleanup = () => {
        settled = true;
        watchdog.stop();
        unwatch?.();
        if (connection?.call === handlers) connection.call = undefined;
      };
      const fail = (error: unknown) => {
        if (settled) return;
        cleanup();
        connection?.socket.destroy();
        reject(error);
      };
      const finish = (response: ParsedResponse) => {
        cleanup();
        if (response.keepAlive && connection && !connection.socket.destroyed && !closed) idle = connection;
        else connection?.socket.destroy();
        resolve({ status: response.status, headers: response.headers, text: response.body.toString('utf8') });
      };
      const handlers: CallHandlers = {
        data(chunk) {
          if (settled) return;
          const hadHeaders = reader.headersDone;
          let response: ParsedResponse | undefined;
          try {
            response = reader.push(chunk);
          } catch (error) {
            fail(error);
            return;
          }
          if (response) {
            finish(response);
            return;
          }
          if (reader.headersDone) {
            if (!hadHeaders) watchdog.clear('HEADERS_TIMEOUT');
            // The body timeout is a limit on silence, so every chunk starts it again.
            watchdog.set('BODY_TIMEOUT', monotonicMs() + options.bodyTimeoutMs);
          }
        },
        end() {
          if (settled) return;
          try {
            finish(reader.end());
          } catch (error) {
            fail(error);
          }
        },
        error(error) {
          // An error after the headers arrived is a broken answer, not an unreachable relay: the
          // relay acted on the call, which decides whether a POST may be sent again.
          fail(reader.headersDone ? brokenAnswer(error.code ?? error.message, error) : error);
        },
      };
      // A watch, not a listener of its own: a rollout's calls share a look's signal (src/abort-watch.ts).
      const unwatch = signal && watchAbort(signal, () => fail(signal.reason));

      /** Sends on `c`; `connected` is undefined for a connection that is up already. */
      const start = (c: Connection, connected: Promise<void> | undefined) => {
        connection = c;
        c.call = handlers;
        // Written at once: node:net holds it until the connection is up.
        c.socket.write(bytes);
        const headersDue = () => {
          if (settled) return;
          watchdog.clear('CONNECT_TIMEOUT');
          watchdog.set('HEADERS_TIMEOUT', monotonicMs() + options.headersTimeoutMs);
        };
        if (connected === undefined) headersDue();
        else void connected.then(headersDue);
      };

      const reuse = idle;
      idle = undefined;
      if (reuse && !reuse.socket.destroyed && reuse.socket.writable) {
        start(reuse, undefined);
        return;
      }
      reuse?.socket.destroy();
      watchdog.set('CONNECT_TIMEOUT', monotonicMs() + options.connectTimeoutMs);
      open().then(
        ({ connection: c, connected }) => {
          if (settled) c.socket.destroy();
          else start(c, connected);
        },
        (error: unknown) => fail(error),
      );
    });
  }

  return {
    request(req) {
      // With nothing in flight the call starts now, not a microtask later: the connection is
      // opening while the caller's code goes on (src/relay/wire.ts builds the answer's schema).
      const deadline = req.timeoutMs === undefined ? undefined : monotonicMs() + req.timeoutMs;
      const call = active === 0 ? send(req, deadline) : queue.then(() => send(req, deadline));
      active++;
      const done = () => {
        active--;
      };
      queue = call.then(done, done);
      return call;
    },
    async close() {
      await queue;
      closed = true;
      idle?.socket.destroy();
      idle = undefined;
    },
  };
};
