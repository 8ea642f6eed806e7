/**
 * The emulator's data plane over real HTTP, read by canary's own data-plane client: pinned,
 * deterministic answers per version and seed, streamed with a measurable first token, and the
 * scenario keys that make a canary answer badly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type EmulatorHandle, parseScenario, startEmulator } from '../../src/emulator/index.js';
import { createHttpDataPlane } from '../../src/evaluation/data-plane.js';

const KEY = 'chat-test-key-123';
const V1 = 'v-one';
const V2 = 'v-two';
let emulators: EmulatorHandle[] = [];
afterEach(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  emulators = [];
});

async function start(scenarioYaml = '', seed = 11): Promise<EmulatorHandle> {
  const emulator = await startEmulator({
    apiKey: KEY,
    seed,
    rps: 10,
    scenario: parseScenario(scenarioYaml, 's.yaml'),
  });
  emulators.push(emulator);
  for (const tag of [V1, V2]) {
    await fetch(`${emulator.baseUrl}/models/versions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version_tag: tag, model: `provider/${tag}` }),
    });
  }
  return emulator;
}

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  messages: [{ role: 'user', content }],
  max_tokens: 200,
  ...extra,
});

type Plane = ReturnType<typeof createHttpDataPlane>;
const planeFor = (emulator: EmulatorHandle, connections: number, apiKey = KEY): Plane =>
  createHttpDataPlane({ baseUrl: emulator.baseUrl, apiKey, connections });

/** One request through canary's data-plane client, pinned to `version`: streamed, on route r, 5 s. */
const complete = (
  plane: Plane,
  version: string,
  request: ReturnType<typeof ask>,
  opts: { route?: string; timeoutMs?: number; stream?: boolean } = {},
) =>
  plane.complete({
    version,
    route: opts.route ?? 'r',
    request,
    timeoutMs: opts.timeoutMs ?? 5000,
    stream: opts.stream ?? true,
  });

describe('POST /v1/chat/completions on the emulator', () => {
  it('answers a pinned request from that version, on topic, the same way for the same seed', async () => {
    const emulator = await start();
    const plane = planeFor(emulator, 2);
    const call = (version: string, stream: boolean) =>
      complete(plane, version, ask('How do refunds work for annual plans?'), {
        route: 'no-route-yet',
        stream,
      });
    const a = await call(V1, true);
    const b = await call(V1, false);
    const c = await call(V2, true);
    await plane.close();
    expect(a).toMatchObject({ status: 200, servedBy: V1, finishReason: 'stop' });
    expect(a.content).toContain('refunds');
    expect(b.content).toBe(a.content); // streamed or not, the same answer
    expect(c.servedBy).toBe(V2);
    expect(a.ttftMs).not.toBeNull();
    expect(a.ttftMs as number).toBeLessThanOrEqual(a.latencyMs);
    expect(b.ttftMs).toBeNull();
    expect(a.completionTokens).toBeGreaterThan(0);
    expect(a.cost).toBeGreaterThan(0);

    const again = await start('', 11);
    const plane2 = planeFor(again, 1);
    const d = await complete(plane2, V1, ask('How do refunds work for annual plans?'), { route: 'x' });
    await plane2.close();
    expect(d.content).toBe(a.content);
  });

  it('builds JSON from the request json_schema, and breaks it when the scenario says so', async () => {
    const schema = {
      type: 'object',
      properties: { severity: { enum: ['low', 'high'] }, n: { type: 'integer' } },
      required: ['severity', 'n'],
    };
    const emulator = await start(`versions:\n  ${V2}:\n    answers: { expectation_failure_rate: 1 }\n`);
    const plane = planeFor(emulator, 2);
    const request = ask('rate it', {
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
    });
    const good = await complete(plane, V1, request);
    const bad = await complete(plane, V2, request);
    await plane.close();
    expect(JSON.parse(good.content as string)).toEqual({ severity: 'low', n: 3 });
    expect(() => {
      const parsed = JSON.parse(bad.content as string);
      if (parsed.severity === undefined) throw new Error('missing');
    }).toThrow();
  });

  it('refuses, rambles, fails upstream and rate-limits as the scenario says', async () => {
    const emulator = await start(
      `answers: { ttft_ms: 0, ms_per_token: 0 }\nversions:\n  ${V1}:\n    answers: { refusal_rate: 1, style: verbose }\n  ${V2}:\n    answers: { error_rate: 1 }\n`,
    );
    const plane = planeFor(emulator, 2);
    const refused = await complete(plane, V1, ask('anything at all'));
    const failed = await complete(plane, V2, ask('anything at all'));
    await plane.close();
    expect(refused.content).toBe("I'm sorry, but I can't help with that request.");
    expect(failed).toMatchObject({ status: 502, content: null, errorType: 'upstream_error', servedBy: V2 });

    const limited = await start(`versions:\n  ${V2}:\n    answers: { rate_limit_rate: 1 }\n`);
    const plane2 = planeFor(limited, 1);
    const r = await complete(plane2, V2, ask('x'), { stream: false });
    await plane2.close();
    expect(r).toMatchObject({ status: 429, errorType: 'rate_limit_error' });
  });

  it('waits ttft_ms before the first token (real time: the client measures it)', async () => {
    const emulator = await start(`versions:\n  ${V2}:\n    answers: { ttft_ms: 150, ms_per_token: 0 }\n`);
    const plane = planeFor(emulator, 1);
    const slow = await complete(plane, V2, ask('hello there'));
    await plane.close();
    expect(slow.ttftMs as number).toBeGreaterThanOrEqual(140);
  });

  it('an unknown pinned version is 404; unpinned, an alias with no route is 404', async () => {
    const emulator = await start();
    const plane = planeFor(emulator, 1);
    const unknown = await complete(plane, 'nope', ask('x'));
    expect(unknown).toMatchObject({ status: 404, errorType: 'not_found' });
    const res = await fetch(`${emulator.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'no-such-route', ...ask('x') }),
    });
    expect(res.status).toBe(404);
    const wrongKey = planeFor(emulator, 1, 'wrong-key-xyz');
    const denied = await complete(wrongKey, V1, ask('x'));
    await wrongKey.close();
    await plane.close();
    expect(denied.status).toBe(401);
    expect(denied.error).not.toContain('wrong-key-xyz');
  });

  it('data_plane.pinning: ignore serves by the route and says which version did', async () => {
    const emulator = await start('data_plane: { pinning: ignore }\n');
    await fetch(`${emulator.baseUrl}/routes/traffic`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model_alias: 'r',
        route_rules: [
          { version_tag: V1, weight: 100 },
          { version_tag: V2, weight: 0 },
        ],
      }),
    });
    const plane = planeFor(emulator, 1);
    const a = await complete(plane, V2, ask('x'));
    await plane.close();
    expect(a.servedBy).toBe(V1);
  });

  it('a request that outlives its timeout counts as failed, with the time it was given', async () => {
    const emulator = await start(`answers: { ttft_ms: 2000 }\n`);
    const plane = planeFor(emulator, 1);
    const late = await complete(plane, V1, ask('x'), { timeoutMs: 100 });
    await plane.close();
    expect(late).toMatchObject({ status: 0, errorType: 'timeout', error: 'no complete answer within 100ms' });
  });
});
