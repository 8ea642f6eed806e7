/**
 * The emulator's HTTP face: reads a request (body, key, an injected fault first), finds its
 * endpoint in the table (endpoints.ts), sends the reply or the contract's error body, and logs
 * the call. Also serves an unauthenticated Prometheus `/metrics` exposition when one is set.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, notFound, validation } from './api-error.js';
import { loggedBody } from './call-log.js';
import { findRoute, type Reply, type ServerDeps } from './endpoints.js';
import { injectFault } from './fault-replies.js';
import { isoTime } from './relay-state.js';
import type { CallRecord, Fault } from './types.js';

const MAX_BODY_BYTES = 1024 * 1024;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares digests in constant time, so the key cannot be guessed from response timing. */
function authorised(header: string | undefined, keyDigest: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1]), keyDigest);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(validation(undefined, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(raw: string): { ok: boolean; value?: unknown } {
  if (raw.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

/** An error thrown by an endpoint (or while finding one) as the reply the contract gives. */
function errorReply(error: unknown, method: string, path: string): Reply {
  if (error instanceof ApiError) {
    const headers = (error as ApiError & { headers?: Record<string, string> }).headers;
    return { status: error.status, body: error.body(), ...(headers ? { headers } : {}) };
  }
  if (error instanceof URIError)
    return { status: 404, body: notFound(`no endpoint ${method} ${path}`).body() };
  return { status: 500, body: new ApiError(500, 'server_error', 'internal emulator error').body() };
}

/**
 * `GET /metrics`: no key, as Prometheus scrapes a relay's /metrics; it shows only simulated
 * aggregates. Not in the call log either: a 1 s scrape would push the API calls out of it.
 */
async function serveExposition(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ServerDeps,
  exposition: NonNullable<ServerDeps['exposition']>,
): Promise<void> {
  req.resume();
  deps.simulation.advance(deps.clock.now());
  const { contentType, body } = await exposition();
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A request as the server has read it, before its endpoint is found. */
interface Incoming {
  method: string;
  /** The URL's path without trailing slashes. */
  path: string;
  url: URL;
  /** Under /_emulator: not in the call log, and no /v1 hint when nothing is found. */
  internal: boolean;
  headers: IncomingMessage['headers'];
}

/** The endpoint's reply to a request whose body is read: found, authorised, then handled; or thrown. */
function answer(
  incoming: Incoming,
  parsed: { ok: boolean; value?: unknown },
  deps: ServerDeps,
  keyDigest: Buffer,
): Reply {
  const { method, path, url, internal, headers } = incoming;
  const found = findRoute(method, path);
  if (!found) {
    const hint =
      path.startsWith('/v1') || internal ? '' : '; the API is under /v1 (is /v1 missing from the base URL?)';
    throw notFound(`no endpoint ${method} ${path}${hint}`);
  }
  const { entry, params } = found;
  if (entry.auth && !authorised(headers.authorization, keyDigest)) {
    throw new ApiError(
      401,
      'authentication_error',
      headers.authorization ? 'the API key is not valid' : 'missing Authorization: Bearer <api key>',
    );
  }
  if (!parsed.ok) throw validation(undefined, 'the body is not valid JSON');
  // Each handler runs only the routes it reads (simulation.ts); a PATCH runs its route
  // up to the change through RelayState.beforeRulesChange.
  return entry.handler({ method, path, params, query: url.searchParams, body: parsed.value, headers }, deps);
}

export function createRequestListener(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const keyDigest = digest(deps.apiKey);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const internal = path === '/_emulator' || path.startsWith('/_emulator/');
    if (method === 'GET' && path === '/metrics' && deps.exposition) {
      await serveExposition(req, res, deps, deps.exposition);
      return;
    }
    const record: CallRecord = { at: isoTime(deps.clock.now()), method, path, status: null };
    if (url.search) record.query = Object.fromEntries(url.searchParams);
    const finish = (reply: Reply | null, fault?: Fault) => {
      if (fault) record.fault = fault.mode;
      if (reply?.stream) {
        record.status = reply.status;
        res.writeHead(reply.status, reply.headers);
        reply.stream.write(res).catch(() => res.destroy());
      } else if (reply) {
        record.status = reply.status;
        send(res, reply);
      }
      if (!internal) {
        deps.calls.add(record);
        deps.onCall?.(record);
      }
    };

    if (!internal && (path === '/v1' || path.startsWith('/v1/'))) {
      const fault = deps.faults.take(path, method);
      if (fault) {
        injectFault(req, res, fault, finish);
        return;
      }
    }

    let raw: string;
    try {
      raw = await readBody(req);
    } catch (error) {
      finish({
        status: 422,
        body: (error instanceof ApiError ? error : validation(undefined, 'unreadable body')).body(),
      });
      return;
    }
    const parsed = parseJson(raw);
    const body = loggedBody(raw, parsed);
    if (body !== undefined) record.body = body;

    try {
      finish(answer({ method, path, url, internal, headers: req.headers }, parsed, deps, keyDigest));
    } catch (error) {
      finish(errorReply(error, method, path));
    }
  };

  return (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  };
}
