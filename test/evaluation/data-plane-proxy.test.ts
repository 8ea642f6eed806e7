/**
 * The evaluation's data plane honours HTTP_PROXY like every other client canary has (README,
 * Proxies): the relay's host resolves nowhere, and only a forwarding proxy on loopback maps it
 * to the emulator. Real HTTP end to end; the proxy records what it forwarded.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, parseScenario, startEmulator } from '../../src/emulator/index.js';
import { createHttpDataPlane } from '../../src/evaluation/data-plane.js';

const KEY = 'proxy-plane-key-123';
const HOST = 'relay.canary-plane-proxy.invalid';
const TAG = 'v-one';

let emulator: EmulatorHandle;
let proxy: Server;
let proxyUrl = '';
const seen: string[] = [];
const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy };

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, seed: 11, rps: 10, scenario: parseScenario('', 's.yaml') });
  await fetch(`${emulator.baseUrl}/models/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version_tag: TAG, model: `provider/${TAG}` }),
  });
  // Absolute-form requests (plain http through a proxy), forwarded to the emulator for HOST only.
  proxy = createServer((req, res) => {
    const target = new URL(req.url ?? '/');
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
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await emulator?.close();
});

const ask = (plane: ReturnType<typeof createHttpDataPlane>, stream: boolean) =>
  plane.complete({
    version: TAG,
    route: 'no-route-yet',
    request: { messages: [{ role: 'user', content: 'How do refunds work?' }], max_tokens: 50 },
    timeoutMs: 5000,
    stream,
  });

describe('the evaluation data plane through a forwarding proxy', () => {
  it('with HTTP_PROXY set, streamed and whole answers come through the proxy', async () => {
    process.env.HTTP_PROXY = proxyUrl;
    delete process.env.http_proxy;
    const plane = createHttpDataPlane({
      baseUrl: `http://${HOST}:${emulator.port}/v1`,
      apiKey: KEY,
      connections: 1,
    });
    const streamed = await ask(plane, true);
    const whole = await ask(plane, false);
    await plane.close();
    expect(streamed, streamed.error).toMatchObject({ status: 200, servedBy: TAG });
    expect(streamed.ttftMs).not.toBeNull();
    expect(whole, whole.error).toMatchObject({ status: 200, servedBy: TAG });
    expect(seen).toEqual(['POST /v1/chat/completions', 'POST /v1/chat/completions']);
  });

  it('without it the same host cannot be reached: a network error, the key nowhere in it', async () => {
    delete process.env.HTTP_PROXY;
    delete process.env.http_proxy;
    const mark = seen.length;
    const plane = createHttpDataPlane({
      baseUrl: `http://${HOST}:${emulator.port}/v1`,
      apiKey: KEY,
      connections: 1,
    });
    const answer = await ask(plane, false);
    await plane.close();
    expect(answer).toMatchObject({ status: 0, errorType: 'network_error' });
    expect(answer.error).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(answer.error).not.toContain(KEY);
    expect(seen.length).toBe(mark);
  });
});
