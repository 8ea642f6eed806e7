/**
 * `canary simulate`, run as users run it (the built CLI): the plan's engine and analysis in
 * virtual time over a few seeds, one JSON object out, exit 0 whatever it found; bad input exits 2.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORD_VERSION } from '../../src/output/record.js';
import { baseEnv, runCli } from '../helpers/index.js';

describe('canary simulate', () => {
  it('reports how the bad-canary example ends, as one JSON object', async () => {
    const r = await runCli(['simulate', 'examples/bad-canary.yaml', '--seeds', '3', '--output', 'json'], {
      env: baseEnv(),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      type: 'simulation',
      version: RECORD_VERSION,
      seeds: 3,
      rolled_back_pct: 100,
      promoted_pct: 0,
    });
    expect(out.outcomes).toEqual({ health: 3 });
    // failing.yaml breaks the canary at 25 %: decided at stage 2.
    expect(out.stage_decided).toEqual({ '2': 3 });
    for (const key of ['decision_seconds', 'failed_canary_requests', 'excess_failed_requests']) {
      expect(out[key].median).toBeGreaterThan(0);
      expect(out[key].p90).toBeGreaterThanOrEqual(out[key].median);
    }
  });

  it('prints a plain summary with a given scenario, and exits 2 on a bad scenario', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'canary-sim-'));
    const good = path.join(dir, 'equal.yaml');
    await writeFile(good, 'default: { error_rate: 0.005 }\n');
    const r = await runCli(['simulate', 'examples/quickstart.yaml', '--scenario', good, '--seeds', '2'], {
      env: baseEnv(),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^simulated 2 rollouts of examples\/quickstart\.yaml against .*equal\.yaml at 2000 requests\/s/,
    );
    expect(r.stdout).toMatch(/promoted +\d+\.\d%/);
    expect(r.stdout).toMatch(/failed canary requests +median \d+, p90 \d+/);

    const bad = path.join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'all_versions:\n  changes:\n    - when: {between: [2m, 1m]}\n      set: {error_rate: 0.1}\n',
    );
    const b = await runCli(['simulate', 'examples/quickstart.yaml', '--scenario', bad, '--seeds', '2'], {
      env: baseEnv(),
    });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/bad\.yaml:3:\d+: .*between: the second time must be after the first/);
  });

  it('exits 2 with what to do when there is no scenario, or too many seeds', async () => {
    // production.yaml talks to a real relay: no emulator.scenario to fall back on.
    const none = await runCli(['simulate', 'examples/production.yaml', '--seeds', '2'], { env: baseEnv() });
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/simulate needs a scenario: pass --scenario FILE/);
    expect(none.stderr).toMatch(/hint: .*Scenario files/);
    const many = await runCli(['simulate', 'examples/quickstart.yaml', '--seeds', '10001'], {
      env: baseEnv(),
    });
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/--seeds takes a whole number from 1 to 10000, got 10001/);
  });
});
