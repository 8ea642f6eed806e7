/**
 * Injected faults (POST /_emulator/faults) as the client meets them: an error status, a 429
 * with Retry-After, a redirect, a malformed or oversized answer, a request that hangs, a
 * connection reset before or in the middle of the answer. Kept apart from the endpoints, whose
 * replies are the contract's; these are the ways a real relay or proxy breaks it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';
import type { Reply } from './endpoints.js';
import type { Fault } from './types.js';

/** Answers a request with `fault` instead of its endpoint; `finish` logs the call (and sends a reply). */
export function injectFault(
  req: IncomingMessage,
  res: ServerResponse,
  fault: Fault,
  finish: (reply: Reply | null, fault: Fault) => void,
): void {
  if (fault.mode === 'hang') {
    // Never answer: the connection stays open until the client gives up or the emulator closes.
    req.resume();
    finish(null, fault);
    return;
  }
  if (fault.mode === 'reset') {
    finish(null, fault);
    req.socket.destroy();
    return;
  }
  if (fault.mode === 'reset_mid_body') {
    req.resume();
    finish(null, fault);
    resetMidBody(res);
    return;
  }
  req.resume();
  finish(faultReply(fault), fault);
}

function faultReply(fault: Fault): Reply {
  if (fault.mode === 'rate_limit') {
    const seconds = fault.retry_after_seconds ?? 1;
    return {
      status: 429,
      headers: { 'retry-after': String(seconds) },
      body: new ApiError(
        429,
        'rate_limit_error',
        `too many requests; retry after ${seconds} s (injected)`,
      ).body(),
    };
  }
  if (fault.mode === 'redirect') {
    const status = fault.status ?? 301;
    return {
      status,
      headers: { location: 'https://relay.invalid/v1/' },
      body: { message: `moved (injected ${status})` },
    };
  }
  if (fault.mode === 'malformed') {
    // Valid JSON, so only a client that checks the answer's shape notices.
    return { status: 200, body: { route_id: 42, route_rules: 'all of them', status: 'updated' } };
  }
  if (fault.mode === 'oversized') {
    return { status: 200, body: { padding: 'x'.repeat(5 * 1024 * 1024) } };
  }
  const status = fault.status ?? 503;
  return { status, body: new ApiError(status, 'server_error', `relay fault (injected ${status})`).body() };
}

/** Headers and half a body, then the connection goes: a relay (or a proxy) dying mid-answer. */
function resetMidBody(res: ServerResponse): void {
  const text = JSON.stringify({ route_id: 'x', route_rules: [{ version_tag: 'x', weight: 100 }] });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
}
