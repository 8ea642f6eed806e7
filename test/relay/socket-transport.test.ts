/**
 * The socket transport against servers scripted byte by byte on loopback: connection reuse and
 * replacement, each timeout, aborts, and what it sends. The relay client's own suites
 * (client-stub, client-emulator) already run over it; these are the cases only raw TCP stages.
 */
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { socketTransport } from '../../src/relay/socket-transport.js';
import { DEFAULT_LIMITS, type Transport, TransportError } from '../../src/relay/transport.js';

interface Scripted {
  server: Server;
  origin: string;
  /** Connections accepted so far. */
  connections: Socket[];
  /** Raw bytes received, per connection. */
  received: string[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A TCP server that calls `onRequest(socket, index)` for each complete request head it reads. */
async function scripted(onRequest: (socket: Socket, index: number, head: string) => void): Promise<Scripted> {
  const connections: Socket[] = [];
  const received: string[] = [];
  let requests = 0;
  const server = createServer((socket) => {
    const at = connections.push(socket) - 1;
    received[at] = '';
    let buffered = '';
    socket.on('error', () => {});
    socket.on('data', (d) => {
      received[at] += d.toString('latin1');
      buffered += d.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        onRequest(socket, requests++, head);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    for (const s of connections) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, connections, received };
}

function transport(
  origin: string,
  overrides: Partial<Parameters<typeof socketTransport>[0]> = {},
): Transport {
  const t = socketTransport({
    origin,
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 2_000,
    bodyTimeoutMs: 2_000,
    connections: 1,
    ...DEFAULT_LIMITS,
    ...overrides,
  });
  cleanups.push(() => t.close());
  return t;
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  const error = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

describe('socket transport', () => {
  it('sends host, headers and a body with its length; decodes UTF-8 answers', async () => {
    const s = await scripted((socket) => socket.write(ok('{"msg":"grüße"}')));
    const t = transport(s.origin);
    const res = await t.request({
      method: 'PATCH',
      path: '/v1/routes/traffic',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: '{"route_id":"r"}',
    });
    expect(res).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': '17' },
      text: '{"msg":"grüße"}',
    });
    const port = new URL(s.origin).port;
    expect(s.received[0]).toBe(
      `PATCH /v1/routes/traffic HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer k\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n{"route_id":"r"}`,
    );
  });

  it('reuses one connection for calls one after another, and queues calls made at once', async () => {
    const s = await scripted((socket, i) => socket.write(ok(`{"n":${i}}`)));
    const t = transport(s.origin);
    const a = await t.request({ method: 'GET', path: '/a', headers: {} });
    const [b, c] = await Promise.all([
      t.request({ method: 'GET', path: '/b', headers: {} }),
      t.request({ method: 'GET', path: '/c', headers: {} }),
    ]);
    expect([a.text, b.text, c.text]).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    expect(s.connections).toHaveLength(1);
  });

  it('opens a new connection after `Connection: close`, and after the server dropped an idle one', async () => {
    const s = await scripted((socket, i) => {
      if (i === 0) socket.end(ok('{}', 'connection: close\r\n'));
      else if (i === 1) {
        socket.write(ok('{}'));
        // The server's keep-alive timeout ends the idle connection.
        setTimeout(() => socket.destroy(), 20);
      } else socket.write(ok('{}'));
    });
    const t = transport(s.origin);
    await t.request({ method: 'GET', path: '/1', headers: {} });
    await t.request({ method: 'GET', path: '/2', headers: {} });
    await new Promise((r) => setTimeout(r, 100));
    await t.request({ method: 'GET', path: '/3', headers: {} });
    expect(s.connections).toHaveLength(3);
  });

  it('a connection that closes before answering is SOCKET_CLOSED, nothing received', async () => {
    const s = await scripted((socket) => socket.destroy());
    const e = await rejection(
      transport(s.origin).request({ method: 'POST', path: '/x', headers: {}, body: '{}' }),
    );
    expect(e.code).toBe('SOCKET_CLOSED');
    expect(e.responded).toBe(false);
  });

  it('a reset in the middle of the body counts as responded', async () => {
    const s = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial":');
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    const e = await rejection(
      transport(s.origin).request({ method: 'POST', path: '/x', headers: {}, body: '{}' }),
    );
    expect(e.code).toBe('SOCKET_CLOSED');
    expect(e.responded).toBe(true);
  });

  it('headers timeout: nothing comes back', async () => {
    const s = await scripted(() => {});
    const e = await rejection(
      transport(s.origin, { headersTimeoutMs: 100 }).request({ method: 'GET', path: '/', headers: {} }),
    );
    expect(e.code).toBe('HEADERS_TIMEOUT');
    expect(e.responded).toBe(false);
    // The stalled connection is not reused.
    await once(s.connections[0] as Socket, 'close');
  });

  it('body timeout: the headers come, then silence', async () => {
    const s = await scripted((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
    const e = await rejection(
      transport(s.origin, { bodyTimeoutMs: 100 }).request({ method: 'GET', path: '/', headers: {} }),
    );
    expect(e.code).toBe('BODY_TIMEOUT');
    expect(e.responded).toBe(true);
  });

  it('timeoutMs bounds the whole call, however the answer trickles in', async () => {
    const s = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n');
      const drip = setInterval(() => socket.write('x'), 20);
      socket.on('close', () => clearInterval(drip));
    });
    const e = await rejection(
      transport(s.origin, { bodyTimeoutMs: 1_000 }).request({
        method: 'GET',
        path: '/',
        headers: {},
        timeoutMs: 150,
      }),
    );
    expect(e.code).toBe('DEADLINE');
    expect(e.responded).toBe(true);
  });

  it('a call waiting behind another counts its wait against its timeoutMs', async () => {
    const s = await scripted((socket, i) => {
      if (i === 0) setTimeout(() => socket.write(ok('{}')), 200);
      else socket.write(ok('{}'));
    });
    const t = transport(s.origin);
    const first = t.request({ method: 'GET', path: '/1', headers: {} });
    const second = t.request({ method: 'GET', path: '/2', headers: {}, timeoutMs: 100 });
    expect((await first).status).toBe(200);
    expect((await rejection(second)).code).toBe('DEADLINE');
  });

  it('connect timeout covers the TLS handshake: a server that never answers the hello', async () => {
    const s = await scripted(() => {});
    const origin = s.origin.replace('http:', 'https:');
    const e = await rejection(
      transport(origin, { connectTimeoutMs: 150 }).request({ method: 'GET', path: '/', headers: {} }),
    );
    expect(e.code).toBe('CONNECT_TIMEOUT');
    expect(e.responded).toBe(false);
  });

  it('a refused connection passes the system code through', async () => {
    const s = await scripted(() => {});
    const origin = s.origin;
    await new Promise<void>((r) => s.server.close(() => r()));
    const error = await transport(origin)
      .request({ method: 'GET', path: '/', headers: {} })
      .catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('an abort rejects with its reason at once and closes the connection', async () => {
    const s = await scripted(() => {});
    const t = transport(s.origin);
    const controller = new AbortController();
    const reason = new Error('deadline');
    const call = t.request({ method: 'GET', path: '/', headers: {}, signal: controller.signal });
    await once(s.server, 'connection');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await once(s.connections[0] as Socket, 'close');
    // An already aborted signal never connects.
    await expect(
      t.request({ method: 'GET', path: '/', headers: {}, signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(s.connections).toHaveLength(1);
  });

  it('a body over the limit is refused without reading it all', async () => {
    const s = await scripted((socket) => socket.write(ok('x'.repeat(2000))));
    const e = await rejection(
      transport(s.origin, { maxBodyBytes: 1000 }).request({ method: 'GET', path: '/', headers: {} }),
    );
    expect(e.code).toBe('BODY_TOO_LARGE');
  });

  it('garbage from the server is BAD_RESPONSE, and the connection is dropped', async () => {
    const s = await scripted((socket) => socket.write('SSH-2.0-OpenSSH_9.2\r\n'));
    const e = await rejection(transport(s.origin).request({ method: 'GET', path: '/', headers: {} }));
    expect(e.code).toBe('BAD_RESPONSE');
    await once(s.connections[0] as Socket, 'close');
  });

  it('refuses to send a header that would split the request', async () => {
    const s = await scripted((socket) => socket.write(ok('{}')));
    const t = transport(s.origin);
    await expect(
      t.request({ method: 'GET', path: '/', headers: { 'x-a': 'b\r\nx-injected: 1' } }),
    ).rejects.toThrow(/CR, LF or NUL/);
    expect(s.connections).toHaveLength(0);
  });

  it('close() waits for the call in flight, then closes the kept connection', async () => {
    const s = await scripted((socket) => setTimeout(() => socket.write(ok('{}')), 50));
    const t = transport(s.origin);
    const call = t.request({ method: 'GET', path: '/', headers: {} });
    await once(s.server, 'connection');
    await t.close();
    expect((await call).status).toBe(200);
    await once(s.connections[0] as Socket, 'close');
    await expect(t.request({ method: 'GET', path: '/', headers: {} })).rejects.toThrow(/closed/);
  });
});
