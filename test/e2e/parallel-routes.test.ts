/**
 * Two `canary rollout` processes on two routes of one relay at the same time: canary keeps no
 * state one machine alone knows, so rollouts scale out as separate jobs (docs/scaling.md).
 * Each plan uses its own version tags and its own stage weights, so every call in the
 * emulator's log can be traced to the process that made it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, MODEL, planYaml, runCli } from '../helpers/index.js';

const KEY = 'parallel-key-2c8e41';

interface Rollout {
  route: string;
  baseline: string;
  canary: string;
  stages: number[];
}

const A: Rollout = {
  route: 'parallel-a',
  baseline: 'par-a-v1',
  canary: 'par-a-v2',
  stages: [5, 25, 50, 100],
};
const B: Rollout = {
  route: 'parallel-b',
  baseline: 'par-b-v1',
  canary: 'par-b-v2',
  stages: [10, 30, 60, 100],
};

function planOf(r: Rollout, url: string): string {
  return planYaml({
    route: r.route,
    relayUrl: url,
    baseline: r.baseline,
    canary: { version_tag: r.canary, model: MODEL, parameters: { temperature: 0.5 } },
    stages: r.stages,
    bake: '1s',
    analysis: { failure_limit: 3 },
  });
}

/** Everything a call names: its path and, in bodies and queries, routes and version tags. */
function mentions(call: { path: string; query?: Record<string, string>; body?: unknown }): string {
  return `${call.path} ${JSON.stringify(call.query ?? {})} ${JSON.stringify(call.body ?? {})}`;
}

describe('parallel rollouts on different routes', () => {
  let emulator: StartedEmulator;
  let dir: string;

  beforeAll(async () => {
    // Healthy by default (0.5 % errors); enough traffic that 5 % of it fills a 2 s window.
    emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 1000, seed: 21 });
    dir = await mkdtemp(path.join(tmpdir(), 'canary-parallel-'));
  });
  afterAll(async () => {
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('each process ends promoted, with its own weights, touching only its own route', async () => {
    const files = await Promise.all(
      [A, B].map(async (r) => {
        const file = path.join(dir, `${r.route}.yaml`);
        await writeFile(file, planOf(r, emulator.baseUrl));
        return file;
      }),
    );
    const results = await Promise.all(
      files.map((file) =>
        runCli(['rollout', file, '--relay-url', emulator.baseUrl, '--output', 'json', '--yes'], {
          env: baseEnv({ RELAY_API_KEY: KEY }),
          timeoutMs: 90_000,
        }),
      ),
    );

    for (const [i, r] of [A, B].entries()) {
      const result = results[i];
      expect(result?.code, `${r.route}: ${result?.stdout}${result?.stderr}`).toBe(0);
      const finished = result?.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; outcome?: string })
        .find((e) => e.type === 'rollout_finished');
      expect(finished?.outcome).toBe('promoted');
      const route = emulator.control.getRoute(r.route);
      const weights = Object.fromEntries((route?.route_rules ?? []).map((x) => [x.version_tag, x.weight]));
      expect(weights).toEqual({ [r.baseline]: 0, [r.canary]: 100 });
    }

    const calls = emulator.control
      .calls()
      .filter((c) => c.path.startsWith('/v1/') && c.path !== '/v1/health');
    for (const [own, other] of [
      [A, B],
      [B, A],
    ] as const) {
      const ownCalls = calls.filter((c) => {
        const text = mentions(c);
        return text.includes(own.route) || text.includes(own.baseline) || text.includes(own.canary);
      });
      expect(ownCalls.length).toBeGreaterThan(0);
      // A call that names this rollout's route or versions never names the other's.
      for (const call of ownCalls) {
        const text = mentions(call);
        expect(text, `${call.method} ${call.path}`).not.toContain(other.route);
        expect(text).not.toContain(other.baseline);
        expect(text).not.toContain(other.canary);
      }
      // The route's weight changes are exactly this plan's stages, in order: nobody else wrote them.
      const canaryWeights = ownCalls
        .filter((c) => c.method === 'PATCH' && c.path === '/v1/routes/traffic')
        .map((c) => (c.body as { route_rules: { version_tag: string; weight: number }[] }).route_rules)
        .map((rules) => rules.find((x) => x.version_tag === own.canary)?.weight ?? 0);
      expect(canaryWeights).toEqual(own.stages);
    }
  }, 120_000);
});
