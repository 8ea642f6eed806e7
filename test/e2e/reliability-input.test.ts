/**
 * Bad flags and unsafe credentials: every bad value is refused with exit 2 and a message
 * naming the flag (in-process through main()), and the key-file, plain-http and key-leak rules
 * hold for the built CLI (spawned).
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import type { StartedEmulator } from '../../src/emulator/index.js';
import { createIo } from '../../src/io.js';
import {
  BASELINE,
  baseEnv,
  CANARY,
  runCli,
  scratchCwd,
  startExampleEmulator,
  writePlanFile,
} from '../helpers/index.js';

const KEY = 'e2e-input-key-c71d0a9f44';

async function inProcess(argv: string[]) {
  let out = '';
  let err = '';
  const stdin = new PassThrough();
  stdin.end();
  const io = createIo({
    stdout: {
      write: (s: string) => {
        out += s;
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
    },
    stdin,
    env: { RELAY_API_KEY: KEY },
    cwd: scratchCwd(),
  });
  const code = await main(argv, io);
  return { code, out, err };
}

const PLAN = 'examples/quickstart.yaml';

describe('bad flag values are refused, naming the flag', () => {
  it.each([
    [['status', '--route', 'r', '--window', 'banana'], /--window|window/],
    [['emulator', '--rps', '-1'], /--rps/],
    [['emulator', '--rps', 'lots'], /--rps/],
    [['emulator', '--seed', '1.5'], /--seed/],
    [['emulator', '--port', '99999'], /--port|port/],
    [['emulator', '--port', 'http'], /--port|port/],
    [['rollout', PLAN, '--output', 'xml'], /--output|output/],
    [['rollback', '--route', 'r', '--to', 'v', '--output', 'xml'], /--output|output/],
    [['status', PLAN, '--output', 'xml'], /--output|output/],
    [['validate', PLAN, '--output', 'xml'], /--output|output|xml/],
    [['history', '--output', 'xml'], /--output|output/],
    [['rollout', PLAN, '--bogus'], /--bogus/],
    [['rollback', '--nope'], /--nope/],
    [['history', '--frobnicate'], /--frobnicate/],
    [['rollout'], /plan/],
    [['nonsense'], /nonsense/],
    [['rollout', PLAN, '--relay-url', 'ftp://relay/v1'], /relay|url|http/i],
  ])('%j', async (argv, pattern) => {
    const { code, out, err } = await inProcess(argv);
    expect(code, out + err).toBe(2);
    expect(err).toMatch(pattern);
    expect(err).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(out + err).not.toContain(KEY);
  });
});

// Independent runs (own folders, routes and key files) that wait on the relay or its absence: at once.
describe('credentials and transport (spawned)', { concurrent: true }, () => {
  let emulator: StartedEmulator;
  beforeAll(async () => {
    emulator = await startExampleEmulator('healthy', { apiKey: KEY, rps: 1000, seed: 8 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('a key file readable by others is refused with the chmod that fixes it; after chmod 600 it is used', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-e2e-keyfile-'));
    const keyFile = path.join(dir, 'relay.key');
    writeFileSync(keyFile, `${KEY}\n`);
    chmodSync(keyFile, 0o644);
    const args = [
      'rollback',
      '--route',
      'nope',
      '--to',
      'v1',
      '--relay-url',
      emulator.baseUrl,
      '--api-key-file',
      keyFile,
    ];
    const refused = await runCli(args, { env: baseEnv() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`chmod 600 ${keyFile}`);
    expect(refused.stdout + refused.stderr).not.toContain(KEY);
    chmodSync(keyFile, 0o600);
    const used = await runCli(args, { env: baseEnv() });
    expect(used.stderr).not.toContain('chmod');
    expect(used.code).toBe(5); // authenticated; the route just does not exist
    expect(used.stderr).toMatch(/nope/);
    expect(used.stdout + used.stderr).not.toContain(KEY);
  });

  it('plain http:// to a non-loopback host is refused unless --allow-insecure-http', async () => {
    // 0.0.0.0 is not a loopback name, and nothing listens on port 1: the allowed run fails fast.
    const args = ['status', '--route', 'r', '--relay-url', 'http://0.0.0.0:1/v1'];
    const refused = await runCli(args, { env: baseEnv({ RELAY_API_KEY: KEY }) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Refusing plain http .*--allow-insecure-http/);
    const allowed = await runCli([...args, '--allow-insecure-http'], {
      env: baseEnv({ RELAY_API_KEY: KEY }),
    });
    expect(allowed.stderr).not.toMatch(/Refusing/);
    expect(allowed.code).toBe(5); // it tried, and could not reach the relay
    expect(allowed.stderr).toMatch(/could not reach the relay/);
    expect(allowed.stdout + allowed.stderr).not.toContain(KEY);
  });

  it('the key is in no output stream, journal or event line of a promotion, a rollback, a drift and a failure', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-e2e-leak-'));
    const failing = await startExampleEmulator('failing', { apiKey: KEY, rps: 1000, seed: 8 });
    try {
      const plan = (route: string) => {
        const file = path.join(dir, `${route}.yaml`);
        writePlanFile(file, {
          route,
          baseline: { version_tag: BASELINE, model: 'm' },
          canary: { version_tag: CANARY, model: 'm', parameters: { temperature: 0.5 } },
          stages: [25, 100],
          bake: '2s',
        });
        return file;
      };
      const env = baseEnv({ RELAY_API_KEY: KEY });
      const runs = [
        await runCli(['rollout', plan('leak-ok'), '--relay-url', emulator.baseUrl, '--output', 'json'], {
          env,
          cwd: dir,
        }),
        await runCli(['rollout', plan('leak-bad'), '--relay-url', failing.baseUrl, '--output', 'plain'], {
          env,
          cwd: dir,
        }),
        await runCli(['rollback', '--route', 'leak-bad', '--relay-url', failing.baseUrl], { env, cwd: dir }),
        await runCli(['status', '--route', 'leak-ok', '--relay-url', emulator.baseUrl, '--output', 'json'], {
          env,
          cwd: dir,
        }),
        await runCli(['history', '--output', 'json'], { env, cwd: dir }),
        // A wrong key: the error names the env var, and shows neither key.
        await runCli(['rollout', plan('leak-auth'), '--relay-url', emulator.baseUrl], {
          env: baseEnv({ RELAY_API_KEY: `${KEY}-wrong` }),
          cwd: dir,
        }),
      ];
      expect(runs.map((r) => r.code)).toEqual([0, 3, 0, 0, 0, 2]);
      for (const r of runs) {
        expect(r.stdout + r.stderr).not.toContain(KEY);
      }
      expect(runs[5]?.stderr).toContain('RELAY_API_KEY');
      const journals = readdirSync(path.join(dir, '.canary'));
      expect(journals.filter((f) => f.endsWith('.journal.ndjson')).length).toBeGreaterThanOrEqual(3);
      for (const f of journals) expect(readFileSync(path.join(dir, '.canary', f), 'utf8')).not.toContain(KEY);
      expect(
        JSON.stringify(emulator.control.calls()) + JSON.stringify(failing.control.calls()),
      ).not.toContain(KEY);
    } finally {
      await failing.close();
    }
  });
});
