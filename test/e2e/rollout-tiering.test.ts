/**
 * A rollout against a relay runs without V8's optimising compiler once it is talking to the
 * relay (src/rollout-tiering.ts), one with the emulator inside it keeps it, and the code cache
 * the launcher makes at exit is still the one the next rollout accepts. Runs a private copy of
 * bin/ and dist/, so the other tests' caches are left alone.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, privateBuild, runCli } from '../helpers/index.js';

const KEY = 'tiering-key-51c9';
let emulator: StartedEmulator;
let copy: string;
let bin: string;
/** The same launcher copy, with V8 told to print its tiering decisions (set at run time, as the launcher sets its own flags). */
let tracingBin: string;

beforeAll(async () => {
  ({ dir: copy, bin } = privateBuild('canary-tiering-'));
  tracingBin = path.join(copy, 'bin', 'tracing.cjs');
  writeFileSync(
    tracingBin,
    `require('node:v8').setFlagsFromString('--trace-opt');\nrequire('./canary.cjs');\n`,
  );
  emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 1000, seed: 3 });
});

afterAll(async () => {
  await emulator.close();
});

let routes = 0;
function plan(url: string): string {
  const file = path.join(copy, `plan-${routes}.yaml`);
  writeFileSync(
    file,
    [
      `relay: { url: '${url}' }`,
      `route: tiering-${routes++}`,
      'baseline: { version_tag: tier-base, model: m/base }',
      'canary: { version_tag: tier-canary, model: m/canary }',
      'stages: [5, 100]',
      'bake: 4s',
      'analysis:',
      '  interval: 50ms',
      '  window: 1s',
      '  min_requests: 1',
      '  failure_limit: 1000',
      '  thresholds: { error_rate: { max: 0.9 } }',
      '',
    ].join('\n'),
  );
  return file;
}

/** Functions V8 marked for optimisation after the rollout's first look (its trace lines on stdout). */
function markedAfterFirstLook(stdout: string): string[] {
  const lines = stdout.split('\n');
  const first = lines.findIndex((l) => l.startsWith('{') && l.includes('"type":"evaluation"'));
  expect(first).toBeGreaterThan(-1);
  return lines.slice(first).filter((l) => l.startsWith('[marking'));
}

const env = baseEnv({ RELAY_API_KEY: KEY, CI: 'true', NODE_DISABLE_COMPILE_CACHE: '1' });

describe('V8 tiering in a rollout process', () => {
  it('a rollout against a relay marks nothing for optimisation once it looks', async () => {
    const run = await runCli(['rollout', plan(emulator.baseUrl), '-o', 'json'], { env, bin: tracingBin });
    expect(run.code, `${run.stderr}${run.stdout.slice(-1500)}`).toBe(0);
    expect(markedAfterFirstLook(run.stdout)).toEqual([]);
  });

  it('a rollout with the emulator inside it keeps the optimiser (it simulates every request)', async () => {
    const run = await runCli(['rollout', plan('emulator'), '-o', 'json'], { env, bin: tracingBin });
    expect(run.code, `${run.stderr}${run.stdout.slice(-1500)}`).toBe(0);
    expect(markedAfterFirstLook(run.stdout).length).toBeGreaterThan(0);
  });

  it('a user’s own tiering flag is left as it is', async () => {
    const run = await runCli(['rollout', plan(emulator.baseUrl), '-o', 'json'], {
      env: { ...env, NODE_OPTIONS: '--jitless' },
      bin: tracingBin,
    });
    expect(run.code, `${run.stderr}${run.stdout.slice(-1500)}`).toBe(0);
    // --jitless: no optimiser at all, so this only shows the run works with the flag; the
    // decision itself is test/rollout/tiering.test.ts's.
    expect(markedAfterFirstLook(run.stdout)).toEqual([]);
  });

  it('the code cache made at exit is accepted by the next rollout (not written again)', async () => {
    const cacheDir = path.join(copy, 'dist', '.cache');
    const rolloutCache = () =>
      readdirSync(cacheDir)
        .filter((f) => f.endsWith('-rollout.bin'))
        .map((f) => path.join(cacheDir, f));
    const cached = baseEnv({ RELAY_API_KEY: KEY, CI: 'true' });
    const first = await runCli(['rollout', plan(emulator.baseUrl), '-o', 'json'], { env: cached, bin });
    expect(first.code, first.stderr).toBe(0);
    const [file] = rolloutCache();
    expect(file).toBeDefined();
    const made = statSync(file as string);
    const second = await runCli(['rollout', plan(emulator.baseUrl), '-o', 'json'], { env: cached, bin });
    expect(second.code, second.stderr).toBe(0);
    // The launcher replaces a cache only when V8 refused it (by rename: a new inode).
    expect(rolloutCache()).toEqual([file]);
    expect(statSync(file as string).ino).toBe(made.ino);
  });
});
