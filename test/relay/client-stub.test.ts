/**
 * The client against a scripted HTTP server on loopback: the cases the emulator cannot
 * stage easily (malformed bodies, proxies' HTML pages, a relay echoing the key) plus the
 * retry rules, on real sockets and a FakeClock.
 */
import { createServer } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, FakeClock } from '../../src/clock.js';
import { CanaryError, ExitCode, RelayError } from '../../src/errors.js';
import { createRelayClient, type RelayClient, type RelayClientOptions } from '../../src/relay/client.js';
import type { TransportFactory } from '../../src/relay/transport.js';
import { json, relayError, reset, type StubHandler, startStub } from './stub-server.js';
import { TRANSPORTS } from './transports.js';

const KEY = 'sk-stub-9f2c7e1d-never-print';
const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
/** The transport under test: every suite below runs once per transport (describe.each). */
let transport: TransportFactory;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(handler: StubHandler, options: Partial<RelayClientOptions> = {}) {
  const stub = await startStub(handler);
  const clock = new FakeClock(T0);
  const client = createRelayClient({
    transport,
    baseUrl: stub.baseUrl,
    apiKey: KEY,
    keySource: 'env RELAY_API_KEY',
    clock,
    random: () => 0,
    ...options,
  });
  cleanups.push(
    () => stub.close(),
    () => client.close(),
  );
  return { stub, clock, client };
}

async function rejection(promise: Promise<unknown>): Promise<RelayError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RelayError);
  const e = error as RelayError;
  const everything = `${e.message}\n${e.hint ?? ''}\n${JSON.stringify(e)}`;
  expect(everything).not.toContain(KEY);
  return e;
}

const version = {
  version_tag: 'claude-x',
  model: 'anthropic/claude',
  parameters: { temperature: 0.5 },
  metadata: { rc: true },
};
const stored = { ...version, version_id: 'ver_1', created_at: '2026-11-21T10:00:00Z' };
const route = {
  route_id: 'prod',
  model_alias: 'prod',
  route_rules: [
    { version_tag: 'a', weight: 95 },
    { version_tag: 'claude-x', weight: 5 },
  ],
  revision: 1,
};

describe.each(TRANSPORTS)('over the $name transport', ({ factory }) => {
  beforeAll(() => {
    transport = factory;
  });

  describe('requests', () => {
    it('sends the key as a bearer token, JSON bodies, and no key to /health', async () => {
      const { stub, client } = await setup((call, res) => {
        if (call.url === '/v1/health') json(res, 200, { status: 'ok' });
        else json(res, 201, stored);
      });
      await client.health();
      await client.registerVersion(version);
      const [health, post] = stub.calls;
      expect(health?.headers.authorization).toBeUndefined();
      expect(post?.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(post?.headers['content-type']).toBe('application/json');
      expect(post?.headers['user-agent']).toMatch(/^canary\//);
      expect(JSON.parse(post?.body ?? '')).toEqual(version);
      expect(client.name).toBe('relay');
      expect(client.baseUrl).toBe(stub.baseUrl);
    });

    it('reads metrics with ISO times and keeps missing or null values as no data', async () => {
      const { stub, client } = await setup((_call, res) =>
        json(res, 200, { version_tag: 'claude-x', request_count: 0, error_rate: null }),
      );
      const m = await client.readMetrics({ versionTag: 'claude-x', start: T0 - 300_000, end: T0 });
      const url = new URL(stub.calls[0]?.url ?? '', 'http://x');
      expect(url.pathname).toBe('/v1/metrics/versions');
      expect(url.searchParams.get('version_tag')).toBe('claude-x');
      expect(url.searchParams.get('start_time')).toBe('2026-11-21T09:55:00.000Z');
      expect(url.searchParams.get('end_time')).toBe('2026-11-21T10:00:00.000Z');
      expect(m).toEqual({
        version_tag: 'claude-x',
        start_time: '2026-11-21T09:55:00.000Z',
        end_time: '2026-11-21T10:00:00.000Z',
        request_count: 0,
        error_count: null,
        error_rate: null,
        latency_p50_ms: null,
        latency_p99_ms: null,
        cost_per_token: null,
      });
    });

    it('encodes ids in paths', async () => {
      const { stub, client } = await setup((_call, res) => json(res, 200, { ...route, route_id: 'a/b c' }));
      await client.getRoute('a/b c');
      expect(stub.calls[0]?.url).toBe('/v1/routes/traffic/a%2Fb%20c');
    });
  });

  describe('malformed answers are invalid_response, never a crash', () => {
    const cases: [string, StubHandler, (c: RelayClient) => Promise<unknown>, RegExp][] = [
      [
        'non-JSON 200',
        (_c, res) => res.end('<html>hello</html>'),
        (c) => c.getRoute('prod'),
        /not JSON.*<html>/,
      ],
      ['empty 200', (_c, res) => res.end(), (c) => c.getVersion('claude-x'), /empty body/],
      [
        'route without rules',
        (_c, res) => json(res, 200, { route_id: 'prod', route_rules: 'all of them' }),
        (c) => c.getRoute('prod'),
        /route_rules/,
      ],
      [
        'weight that is a string',
        (_c, res) =>
          json(res, 200, { status: 'updated', route_rules: [{ version_tag: 'a', weight: '100' }] }),
        (c) => c.updateRoute({ route_id: 'prod', route_rules: [{ version_tag: 'a', weight: 100 }] }),
        /route_rules\[0\]\.weight/,
      ],
      [
        'metrics with garbage types',
        (_c, res) => json(res, 200, { request_count: 'lots', error_rate: { x: 1 } }),
        (c) => c.readMetrics({ versionTag: 'v', start: T0 - 1000, end: T0 }),
        /request_count/,
      ],
      ['health not ok', (_c, res) => json(res, 200, { status: 'degraded' }), (c) => c.health(), /degraded/],
      [
        'JSON array for a version',
        (_c, res) => json(res, 201, [1, 2]),
        (c) => c.registerVersion(version),
        /shape/,
      ],
    ];
    for (const [name, handler, act, pattern] of cases) {
      it(name, async () => {
        const { client } = await setup(handler);
        const e = await rejection(act(client));
        expect(e.type).toBe('invalid_response');
        expect(e.message).toMatch(pattern);
        expect(e.exitCode).toBe(ExitCode.Aborted);
      });
    }
  });

  describe('error answers', () => {
    it('401 names the key source, never the key, even when the relay echoes it', async () => {
      const { client } = await setup((call, res) =>
        relayError(res, 401, 'authentication_error', `unknown key ${call.headers.authorization}`),
      );
      const e = await rejection(client.getRoute('prod'));
      expect(e.status).toBe(401);
      expect(e.type).toBe('authentication_error');
      expect(e.operation).toBe('GET /routes/traffic/prod');
      expect(e.message).toContain('env RELAY_API_KEY');
      expect(e.message).toContain('[REDACTED]');
    });

    it('404 names the id and hints at /v1 when the base URL lacks it', async () => {
      const { stub, client } = await setup((_c, res) => relayError(res, 404, 'not_found', 'no such route'));
      const e = await rejection(client.getRoute('prod'));
      expect(e.message).toContain('route prod');
      expect(e.hint).toContain('Check the name');

      const bare = createRelayClient({
        transport,
        baseUrl: `http://127.0.0.1:${stub.port}`,
        apiKey: KEY,
        keySource: 'k',
      });
      cleanups.push(() => bare.close());
      const e2 = await rejection(bare.getVersion('claude-x'));
      expect(e2.message).toContain('version claude-x');
      expect(e2.hint).toContain(`http://127.0.0.1:${stub.port}/v1`);
    });

    it('422 shows the field and the relay message', async () => {
      const { client } = await setup((_c, res) =>
        relayError(res, 422, 'validation_error', 'weights sum to 90', { field: 'route_rules' }),
      );
      const e = await rejection(client.updateRoute({ route_id: 'prod', route_rules: [] }));
      expect(e.field).toBe('route_rules');
      expect(e.operation).toBe('PATCH /routes/traffic');
      expect(e.message).toContain('field route_rules: weights sum to 90');
    });

    it('a proxy HTML 502 after retries is a server_error with a snippet', async () => {
      const { stub, client } = await setup(
        (_c, res) => {
          res.writeHead(502, { 'content-type': 'text/html' });
          res.end('<html>Bad Gateway</html>');
        },
        { retry: { maxAttempts: 3 } },
      );
      const e = await rejection(client.getRoute('prod'));
      expect(e.type).toBe('server_error');
      expect(e.status).toBe(502);
      expect(e.message).toContain('Bad Gateway');
      expect(e.message).toContain('after 3 attempts');
      expect(stub.calls).toHaveLength(3);
    });

    it('createRoute 409 is a conflict RelayError for the caller to PATCH', async () => {
      const { stub, client } = await setup((_c, res) => relayError(res, 409, 'conflict', 'route exists'));
      const e = await rejection(client.createRoute({ model_alias: 'prod', route_rules: route.route_rules }));
      expect(e.type).toBe('conflict');
      expect(e.status).toBe(409);
      expect(stub.calls).toHaveLength(1);
    });
  });

  describe('registerVersion 409', () => {
    it('equal existing configuration counts as success', async () => {
      const { client } = await setup((_c, res) =>
        relayError(res, 409, 'conflict', 'exists', {
          existing: { ...stored, upstream_endpoint: 'anthropic' },
        }),
      );
      const got = await client.registerVersion(version);
      expect(got.created).toBe(false);
      expect(got.version.version_id).toBe('ver_1');
    });

    it('a different configuration is bad input naming the fields', async () => {
      const { client } = await setup((_c, res) =>
        relayError(res, 409, 'conflict', 'exists', {
          existing: { ...stored, parameters: { temperature: 0.7 } },
        }),
      );
      const error = await client.registerVersion(version).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CanaryError);
      expect(error).not.toBeInstanceOf(RelayError);
      expect((error as CanaryError).exitCode).toBe(ExitCode.BadInput);
      expect((error as Error).message).toBe(
        'version claude-x is already registered with a different configuration: parameters.temperature (relay 0.7, plan 0.5). Versions are immutable: use a new version_tag.',
      );
    });

    it('a 409 without existing falls back to reading the version', async () => {
      const { stub, client } = await setup((call, res) => {
        if (call.method === 'POST') relayError(res, 409, 'conflict', 'exists');
        else json(res, 200, stored);
      });
      expect((await client.registerVersion(version)).created).toBe(false);
      expect(stub.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
        'POST /v1/models/versions',
        'GET /v1/models/versions/claude-x',
      ]);
    });
  });

  describe('retries', () => {
    it('429 waits Retry-After on the injected clock, then succeeds', async () => {
      const { stub, clock, client } = await setup((_c, res, i) => {
        if (i === 0) {
          res.setHeader('retry-after', '7');
          relayError(res, 429, 'rate_limit_error', 'slow down');
        } else json(res, 200, route);
      });
      expect((await client.getRoute('prod')).revision).toBe(1);
      expect(stub.calls).toHaveLength(2);
      expect(clock.now() - T0).toBeGreaterThanOrEqual(7_000);
      expect(clock.now() - T0).toBeLessThanOrEqual(7_500);
    });

    it('a Retry-After past the deadline is not waited for', async () => {
      const { stub, clock, client } = await setup((_c, res) => {
        res.setHeader('retry-after', '50');
        relayError(res, 429, 'rate_limit_error', 'slow down');
      });
      const e = await rejection(client.getRoute('prod', { deadlineMs: 20_000 }));
      expect(e.type).toBe('rate_limit_error');
      expect(e.message).toContain('deadline');
      expect(stub.calls).toHaveLength(1);
      expect(clock.now()).toBe(T0);
    });

    it('503 on GET is retried with growing backoff', async () => {
      const { stub, clock, client } = await setup(
        (_c, res, i) => {
          if (i < 2) relayError(res, 503, 'server_error', 'busy');
          else json(res, 200, route);
        },
        { retry: { baseDelayMs: 1_000 } },
      );
      const got = await client.getRoute('prod');
      expect(got.route_rules).toEqual(route.route_rules);
      expect(stub.calls).toHaveLength(3);
      // random() = 0: half steps of 1 s then 2 s.
      expect(clock.now() - T0).toBe(500 + 1_000);
    });

    it('503 on PATCH is not sent again: it may have landed, and the caller reads the route first', async () => {
      const { stub, client } = await setup((_c, res) => relayError(res, 503, 'server_error', 'busy'));
      const e = await rejection(client.updateRoute({ route_id: 'prod', route_rules: route.route_rules }));
      expect(e.status).toBe(503);
      expect(stub.calls).toHaveLength(1);
    });

    it('a 200 to GET with a body of the wrong shape is retried like a 5xx', async () => {
      const { stub, client } = await setup((_c, res, i) => {
        if (i === 0) json(res, 200, { route_id: 42, route_rules: 'all' });
        else json(res, 200, route);
      });
      const got = await client.getRoute('prod');
      expect(got.route_rules).toEqual(route.route_rules);
      expect(stub.calls).toHaveLength(2);
    });

    it('sends If-Match with the revision a PATCH is based on, and words a 412', async () => {
      const { stub, client } = await setup((_c, res) =>
        relayError(res, 412, 'precondition_failed', 'route prod is at revision 9, not 7'),
      );
      const e = await rejection(
        client.updateRoute({ route_id: 'prod', route_rules: route.route_rules }, { ifRevision: 7 }),
      );
      expect(stub.calls[0]?.headers['if-match']).toBe('"7"');
      expect(e.status).toBe(412);
      expect(e.message).toMatch(
        /route prod changed since the revision canary last read \(412 precondition_failed/,
      );
    });

    it('a redirect is not followed, and says where it points', async () => {
      const { stub, client } = await setup((_c, res) => {
        res.writeHead(301, { location: 'https://elsewhere.example/v1/' });
        res.end();
      });
      const e = await rejection(client.getRoute('prod'));
      expect(e.status).toBe(301);
      expect(e.unreachable).toBe(true);
      expect(e.message).toContain('a redirect to https://elsewhere.example/v1/');
      expect(stub.calls).toHaveLength(1);
    });

    it('POST is not retried after a 503 answer', async () => {
      const { stub, client } = await setup((_c, res) => relayError(res, 503, 'server_error', 'busy'));
      const e = await rejection(client.registerVersion(version));
      expect(e.status).toBe(503);
      expect(e.hint).toContain('not retried');
      expect(stub.calls).toHaveLength(1);
    });

    it('POST is retried after a 429, and a 409 for the same body then counts as success', async () => {
      const { stub, client } = await setup((_c, res, i) => {
        if (i === 0) {
          res.setHeader('retry-after', '1');
          relayError(res, 429, 'rate_limit_error', 'slow');
        } else relayError(res, 409, 'conflict', 'exists', { existing: stored });
      });
      const got = await client.registerVersion(version);
      expect(got).toEqual({ version: stored, created: false });
      expect(stub.calls.filter((c) => c.method === 'POST')).toHaveLength(2);
    });

    it('POST after a reset is retried, and a 409 with the same body is success', async () => {
      const { stub, client } = await setup((_c, res, i) => {
        if (i === 0) reset(res);
        else relayError(res, 409, 'conflict', 'exists', { existing: stored });
      });
      const got = await client.registerVersion(version);
      expect(got).toEqual({ version: stored, created: false });
      expect(stub.calls.filter((c) => c.method === 'POST')).toHaveLength(2);
    });

    it('createRoute after a reset: a 409 for a route holding our rules is success', async () => {
      const { stub, client } = await setup((call, res, i) => {
        if (i === 0) reset(res);
        else if (call.method === 'POST') relayError(res, 409, 'conflict', 'exists');
        else json(res, 200, route);
      });
      const got = await client.createRoute({
        model_alias: 'prod',
        route_rules: [...route.route_rules].reverse(),
      });
      expect(got.route_id).toBe('prod');
      expect(stub.calls.map((c) => c.method)).toEqual(['POST', 'POST', 'GET']);
    });

    it('createRoute after a reset: a 409 for a route with other rules is still a conflict', async () => {
      const { client } = await setup((call, res, i) => {
        if (i === 0) reset(res);
        else if (call.method === 'POST') relayError(res, 409, 'conflict', 'exists');
        else json(res, 200, { ...route, route_rules: [{ version_tag: 'a', weight: 100 }] });
      });
      const e = await rejection(client.createRoute({ model_alias: 'prod', route_rules: route.route_rules }));
      expect(e.type).toBe('conflict');
    });

    it('gives up after maxAttempts of connection failures and names the host and cause', async () => {
      // A port that was just free: nothing listens there.
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const { port } = probe.address() as { port: number };
      await new Promise<void>((r) => probe.close(() => r()));
      const clock = new FakeClock(T0);
      const client = createRelayClient({
        transport,
        baseUrl: `http://127.0.0.1:${port}/v1`,
        apiKey: KEY,
        keySource: 'env RELAY_API_KEY',
        clock,
        random: () => 0,
        retry: { maxAttempts: 3, baseDelayMs: 100 },
      });
      cleanups.push(() => client.close());
      const e = await rejection(client.registerVersion(version));
      expect(e.type).toBe('network_error');
      expect(e.status).toBeUndefined();
      expect(e.message).toContain(`127.0.0.1:${port}`);
      expect(e.message).toContain('ECONNREFUSED');
      expect(e.message).toContain('after 3 attempts');
      expect(clock.now() - T0).toBe(50 + 100);
    });

    it('a hang times out as type timeout, retried for GET', async () => {
      const { stub, client } = await setup(() => {}, {
        timeouts: { headersMs: 150 },
        retry: { maxAttempts: 2 },
      });
      const e = await rejection(client.getRoute('prod'));
      expect(e.type).toBe('timeout');
      expect(e.message).toContain('no response within 150ms');
      expect(e.message).toContain('after 2 attempts');
      expect(stub.calls).toHaveLength(2);
    });

    it('the call deadline also cuts an attempt in flight short', async () => {
      const { stub, client } = await setup(() => {}, { timeouts: { headersMs: 30_000 } });
      const e = await rejection(client.registerVersion(version, { deadlineMs: 200 }));
      expect(e.type).toBe('timeout');
      expect(e.message).toContain('no answer in time');
      expect(e.message).toContain('200ms deadline');
      expect(stub.calls).toHaveLength(1);
    });

    it('a deadline that ends a later attempt still says how the one before failed', async () => {
      // A relay resetting connections, then slow to answer: the message must not blame a hang alone.
      const { stub, client } = await setup(
        (_call, res, i) => {
          if (i === 0) reset(res);
        },
        { timeouts: { headersMs: 30_000 } },
      );
      const e = await rejection(client.getRoute('prod', { deadlineMs: 300 }));
      expect(e.type).toBe('timeout');
      expect(e.message).toContain(
        '300ms deadline of this call; the attempt before failed: the connection was closed',
      );
      expect(e.message).toContain('after 2 attempts');
      expect(stub.calls).toHaveLength(2);
    });

    it('an abort during backoff stops at once with the caller’s reason', async () => {
      const controller = new AbortController();
      const reason = new Error('user pressed Ctrl-C');
      // A clock whose backoff never ends by itself: the abort lands exactly while the client waits
      // to retry (a FakeClock would end every backoff at once, racing the abort).
      const clock: Clock = {
        now: () => T0,
        sleep: (_ms, signal) =>
          new Promise((_resolve, reject) => {
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
            controller.abort(reason);
          }),
      };
      const { stub, client } = await setup((_c, res) => relayError(res, 503, 'server_error', 'busy'), {
        clock,
      });
      await expect(client.getRoute('prod', { signal: controller.signal })).rejects.toBe(reason);
      expect(stub.calls).toHaveLength(1);
    });
  });
});
