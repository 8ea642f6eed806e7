/**
 * What `canary rollback --route R --to TAG` loads and touches, held against the benchmark's floor
 * (bench/rollback-floor.cjs: the same two calls from a bare node:net script). Each of Node's
 * built-in modules costs start-up time, some a millisecond or more (perf_hooks through
 * `performance`, node:os, node:http, undici), and nothing in a timing-free test would notice one
 * coming back; the module list does. Which modules Node loads differs between versions, so the
 * test compares with the floor run by the same Node rather than with a fixed list.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteRule } from '../../src/domain/relay.js';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, patchRoute, ROOT, runCli, seedRoute } from '../helpers/index.js';

const KEY = 'footprint-key-51e0';
const ROUTE = 'footprint-route';
const HALF: RouteRule[] = [
  { version_tag: 'footprint-v1', weight: 50 },
  { version_tag: 'footprint-v2', weight: 50 },
];
/** Loaded by --require before the program: records the modules loaded after it, and stderr's use. */
const PRELOAD = `'use strict';
const before = new Set(process.moduleLoadList);
const stderr = Object.getOwnPropertyDescriptor(process, 'stderr');
let stderrUsed = false;
Object.defineProperty(process, 'stderr', {
  configurable: true,
  enumerable: true,
  get() { stderrUsed = true; return stderr.get.call(process); },
});
process.on('exit', () => {
  const loaded = process.moduleLoadList.filter((m) => !before.has(m));
  require('node:fs').writeFileSync(process.env.FOOTPRINT_OUT, JSON.stringify({ loaded, stderrUsed }));
});
`;

interface Footprint {
  loaded: string[];
  stderrUsed: boolean;
}

let emulator: StartedEmulator;
let dir: string;
let preload: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'canary-footprint-'));
  preload = path.join(dir, 'preload.cjs');
  writeFileSync(preload, PRELOAD);
  emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 50, seed: 6 });
  await seedRoute(emulator, KEY, ROUTE, HALF);
});

afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

async function resetRoute(): Promise<void> {
  const res = await patchRoute(emulator, KEY, ROUTE, HALF);
  expect(res.status).toBe(200);
}

/** Runs one script with the preload from a fresh half-and-half route; returns what it loaded. */
async function footprint(bin: string, args: string[], name: string): Promise<Footprint> {
  await resetRoute();
  const out = path.join(dir, `${name}.json`);
  const run = await runCli(args, {
    bin,
    env: baseEnv({ RELAY_API_KEY: KEY, NODE_OPTIONS: `--require ${preload}`, FOOTPRINT_OUT: out }),
  });
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toBe('');
  return JSON.parse(readFileSync(out, 'utf8')) as Footprint;
}

const ROLLBACK = ['rollback', '--route', ROUTE, '--to', 'footprint-v1'];

describe('canary rollback --route R --to TAG', () => {
  beforeAll(async () => {
    // Measured warm, as every rollback after the first one is: without a code cache the shim
    // also looks in the user's cache folder (node:os), and the first run writes the cache.
    await resetRoute();
    const warm = await runCli([...ROLLBACK, '--relay-url', emulator.baseUrl], {
      env: baseEnv({ RELAY_API_KEY: KEY }),
    });
    expect(warm.code, warm.stderr).toBe(0);
  });

  it('loads no built-in module the bare floor script does not, but node:vm for its code cache, parseArgs and the signal binding', async () => {
    const port = new URL(emulator.baseUrl).port;
    const floor = await footprint(
      path.join(ROOT, 'bench', 'rollback-floor.cjs'),
      [port, ROUTE, 'footprint-v1'],
      'floor',
    );
    const canary = await footprint(
      path.join(ROOT, 'bin', 'canary.cjs'),
      [...ROLLBACK, '--relay-url', emulator.baseUrl],
      'canary',
    );
    // The floor really talked to the relay over node:net; an empty list would prove nothing.
    expect(floor.loaded).toContain('NativeModule net');
    const extra = canary.loaded.filter((m) => !floor.loaded.includes(m));
    // node:vm compiles the bundle with its code cache; parseArgs reads the flags from the same
    // declaration commander reads in the full CLI (≈ 0.5 ms, docs/benchmarks.md); signal_wrap
    // is the binding behind process.on('SIGINT'): a Ctrl-C during the rollback is answered
    // (src/commands/rollback-interrupt.ts); with its abort signal it costs ≈ 1 ms (docs/benchmarks.md).
    expect(extra.sort()).toEqual(
      [
        'Internal Binding signal_wrap',
        'NativeModule internal/util/parse_args/parse_args',
        'NativeModule internal/util/parse_args/utils',
        'NativeModule vm',
      ].sort(),
    );
  });

  it('never sets up stderr when it has nothing to say there', async () => {
    const canary = await footprint(
      path.join(ROOT, 'bin', 'canary.cjs'),
      [...ROLLBACK, '--relay-url', emulator.baseUrl],
      'quiet',
    );
    expect(canary.stderrUsed).toBe(false);
  });
});
