import { FakeClock } from '../../src/clock.js';
import { type EmulatorOptions, type StartedEmulator, startEmulator } from '../../src/emulator/index.js';

export const KEY = 'test-key-5f2c9a';
export const BASELINE = 'claude-sonnet-4-5-v1';
export const CANARY = 'claude-sonnet-4-5-v2';
export const ROUTE = 'code-review-production';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON bodies, asserted field by field in the tests
export type Json = any;

export interface Harness {
  emulator: StartedEmulator;
  clock: FakeClock;
  /** Calls the emulator with the key unless `key: null`; returns status, headers and parsed body. */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; raw?: string; key?: string | null; origin?: boolean },
  ): Promise<{ status: number; headers: Headers; body: Json }>;
  metrics(tag: string, startMs: number, endMs: number): Promise<Json>;
  registerBoth(): Promise<void>;
  createRoute(canaryWeight: number, extra?: Record<string, unknown>): Promise<Json>;
  setWeight(canaryWeight: number): Promise<Json>;
}

export async function startHarness(options: Partial<EmulatorOptions> = {}): Promise<Harness> {
  const clock = options.clock instanceof FakeClock ? options.clock : new FakeClock();
  const emulator = await startEmulator({ apiKey: KEY, clock, seed: 42, ...options });
  const call: Harness['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? KEY}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${opts.origin ? emulator.origin : emulator.baseUrl}${path}`, {
      method,
      headers,
      body,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const rules = (canaryWeight: number) => [
    { version_tag: BASELINE, weight: 100 - canaryWeight },
    { version_tag: CANARY, weight: canaryWeight },
  ];
  return {
    emulator,
    clock,
    call,
    async metrics(tag, startMs, endMs) {
      const q = new URLSearchParams({
        version_tag: tag,
        start_time: new Date(startMs).toISOString(),
        end_time: new Date(endMs).toISOString(),
      });
      const res = await call('GET', `/metrics/versions?${q}`);
      if (res.status !== 200) throw new Error(`metrics ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async registerBoth() {
      for (const tag of [BASELINE, CANARY]) {
        const res = await call('POST', '/models/versions', {
          body: { version_tag: tag, model: 'anthropic/claude-sonnet-4-20250514' },
        });
        if (res.status !== 201) throw new Error(`register ${res.status}`);
      }
    },
    async createRoute(canaryWeight, extra = {}) {
      const res = await call('POST', '/routes/traffic', {
        body: { model_alias: ROUTE, route_rules: rules(canaryWeight), ...extra },
      });
      if (res.status !== 201) throw new Error(`create route ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async setWeight(canaryWeight) {
      const res = await call('PATCH', '/routes/traffic', {
        body: { route_id: ROUTE, route_rules: rules(canaryWeight) },
      });
      if (res.status !== 200) throw new Error(`patch ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
