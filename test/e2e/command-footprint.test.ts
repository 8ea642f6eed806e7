/**
 * What the commands with a bundle of their own (scripts/build-checks.mjs LIGHT_COMMANDS) load.
 * `canary validate` runs in pre-commit hooks and editors, `status` and `history` at a terminal
 * during incidents; each of Node's built-ins costs start-up time (node:http ≈ 3 ms, node:crypto
 * ≈ 2 ms, node:v8 ≈ 2 ms here) and nothing in a timing-free test would notice one coming back;
 * the module list does.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, runCli, seedRoute } from '../helpers/index.js';

const KEY = 'light-key-2b7e';
const PRELOAD = `'use strict';
const before = new Set(process.moduleLoadList);
process.on('exit', () => {
  const loaded = process.moduleLoadList.filter((m) => !before.has(m));
  require('node:fs').writeFileSync(process.env.FOOTPRINT_OUT, JSON.stringify(loaded));
});
`;

let emulator: StartedEmulator;
let dir: string;
let preload: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'canary-light-'));
  preload = path.join(dir, 'preload.cjs');
  writeFileSync(preload, PRELOAD);
  emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 50, seed: 8 });
  await seedRoute(emulator, KEY, 'light-route', [
    { version_tag: 'light-v1', weight: 90 },
    { version_tag: 'light-v2', weight: 10 },
  ]);
});

afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The built-in modules a run loaded, by name (`NativeModule net` → `net`). */
async function builtins(args: string[], name: string, code = 0): Promise<string[]> {
  const out = path.join(dir, `${name}.json`);
  const run = await runCli(args, {
    env: baseEnv({ RELAY_API_KEY: KEY, NODE_OPTIONS: `--require ${preload}`, FOOTPRINT_OUT: out }),
  });
  expect(run.code, run.stderr).toBe(code);
  return (JSON.parse(readFileSync(out, 'utf8')) as string[])
    .filter((m) => m.startsWith('NativeModule '))
    .map((m) => m.slice('NativeModule '.length));
}

describe('commands with a bundle of their own load only what they use', () => {
  it('validate: no HTTP, no crypto (the plan hash is computed only for JSON), no V8 flags', async () => {
    const loaded = await builtins(['validate', 'examples/quickstart.yaml'], 'validate');
    for (const name of ['http', 'https', 'crypto', 'v8']) expect(loaded).not.toContain(name);
    // Its output, to a pipe here, is written with fs.writeSync (src/direct-output.ts): Node's
    // stream for a pipe (node:net and the stream modules, ≈ 2.5 ms) is never built.
    for (const name of ['net', 'stream', 'tty']) expect(loaded).not.toContain(name);
  });

  it('validate -o json still reports the plan hash', async () => {
    const run = await runCli(['validate', 'examples/quickstart.yaml', '-o', 'json'], { env: baseEnv({}) });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).summary.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('status: plain sockets, no node:http, no V8 flags', async () => {
    const loaded = await builtins(
      ['status', '--route', 'light-route', '--relay-url', emulator.baseUrl, '-o', 'plain'],
      'status',
    );
    expect(loaded).toContain('net');
    for (const name of ['http', 'crypto', 'v8']) expect(loaded).not.toContain(name);
  });

  it('history: no HTTP, no crypto, no V8 flags', async () => {
    const loaded = await builtins(['history', '--state-dir', dir], 'history');
    for (const name of ['http', 'crypto', 'v8']) expect(loaded).not.toContain(name);
  });

  it('pause (and the other control commands): a socket, no HTTP, no crypto, no V8 flags', async () => {
    // No rollout is running: the command looks, finds no socket, and exits 6.
    const loaded = await builtins(['pause', '--route', 'light-route', '--state-dir', dir], 'pause', 6);
    for (const name of ['http', 'crypto', 'v8']) expect(loaded).not.toContain(name);
  });
});
