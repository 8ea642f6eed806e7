/**
 * The pre-traffic evaluation at a real terminal (node-pty): its table stays on screen above the
 * live view, and a failing canary's worst prompts are shown side by side before the exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StartedEmulator } from '../../src/emulator/index.js';
import { baseEnv, ROOT, startExampleEmulator, writePlanFile } from '../helpers/index.js';
import { type PtyRun, spawnPty } from '../helpers/pty.js';

const API_KEY = 'pty-eval-key-71c3e0';
vi.setConfig({ testTimeout: 120_000 });

let dir: string;
let emulator: StartedEmulator;
let run: PtyRun | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canary-pty-eval-'));
  emulator = await startExampleEmulator('bad-answers', { apiKey: API_KEY, rps: 1000, seed: 11 });
});

afterEach(async () => {
  run?.kill();
  run = undefined;
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('evaluation at a terminal', () => {
  it('draws the table and the worst prompts side by side, then exits 3 with nothing moved', async () => {
    const file = join(dir, 'plan.yaml');
    writePlanFile(file, {
      route: 'pty-eval',
      stages: [10, 100],
      bake: '10m',
      more: {
        evaluation: {
          prompts: `${ROOT}/examples/prompts/code-review.jsonl`,
          thresholds: { expectation_pass_rate: { min: 0.9 } },
        },
      },
    });
    run = spawnPty(['rollout', file, '--relay-url', emulator.baseUrl], {
      env: baseEnv({ RELAY_API_KEY: API_KEY, TERM: 'xterm-256color' }),
    });
    // The helper reports the exit once every byte before it is read (test/helpers/pty-drain.ts).
    const exit = await run.exited;
    const screen = run.screen();
    expect(exit.code, screen).toBe(3);
    expect(screen).toContain('pre-traffic evaluation FAILED');
    expect(screen).toMatch(/expectations met\s+│ 100\.0%\s+│ \d+\.\d%\s+│ min fail/);
    expect(screen).toMatch(/baseline answer\s+│ canary answer/);
    expect(screen).toMatch(/✗ rejected: the pre-traffic evaluation failed: .*no traffic was moved/);
    expect(
      emulator.control.getRoute('pty-eval')?.route_rules.find((r) => r.version_tag === 'claude-sonnet-4-5-v2')
        ?.weight,
    ).toBe(0);
    expect(screen).not.toContain(API_KEY);
  });
});
