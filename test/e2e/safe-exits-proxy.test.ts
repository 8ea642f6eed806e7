/**
 * Issue 15, item 11: HTTPS_PROXY / HTTP_PROXY / NO_PROXY. The relay is reachable only through a
 * forwarding proxy (its host name resolves nowhere; the proxy, a small loopback server in this
 * test, maps it to the emulator). Rollout, status and rollback work through it and the proxy
 * sees every call; NO_PROXY goes around it; a proxy that refuses is reported as the proxy's.
 * The built CLI, spawned.
 */
import { createServer, request, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedEmulator } from '../../src/emulator/index.js';
import {
  BASELINE,
  CANARY,
  e2eEnv as env,
  healthyEmulator,
  lastLine,
  runCli,
  scratch,
  weights,
} from '../helpers/index.js';

const HOST = 'relay.canary-proxy-test.invalid';
const HOOK_HOST = 'hooks.canary-proxy-test.invalid';

describe('through a forwarding proxy (spawned)', () => {
  let emulator: StartedEmulator;
  let proxy: Server;
  /** A webhook receiver, reachable only through the proxy as HOOK_HOST. */
  let hooks: Server;
  const hooked: string[] = [];
  /** Every request the proxy forwarded, as `METHOD path`, and every CONNECT. */
  const seen: string[] = [];
  let proxyUrl = '';
  let relayUrl = '';

  beforeAll(async () => {
    emulator = await healthyEmulator(11);
    // Forwards absolute-form requests (plain http through a proxy) and tunnels CONNECT;
    // only HOST is known to it, and it lives at the emulator's port.
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        hooked.push(String(JSON.parse(body).event));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    proxy = createServer((req, res) => {
      const target = new URL(req.url ?? '/');
      if (target.hostname === HOOK_HOST) {
        const upstream = request(
          {
            host: '127.0.0.1',
            port: (hooks.address() as AddressInfo).port,
            method: req.method,
            path: target.pathname,
            headers: req.headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        req.pipe(upstream);
        return;
      }
      if (target.hostname !== HOST) {
        res.writeHead(502).end('unknown host');
        return;
      }
      seen.push(`${req.method} ${target.pathname}`);
      const upstream = request(
        {
          host: '127.0.0.1',
          port: emulator.port,
          method: req.method,
          path: `${target.pathname}${target.search}`,
          headers: { ...req.headers, host: `127.0.0.1:${emulator.port}` },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    proxy.on('connect', (req, socket) => {
      seen.push(`CONNECT ${req.url}`);
      const upstream = connect(emulator.port, '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    relayUrl = `http://${HOST}:${emulator.port}/v1`;
  });
  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
    hooks?.closeAllConnections();
    await new Promise((resolve) => hooks?.close(resolve));
    await emulator?.close();
  });

  const relayCalls = () => emulator.control.calls().length;

  it('rollout (and its webhooks), status and rollback go through HTTP_PROXY; the proxy sees every call', async () => {
    const s = scratch('proxied-route', {
      bake: '1s',
      more: { notify: [{ url_env: 'HOOK_URL', format: 'json', events: ['started', 'promoted'] }] },
    });
    const viaProxy = env({
      HTTP_PROXY: proxyUrl,
      HOOK_URL: `http://${HOOK_HOST}:${(hooks.address() as AddressInfo).port}/hook`,
    });
    const before = { proxy: seen.length, relay: relayCalls() };
    const rollout = await runCli(
      ['rollout', s.plan, '--relay-url', relayUrl, '--allow-insecure-http', '--output', 'plain'],
      { env: viaProxy, cwd: s.dir },
    );
    expect(rollout.code, rollout.stdout + rollout.stderr).toBe(0);
    expect(lastLine(rollout.stdout)).toMatch(/promoted/);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
    // Every call the relay received came through the proxy, and the proxy forwarded nothing else.
    expect(seen.length - before.proxy).toBe(relayCalls() - before.relay);
    expect(seen.slice(before.proxy)).toContain('PATCH /v1/routes/traffic');
    expect(hooked).toEqual(['started', 'promoted']);

    const status = await runCli(
      ['status', '--route', s.route, '--relay-url', relayUrl, '--allow-insecure-http', '-o', 'json'],
      { env: viaProxy, cwd: s.dir },
    );
    expect(status.code, status.stderr).toBe(0);
    expect(seen.at(-1)).toMatch(/^GET \/v1\//);

    // Lower-case works too; the rollback leaves its fast socket path for the proxy.
    const mark = seen.length;
    const rollback = await runCli(
      ['rollback', '--route', s.route, '--to', BASELINE, '--relay-url', relayUrl, '--allow-insecure-http'],
      { env: env({ http_proxy: proxyUrl }), cwd: s.dir },
    );
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(seen.slice(mark)).toEqual(['GET /v1/routes/traffic/proxied-route', 'PATCH /v1/routes/traffic']);
  });

  it('without the proxy the relay cannot be reached at all', async () => {
    const result = await runCli(
      [
        'rollback',
        '--route',
        'proxied-route',
        '--to',
        BASELINE,
        '--relay-url',
        relayUrl,
        '--allow-insecure-http',
      ],
      { env: env() },
    );
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/ENOTFOUND/);
  });

  it('NO_PROXY sends a host around the proxy', async () => {
    const s = scratch('no-proxy-route', { bake: '1s' });
    const mark = seen.length;
    const direct = emulator.baseUrl; // 127.0.0.1
    const result = await runCli(
      ['rollout', s.plan, '--relay-url', direct, '--output', 'plain', '--until-stage', '1'],
      {
        env: env({ HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl, NO_PROXY: 'localhost,127.0.0.1' }),
        cwd: s.dir,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(seen.length).toBe(mark);
    const back = await runCli(['rollback', '--route', s.route, '--to', BASELINE, '--relay-url', direct], {
      env: env({ HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }),
    });
    expect(back.code, back.stderr).toBe(0);
    expect(seen.length).toBe(mark);
  });

  it('a proxy that refuses connections is named as the failure; the rollback wrote nothing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadProxy = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runCli(
      [
        'rollback',
        '--route',
        'proxied-route',
        '--to',
        BASELINE,
        '--relay-url',
        relayUrl,
        '--allow-insecure-http',
      ],
      { env: env({ HTTP_PROXY: deadProxy }) },
    );
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain(`the proxy ${deadProxy} refused the connection (ECONNREFUSED)`);
    expect(result.stderr).toMatch(/Nothing was written/);
  });
});
