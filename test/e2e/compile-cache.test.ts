/**
 * The shim's code cache (bin/canary.cjs): written next to the bundle by a run that succeeded,
 * never by one that failed (its cache would lack the success path), used by the runs after it,
 * and written again, still accepted, once for each new shape of command line, so that it holds
 * what each shape compiles. Runs a private copy of bin/ and dist/, so the other tests' caches
 * are left alone.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, privateBuild, runCli, seedRoute } from '../helpers/index.js';

const KEY = 'cache-key-7d20c1';
let emulator: StartedEmulator;
let bin: string;
let cacheDir: string;

beforeAll(async () => {
  const copy = privateBuild('canary-cache-');
  bin = copy.bin;
  cacheDir = path.join(copy.dir, 'dist', '.cache');
  emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 50, seed: 4 });
  await seedRoute(emulator, KEY, 'cache-route', [
    { version_tag: 'cache-v1', weight: 50 },
    { version_tag: 'cache-v2', weight: 50 },
  ]);
});

afterAll(async () => {
  await emulator.close();
});

const rollbackCaches = () =>
  existsSync(cacheDir) ? readdirSync(cacheDir).filter((f) => f.endsWith('-rollback.bin')) : [];
const rollback = (env: Record<string, string>) =>
  runCli(['rollback', '--route', 'cache-route', '--to', 'cache-v1', '--relay-url', emulator.baseUrl], {
    env: baseEnv(env),
    bin,
  });

describe('the code cache', () => {
  it('is not written by a run that failed, and is by the first that succeeded', async () => {
    const failed = await rollback({});
    expect(failed.code).toBe(2);
    expect(rollbackCaches()).toEqual([]);

    const ok = await rollback({ RELAY_API_KEY: KEY });
    expect(ok.code, ok.stderr).toBe(0);
    expect(rollbackCaches()).toHaveLength(1);
  });

  it('NODE_DISABLE_COMPILE_CACHE=1 runs without reading or writing one', async () => {
    const before = rollbackCaches();
    const result = await rollback({ RELAY_API_KEY: KEY, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(result.code, result.stderr).toBe(0);
    expect(rollbackCaches()).toEqual(before);
  });

  it('an accepted cache is written again once for each new shape of command line, never by a failed run', async () => {
    const status = (flags: string[], key = KEY) =>
      runCli(['status', '--route', 'cache-route', '--relay-url', emulator.baseUrl, ...flags], {
        env: baseEnv({ RELAY_API_KEY: key }),
        bin,
      });
    const cache = () => {
      const name = readdirSync(cacheDir).find((f) => f.endsWith('-status.bin'));
      expect(name).toBeDefined();
      const { size, ino } = statSync(path.join(cacheDir, name as string));
      return { size, ino };
    };
    expect((await status(['-o', 'json'])).code).toBe(0);
    const json = cache();
    // The same shape (the output mode's value counts, not how it is spelled): left as it is.
    expect((await status(['--output=json'])).code).toBe(0);
    expect(cache()).toEqual(json);
    // The table's code, which no JSON run compiles, goes in beside what the cache held.
    expect((await status(['-o', 'plain'])).code).toBe(0);
    const plain = cache();
    expect(plain.ino).not.toBe(json.ino);
    expect(plain.size).toBeGreaterThan(json.size);
    expect((await status(['-o', 'plain'])).code).toBe(0);
    expect(cache()).toEqual(plain);
    // A new shape that fails writes nothing.
    expect((await status(['-o', 'plain', '--window', '1m'], 'not-the-key')).code).toBe(2);
    expect(cache()).toEqual(plain);
  });
});
