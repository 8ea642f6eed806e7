/**
 * Others change the route, and a rollback that cannot land — the built CLI, spawned, against
 * an emulator on loopback: another client's PATCH mid-rollout, the relay's own auto-rollback,
 * and a relay that refuses every weight change while canary rolls back (exit 4 with the curl).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StartedEmulator } from '../../src/emulator/index.js';
import {
  BASELINE,
  baseEnv,
  CANARY,
  lastLine,
  maxErrorRate,
  type PlanSpec,
  patchRoute,
  reliabilityPlanSpec,
  runCli,
  startExampleEmulator,
  weights,
  writePlanFile,
} from '../helpers/index.js';

const KEY = 'e2e-drift-key-0b8f3e27';

function writePlan(route: string, spec: Partial<PlanSpec> = {}): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'canary-e2e-drift-'));
  const file = writePlanFile(path.join(dir, 'plan.yaml'), reliabilityPlanSpec(route, spec));
  return { dir, file };
}

const secondLast = (text: string) => text.trimEnd().split('\n').at(-2) ?? '';

/** An emulator of the test's own (a scenario, a seed), closed when the test ends. */
async function own(
  onTestFinished: (fn: () => Promise<void>) => void,
  scenario: 'healthy' | 'failing',
  seed: number,
): Promise<StartedEmulator> {
  const em = await startExampleEmulator(scenario, { apiKey: KEY, rps: 1000, seed });
  onTestFinished(() => em.close());
  return em;
}

// Each test has its own emulator and waits on real checks and deadlines: they run at once.
describe('drift and failed rollbacks (spawned)', { concurrent: true }, () => {
  it('another client PATCHes mid-rollout: canary stops with exit 5, keeps their weights, says what changed and when', async ({
    onTestFinished,
  }) => {
    const em = await own(onTestFinished, 'healthy', 2);
    const route = 'drift-route';
    // Stage 1 only has to pass; stage 2 bakes long enough for the other client's PATCH to land in it.
    const { dir, file } = writePlan(route, { stages: [{ weight: 5, bake: '2s' }, 25, 100], bake: '8s' });
    let patched: Promise<Response> | undefined;
    const result = await runCli(['rollout', file, '--relay-url', em.baseUrl, '--output', 'plain'], {
      env: baseEnv({ RELAY_API_KEY: KEY }),
      cwd: dir,
      onStdout: (chunk) => {
        if (patched || !chunk.includes('[stage 2/3]')) return;
        patched = patchRoute(em, KEY, route, [
          { version_tag: BASELINE, weight: 60 },
          { version_tag: CANARY, weight: 40 },
        ]);
      },
    });
    const answer = (await (await patched)?.json()) as { updated_at: string };
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(weights(em, route)).toEqual({ [BASELINE]: 60, [CANARY]: 40 });
    const out = result.stdout + result.stderr;
    expect(out).toContain(`was changed by someone else at ${answer.updated_at}`);
    expect(out).toMatch(
      /expected claude-sonnet-4-5-v1 75%, claude-sonnet-4-5-v2 25% \(revision \d+\), found claude-sonnet-4-5-v1 60%, claude-sonnet-4-5-v2 40%/,
    );
    expect(secondLast(result.stdout)).toMatch(/canary 40% \/ baseline 60%/);
    expect(lastLine(result.stdout)).toMatch(/next: check who changed it; run `canary rollback .*plan.yaml`/);
    // No write after the other party's: theirs is the last PATCH the relay saw.
    const patches = em.control.calls().filter((c) => c.method === 'PATCH');
    const lastBody = patches.at(-1)?.body as { route_rules?: { weight: number }[] } | undefined;
    expect(lastBody?.route_rules?.[0]?.weight).toBe(60);
    expect(out).not.toContain(KEY);
  });

  it("the relay's own auto-rollback mid-rollout is drift: exit 5, the relay's baseline 100 % left in place", async ({
    onTestFinished,
  }) => {
    const em = await own(onTestFinished, 'failing', 4);
    const route = 'auto-rollback-route';
    // canary's own limit is lax, so the relay's health check (5 %) acts first.
    const { dir, file } = writePlan(route, {
      stages: [25, 100],
      bake: '30s',
      analysis: maxErrorRate(0.5),
      more: {
        route_defaults: {
          health_check: {
            enabled: true,
            error_rate_threshold: 0.05,
            latency_p99_threshold_ms: 60000,
            auto_rollback: true,
          },
        },
      },
    });
    const result = await runCli(['rollout', file, '--relay-url', em.baseUrl, '--output', 'plain'], {
      env: baseEnv({ RELAY_API_KEY: KEY }),
      cwd: dir,
    });
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(weights(em, route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(result.stdout + result.stderr).toMatch(
      /changed by someone else at .*found claude-sonnet-4-5-v1 100%, claude-sonnet-4-5-v2 0%/,
    );
    expect(secondLast(result.stdout)).toMatch(/baseline claude-sonnet-4-5-v1 100%/);
    expect(lastLine(result.stdout)).toMatch(/next: .*canary rollback/);
  });

  it('a rollback the relay keeps refusing exits 4 after its deadline, printing the curl that restores the baseline', async ({
    onTestFinished,
  }) => {
    const em = await own(onTestFinished, 'failing', 6);
    const route = 'rollback-fails-route';
    const { dir, file } = writePlan(route, { stages: [25, 100], more: { rollback: { deadline: '3s' } } });
    let injected = false;
    const result = await runCli(['rollout', file, '--relay-url', em.baseUrl, '--output', 'plain'], {
      env: baseEnv({ RELAY_API_KEY: KEY }),
      cwd: dir,
      onStdout: (chunk) => {
        // Once the canary has been judged, the relay refuses every route call.
        if (injected || !chunk.includes('[check]')) return;
        injected = true;
        em.control.injectFault({ mode: 'server_error', count: 1_000_000, path_prefix: '/v1/routes' });
      },
    });
    expect(result.code, result.stdout + result.stderr).toBe(4);
    const out = result.stdout + result.stderr;
    expect(out).toContain(
      `curl -sS -X PATCH '${em.baseUrl}/routes/traffic' -H "Authorization: Bearer $RELAY_API_KEY"`,
    );
    expect(out).toContain(
      `"route_rules":[{"version_tag":"${BASELINE}","weight":100},{"version_tag":"${CANARY}","weight":0}]`,
    );
    expect(lastLine(result.stdout)).toMatch(/next: restore the baseline by hand: curl /);
    expect(out).not.toContain(KEY);
    // The printed command works: run it (with the key from the environment) and the baseline is back.
    em.control.clearFaults();
    const curl = out.match(/curl -sS -X PATCH .*?--data '[^']*'/)?.[0] as string;
    // Async: the emulator answering it lives in this process.
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    await promisify(execFile)('sh', ['-c', curl], {
      env: { ...process.env, RELAY_API_KEY: KEY },
      timeout: 20_000,
    });
    expect(weights(em, route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
  });
});
