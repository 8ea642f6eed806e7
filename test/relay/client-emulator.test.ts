/**
 * The contract test: the client against the emulator over real HTTP on loopback. Both share
 * one FakeClock, so Retry-After and backoff waits are measured in virtual time.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { RouteRule, VersionSpec } from '../../src/domain/relay.js';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { CanaryError, ExitCode, RelayError } from '../../src/errors.js';
import { createRelayClient, type RelayClient, type RelayClientOptions } from '../../src/relay/client.js';
import type { TransportFactory } from '../../src/relay/transport.js';
import { TRANSPORTS } from './transports.js';

/** Distinctive, so a leak anywhere in an error is unmistakable. */
const KEY = 'sk-canary-contract-7c1e44b9a0d2-DO-NOT-LEAK';
const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
/** The transport under test: every suite below runs once per transport (describe.each). */
let transport: TransportFactory;

let emulator: StartedEmulator;
let clock: FakeClock;
let client: RelayClient;
const extraClients: RelayClient[] = [];

function makeClient(options: Partial<RelayClientOptions> = {}): RelayClient {
  const c = createRelayClient({
    transport,
    baseUrl: emulator.baseUrl,
    apiKey: KEY,
    keySource: 'env RELAY_API_KEY',
    clock,
    random: () => 0,
    ...options,
  });
  extraClients.push(c);
  return c;
}

beforeEach(async () => {
  clock = new FakeClock(T0);
  emulator = await startEmulator({ port: 0, apiKey: KEY, clock, seed: 7 });
  client = makeClient();
});

afterEach(async () => {
  while (extraClients.length > 0) await extraClients.pop()?.close();
  await emulator.close();
});

const stable: VersionSpec = { version_tag: 'model-v1', model: 'anthropic/claude-sonnet-4' };
const canary: VersionSpec = {
  version_tag: 'model-v2',
  model: 'anthropic/claude-sonnet-4-20250514',
  parameters: { temperature: 0.5, max_tokens: 4096, top_p: 0.95 },
  system_prompt: 'You review code.',
  upstream_endpoint: 'anthropic',
  cost_limit_per_request: 0.05,
  metadata: { release_candidate: true },
};
const rules = (canaryWeight: number): RouteRule[] => [
  { version_tag: 'model-v1', weight: 100 - canaryWeight },
  { version_tag: 'model-v2', weight: canaryWeight },
];

async function seed(): Promise<void> {
  await client.registerVersion(stable);
  await client.registerVersion(canary);
  await client.createRoute({
    model_alias: 'code-review',
    route_rules: rules(5),
    health_check: { enabled: true, error_rate_threshold: 0.05, auto_rollback: false },
  });
}

async function relayError(promise: Promise<unknown>): Promise<RelayError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RelayError);
  return error as RelayError;
}

const postCalls = (path: string) =>
  emulator.control.calls().filter((c) => c.method === 'POST' && c.path === `/v1${path}`);

describe.each(TRANSPORTS)('over the $name transport', ({ factory }) => {
  beforeAll(() => {
    transport = factory;
  });

  describe('every endpoint', () => {
    it('health', async () => {
      await expect(client.health()).resolves.toBeUndefined();
    });

    it('registerVersion creates, then accepts the same configuration again', async () => {
      const first = await client.registerVersion(canary);
      expect(first.created).toBe(true);
      expect(first.version).toMatchObject(canary);
      expect(typeof first.version.version_id).toBe('string');
      const again = await client.registerVersion(canary);
      expect(again).toEqual({ version: first.version, created: false });
    });

    it('registerVersion with a changed configuration is bad input naming the field', async () => {
      await client.registerVersion(canary);
      const error = await client
        .registerVersion({ ...canary, parameters: { ...canary.parameters, temperature: 0.7 } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CanaryError);
      expect((error as CanaryError).exitCode).toBe(ExitCode.BadInput);
      expect((error as Error).message).toContain('parameters.temperature (relay 0.5, plan 0.7)');
      expect((error as Error).message).toContain('use a new version_tag');
    });

    it('getVersion', async () => {
      const { version } = await client.registerVersion(canary);
      expect(await client.getVersion('model-v2')).toEqual(version);
    });

    it('createRoute, getRoute, updateRoute with revisions', async () => {
      await seed();
      const route = await client.getRoute('code-review');
      expect(route.route_id).toBe('code-review');
      expect(route.model_alias).toBe('code-review');
      expect(route.route_rules).toEqual(rules(5));
      const update = await client.updateRoute({ route_id: 'code-review', route_rules: rules(25) });
      expect(update.status).toBe('updated');
      expect(update.route_rules).toEqual(rules(25));
      expect(update.active_version).toBe('model-v1');
      expect(update.revision).toBe((route.revision ?? 0) + 1);
      expect((await client.getRoute('code-review')).route_rules).toEqual(rules(25));
    });

    it('createRoute on an existing alias is a conflict', async () => {
      await seed();
      const e = await relayError(client.createRoute({ model_alias: 'code-review', route_rules: rules(50) }));
      expect(e.status).toBe(409);
      expect(e.type).toBe('conflict');
      expect(e.operation).toBe('POST /routes/traffic');
    });

    it('readMetrics: data under traffic, and null (no data) before any', async () => {
      await client.registerVersion(stable);
      await client.registerVersion(canary);
      const empty = await client.readMetrics({ versionTag: 'model-v2', start: T0 - 60_000, end: T0 });
      expect(empty.request_count).toBe(0);
      expect(empty.error_rate).toBeNull();
      expect(empty.latency_p99_ms).toBeNull();

      await client.createRoute({ model_alias: 'code-review', route_rules: rules(50) });
      const windowStart = clock.now();
      await clock.sleep(60_000);
      const m = await client.readMetrics({ versionTag: 'model-v2', start: windowStart, end: clock.now() });
      expect(m.version_tag).toBe('model-v2');
      expect(m.request_count).toBeGreaterThan(0);
      expect(m.error_rate).toEqual(expect.any(Number));
      expect(m.latency_p99_ms).toEqual(expect.any(Number));
    });
  });

  describe('every error type', () => {
    it('401 authentication_error names the key source, not the key', async () => {
      const wrong = makeClient({ apiKey: 'sk-wrong-key-0000', keySource: 'key file ~/.canary/key' });
      const e = await relayError(wrong.getRoute('code-review'));
      expect(e.status).toBe(401);
      expect(e.type).toBe('authentication_error');
      expect(e.message).toContain('key file ~/.canary/key');
      expect(e.message).not.toContain('sk-wrong-key-0000');
    });

    it('404 not_found names the id', async () => {
      const e = await relayError(client.getRoute('nope'));
      expect(e.status).toBe(404);
      expect(e.type).toBe('not_found');
      expect(e.message).toContain('route nope');
      const v = await relayError(client.getVersion('missing-tag'));
      expect(v.message).toContain('version missing-tag');
      const p = await relayError(client.updateRoute({ route_id: 'ghost', route_rules: rules(5) }));
      expect(p.status).toBe(404);
      expect(p.operation).toBe('PATCH /routes/traffic');
    });

    it('404 from a base URL without /v1 hints at it', async () => {
      const bare = makeClient({ baseUrl: emulator.origin });
      const e = await relayError(bare.getRoute('code-review'));
      expect(e.status).toBe(404);
      expect(e.hint).toContain(`${emulator.origin}/v1`);
    });

    it('422 validation_error shows field and message', async () => {
      const e = await relayError(client.registerVersion({ version_tag: 'Bad Tag!', model: 'm' }));
      expect(e.status).toBe(422);
      expect(e.type).toBe('validation_error');
      expect(e.field).toBe('version_tag');
      expect(e.message).toContain('field version_tag');

      await seed();
      const w = await relayError(
        client.updateRoute({
          route_id: 'code-review',
          route_rules: [
            { version_tag: 'model-v1', weight: 90 },
            { version_tag: 'model-v2', weight: 5 },
          ],
        }),
      );
      expect(w.field).toBe('route_rules');
      expect(w.operation).toBe('PATCH /routes/traffic');
    });

    it('422 for an invalid metrics window', async () => {
      await client.registerVersion(canary);
      const e = await relayError(client.readMetrics({ versionTag: 'model-v2', start: T0, end: T0 - 1000 }));
      expect(e.status).toBe(422);
      expect(e.field).toBe('end_time');
    });

    it('429 rate_limit_error that persists, after maxAttempts', async () => {
      const limited = makeClient({ retry: { maxAttempts: 3 } });
      emulator.control.injectFault({ mode: 'rate_limit', count: 10, retry_after_seconds: 2 });
      const e = await relayError(limited.getRoute('code-review'));
      expect(e.status).toBe(429);
      expect(e.type).toBe('rate_limit_error');
      expect(e.message).toContain('after 3 attempts');
    });

    it('5xx server_error that persists, after maxAttempts', async () => {
      const c = makeClient({ retry: { maxAttempts: 2 } });
      emulator.control.injectFault({ mode: 'server_error', count: 10, status: 500 });
      const e = await relayError(c.getRoute('code-review'));
      expect(e.status).toBe(500);
      expect(e.type).toBe('server_error');
    });

    it('network_error when the relay is gone, naming the host', async () => {
      const host = new URL(emulator.baseUrl).host;
      await emulator.close();
      const c = makeClient({ retry: { maxAttempts: 2 } });
      const e = await relayError(c.health());
      expect(e.type).toBe('network_error');
      expect(e.status).toBeUndefined();
      expect(e.message).toContain(host);
      expect(e.message).toContain('ECONNREFUSED');
    });
  });

  describe('retries per the contract', () => {
    it('429 honours Retry-After in virtual time, then succeeds', async () => {
      await seed();
      emulator.control.clearCalls();
      emulator.control.injectFault({ mode: 'rate_limit', count: 1, retry_after_seconds: 9 });
      const before = clock.now();
      const route = await client.getRoute('code-review');
      expect(route.route_rules).toEqual(rules(5));
      expect(clock.now() - before).toBeGreaterThanOrEqual(9_000);
      const statuses = emulator.control.calls().map((c) => c.status);
      expect(statuses).toEqual([429, 200]);
    });

    it("503 on GET is retried, then succeeds; on PATCH it is the caller's to read back", async () => {
      await seed();
      emulator.control.clearCalls();
      emulator.control.injectFault({ mode: 'server_error', count: 2, status: 503 });
      const route = await client.getRoute('code-review');
      expect(route.route_rules).toEqual(rules(5));
      expect(emulator.control.calls().map((c) => c.status)).toEqual([503, 503, 200]);
      emulator.control.injectFault({ mode: 'server_error', count: 1, status: 503 });
      const e = await relayError(client.updateRoute({ route_id: 'code-review', route_rules: rules(50) }));
      expect(e.status).toBe(503);
    });

    it('If-Match: a PATCH based on an old revision is refused with 412 and changes nothing', async () => {
      await seed();
      const before = await client.getRoute('code-review');
      const stale = (before.revision ?? 0) - 1;
      const e = await relayError(
        client.updateRoute({ route_id: 'code-review', route_rules: rules(50) }, { ifRevision: stale }),
      );
      expect(e.status).toBe(412);
      expect((await client.getRoute('code-review')).route_rules).toEqual(rules(5));
      const ok = await client.updateRoute(
        { route_id: 'code-review', route_rules: rules(50) },
        { ifRevision: before.revision },
      );
      expect(ok.revision).toBe((before.revision ?? 0) + 1);
    });

    it('POST is not retried after a 5xx response', async () => {
      emulator.control.injectFault({ mode: 'server_error', count: 1, path_prefix: '/v1/models/versions' });
      const e = await relayError(client.registerVersion(canary));
      expect(e.status).toBe(503);
      expect(postCalls('/models/versions')).toHaveLength(1);
    });

    it('POST is retried after a 429 (the relay refused it before doing anything)', async () => {
      await client.registerVersion(stable);
      await client.registerVersion(canary);
      emulator.control.injectFault({ mode: 'rate_limit', count: 1, path_prefix: '/v1/routes' });
      const route = await client.createRoute({ model_alias: 'code-review', route_rules: rules(5) });
      expect(route.route_id).toBe('code-review');
      expect(postCalls('/routes/traffic').map((c) => c.status)).toEqual([429, 201]);
    });

    it('POST after a reset is retried; the 409 for the same body then counts as success', async () => {
      // The relay stores the version, then the connection drops before the answer: the
      // emulator's reset fault answers nothing, so stage it as "created, then reset".
      await client.registerVersion(canary);
      emulator.control.clearCalls();
      emulator.control.injectFault({ mode: 'reset', count: 1, path_prefix: '/v1/models/versions' });
      const got = await client.registerVersion(canary);
      expect(got.created).toBe(false);
      expect(got.version).toMatchObject(canary);
      const posts = postCalls('/models/versions');
      expect(posts.map((c) => c.status)).toEqual([null, 409]);
    });

    it('POST after a reset that never reached the relay is retried and creates', async () => {
      emulator.control.injectFault({ mode: 'reset', count: 1, path_prefix: '/v1/models/versions' });
      const got = await client.registerVersion(canary);
      expect(got.created).toBe(true);
      expect(postCalls('/models/versions').map((c) => c.status)).toEqual([null, 201]);
    });

    it('createRoute after a reset: a 409 for our own rules is success', async () => {
      await seed();
      emulator.control.clearCalls();
      emulator.control.injectFault({ mode: 'reset', count: 1, path_prefix: '/v1/routes/traffic' });
      const route = await client.createRoute({ model_alias: 'code-review', route_rules: rules(5) });
      expect(route.route_rules).toEqual(rules(5));
      expect(emulator.control.calls().map((c) => `${c.method} ${c.status}`)).toEqual([
        'POST null',
        'POST 409',
        'GET 200',
      ]);
    });

    it('a hang times out (type timeout) and GET is retried into success', async () => {
      await seed();
      const c = makeClient({ timeouts: { headersMs: 200 } });
      emulator.control.clearCalls();
      emulator.control.injectFault({ mode: 'hang', count: 1, path_prefix: '/v1/routes' });
      const route = await c.getRoute('code-review');
      expect(route.route_id).toBe('code-review');
      expect(emulator.control.calls().map((x) => x.status)).toEqual([null, 200]);
    });

    it('a hang that persists ends in a timeout error', async () => {
      const c = makeClient({ timeouts: { headersMs: 200 }, retry: { maxAttempts: 2 } });
      emulator.control.injectFault({ mode: 'hang', count: 5 });
      const e = await relayError(c.getRoute('code-review'));
      expect(e.type).toBe('timeout');
      expect(e.message).toContain('no response within 200ms');
    });

    it('the per-call deadline stops a long Retry-After', async () => {
      emulator.control.injectFault({ mode: 'rate_limit', count: 1, retry_after_seconds: 120 });
      const before = clock.now();
      const e = await relayError(client.getRoute('code-review', { deadlineMs: 10_000 }));
      expect(e.status).toBe(429);
      expect(e.message).toContain('deadline');
      expect(clock.now()).toBe(before);
    });
  });

  describe('the key never appears in an error', () => {
    it('drives every error path and finds the key nowhere', async () => {
      const collected: unknown[] = [];
      const capture = (p: Promise<unknown>) =>
        p.then(
          () => collected.push('no error'),
          (e: unknown) => collected.push(e),
        );

      const wrong = makeClient({ apiKey: `${KEY}-wrong`, keySource: 'env RELAY_API_KEY' });
      await capture(wrong.getRoute('x'));
      await capture(client.getRoute('nope'));
      await capture(makeClient({ baseUrl: emulator.origin }).getVersion('x'));
      await capture(client.registerVersion({ version_tag: 'BAD', model: 'm' }));
      await client.registerVersion(canary);
      await capture(client.registerVersion({ ...canary, system_prompt: 'changed' }));
      await seed().catch(() => {});
      await capture(client.createRoute({ model_alias: 'code-review', route_rules: rules(5) }));
      await capture(client.updateRoute({ route_id: 'code-review', route_rules: rules(7).slice(0, 1) }));
      await capture(client.readMetrics({ versionTag: 'model-v2', start: T0, end: T0 - 1 }));
      const few = makeClient({ retry: { maxAttempts: 2 }, timeouts: { headersMs: 200 } });
      emulator.control.injectFault({ mode: 'rate_limit', count: 2 });
      await capture(few.getRoute('code-review'));
      emulator.control.injectFault({ mode: 'server_error', count: 2 });
      await capture(few.getRoute('code-review'));
      emulator.control.injectFault({ mode: 'hang', count: 2 });
      await capture(few.getRoute('code-review'));
      emulator.control.injectFault({ mode: 'reset', count: 2 });
      await capture(few.getRoute('code-review'));
      emulator.control.injectFault({ mode: 'server_error', count: 1 });
      await capture(few.registerVersion(stable));
      await emulator.close();
      await capture(few.health());

      expect(collected).toHaveLength(14);
      for (const error of collected) {
        expect(error).toBeInstanceOf(CanaryError);
        const e = error as CanaryError & { cause?: unknown };
        const text = [
          e.message,
          e.hint ?? '',
          JSON.stringify(e),
          String(e),
          e.stack ?? '',
          e.cause instanceof Error ? `${e.cause.message} ${e.cause.stack}` : JSON.stringify(e.cause ?? null),
        ].join('\n');
        expect(text).not.toContain(KEY);
      }
      const kinds = new Set(collected.map((e) => (e instanceof RelayError ? e.type : 'canary')));
      expect([...kinds].sort()).toEqual(
        [
          'authentication_error',
          'canary',
          'conflict',
          'network_error',
          'not_found',
          'rate_limit_error',
          'server_error',
          'timeout',
          'validation_error',
        ].sort(),
      );
    });
  });
});
