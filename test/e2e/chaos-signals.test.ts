/**
 * Chaos (issue 15): seeded rollouts, fresh and resumed, each sent SIGHUP, SIGTERM, SIGINT or
 * kill -9 at a random moment. After each, with a bare `canary rollback` from the journal where
 * the process could not clean up (kill -9), the test checks what canary promises on every exit:
 * - the canary never held more than a stage of the plan (every PATCH the relay saw is a stage's
 *   weights or the baseline's, and stages only go up until a rollback);
 * - the route ends at a plan stage or at the baseline 100 %;
 * - the journal parses, line by line;
 * - the last line says what the route shows.
 * Where the signal lands depends on the machine; what is asserted does not. Bounded: a fixed
 * number of runs of a few seconds each, so it fits CI on two cores.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedEmulator } from '../../src/emulator/index.js';
import {
  BASELINE,
  CANARY,
  e2eEnv as env,
  healthyEmulator,
  lastLine,
  lockExists,
  runCli,
  scratch,
  weights,
} from '../helpers/index.js';

const SEED = 0x15c4a05;
const RUNS = 8;
const SIGNALS = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGKILL'] as const;
const STAGES = [5, 25, 100];
const EXIT: Record<(typeof SIGNALS)[number], number> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
  SIGKILL: -1,
};

/** mulberry32: a small seeded generator, so a failing case can be replayed from its index. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Each run is its own folder and route (the PATCHes judged are its route's): they run at once.
describe('chaos: signals at random points of seeded rollouts (spawned)', { concurrent: true }, () => {
  let emulator: StartedEmulator;
  beforeAll(async () => {
    emulator = await healthyEmulator(7);
  });
  afterAll(async () => {
    await emulator?.close();
  });

  const next = random(SEED);
  const cases = Array.from({ length: RUNS }, (_, i) => ({
    i,
    signal: SIGNALS[i % SIGNALS.length] as (typeof SIGNALS)[number],
    resumed: i % 2 === 1,
    delayMs: Math.round(150 + next() * 3500),
  }));

  it.each(cases)(
    'run $i: $signal after $delayMs ms (resumed: $resumed)',
    async ({ i, signal, resumed, delayMs }) => {
      const s = scratch(`chaos-${i}`, { bake: '1s' });
      const args = ['rollout', s.plan, '--relay-url', emulator.baseUrl, '--output', 'plain', '--yes'];
      if (resumed) {
        const held = await runCli([...args, '--until-stage', '1'], { env: env(), cwd: s.dir });
        expect(held.code, held.stderr).toBe(0);
      }
      const seen = emulator.control.calls().length;

      let timer: NodeJS.Timeout | undefined;
      const result = await runCli(args, {
        env: env(),
        cwd: s.dir,
        onStdout: (_chunk, child) => {
          timer ??= setTimeout(() => child.kill(signal), delayMs);
        },
      });
      clearTimeout(timer);

      // Every weight the relay was asked to set is a stage's or the baseline's, never more.
      const patches = emulator.control
        .calls()
        .slice(seen)
        .filter((c) => c.method === 'PATCH' && (c.body as { route_id?: string })?.route_id === s.route)
        .map((c) => (c.body as { route_rules: { version_tag: string; weight: number }[] }).route_rules);
      let highest = resumed ? (STAGES[0] ?? 0) : 0;
      for (const rules of patches) {
        const canary = rules.find((r) => r.version_tag === CANARY)?.weight ?? 0;
        expect([0, ...STAGES]).toContain(canary);
        if (canary > 0) {
          expect(canary).toBeGreaterThanOrEqual(highest); // stages only go up until a rollback
          highest = canary;
        }
      }

      // Every signal but kill -9 is answered by canary, to the very end: one that lands once the
      // run's outcome is decided (even in the instant before the exit) leaves that outcome and
      // its exit code; none meets Node's default action (a death by signal, code null).
      if (signal !== 'SIGKILL') expect(result.signal, result.stderr).toBeNull();
      const finished = result.code === 0;
      if (signal === 'SIGKILL' && !finished) {
        expect(result.signal).toBe('SIGKILL');
        const rollback = await runCli(['rollback'], { env: env(), cwd: s.dir });
        if (weights(emulator, s.route)[CANARY] !== undefined) expect(rollback.code, rollback.stderr).toBe(0);
      } else if (!finished) {
        expect(result.code, result.stderr).toBe(EXIT[signal]);
      }
      if (signal !== 'SIGKILL') expect(lockExists(s)).toBe(false);

      // The route ends at a plan stage or the baseline. A signal that lands in the pre-flight
      // (early on a loaded machine) comes before the route exists: then nothing was created, and
      // the last line says so (below).
      const w = weights(emulator, s.route);
      const canary = w[CANARY] ?? 0;
      expect([0, ...STAGES]).toContain(canary);
      if (Object.keys(w).length > 0) expect((w[BASELINE] ?? 0) + canary).toBe(100);

      // The journal parses, line by line.
      const file = path.join(s.dir, '.canary', `${s.route}.journal.ndjson`);
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        // kill -9 before the journal was opened: nothing was changed (checked below).
        expect(canary).toBe(0);
      }
      for (const line of text.split('\n').filter((l) => l.trim() !== ''))
        expect(() => JSON.parse(line)).not.toThrow();

      // The last line says what the route shows.
      if (finished) {
        expect(lastLine(result.stdout)).toMatch(/promoted/);
        expect(canary).toBe(100);
      } else if (signal !== 'SIGKILL') {
        const last = lastLine(result.stderr);
        if (canary === 0)
          expect(last).toMatch(/rolled back to the baseline|stopped before changing anything/);
        else expect(last).toContain(`${CANARY} ${canary} %`);
        expect(last).toMatch(new RegExp(`exit ${EXIT[signal]}$`));
      }
    },
  );
});
