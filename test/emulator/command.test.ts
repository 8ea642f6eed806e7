import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runEmulatorCommand } from '../../src/commands/emulator.js';
import { startEmulator } from '../../src/emulator/index.js';
import { PlanError, UsageError } from '../../src/errors.js';
import { createIo } from '../../src/io.js';

function captureIo(env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const listeners: (() => void)[] = [];
  const io = createIo({
    stdout: {
      write: (s: string) => {
        stdout += s;
        for (const l of listeners) l();
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
        return true;
      },
    },
    stdin: new PassThrough(),
    env,
    cwd: process.cwd(),
  });
  const listening = new Promise<string>((resolve) => {
    listeners.push(() => {
      const match = /listening on (\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
  });
  return { io, listening, out: () => stdout, err: () => stderr };
}

const base = { port: '0', host: '127.0.0.1', rps: 200 };

describe('canary emulator', () => {
  it('serves until stopped, prints the base URL and returns 0', async () => {
    const { io, listening, out, err } = captureIo({ RELAY_API_KEY: 'env-key-abcdef' });
    const stop = new AbortController();
    const running = runEmulatorCommand({ ...base, seed: 5 }, io, { signal: stop.signal });
    const baseUrl = await listening;
    expect(out()).toBe(`canary emulator listening on ${baseUrl}\n`);
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);

    const health = await fetch(`${baseUrl}/health`);
    expect(health.status).toBe(200);
    const authed = await fetch(`${baseUrl}/models/versions/x`, {
      headers: { authorization: 'Bearer env-key-abcdef' },
    });
    expect(authed.status).toBe(404);

    stop.abort();
    expect(await running).toBe(0);
    expect(err()).toContain('RELAY_API_KEY');
    expect(err()).toContain('seed 5');
    expect(err()).toContain('GET /v1/health 200');
    expect(err()).not.toContain('env-key-abcdef');
  });

  it('falls back to dev-key and says so', async () => {
    const { io, listening, err } = captureIo();
    const stop = new AbortController();
    const running = runEmulatorCommand(base, io, { signal: stop.signal });
    const baseUrl = await listening;
    const res = await fetch(`${baseUrl}/models/versions/x`, { headers: { authorization: 'Bearer dev-key' } });
    expect(res.status).toBe(404);
    stop.abort();
    expect(await running).toBe(0);
    expect(err()).toContain("clients must send the key 'dev-key'");
  });

  it.each(['abc', '70000', '-1', ''])('rejects --port %j', async (port) => {
    const { io } = captureIo();
    const attempt = runEmulatorCommand({ ...base, port }, io);
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/--port/);
  });

  it('says clearly when the port is in use', async () => {
    const other = await startEmulator({ apiKey: 'k-1234' });
    try {
      const { io } = captureIo();
      await expect(runEmulatorCommand({ ...base, port: String(other.port) }, io)).rejects.toThrow(
        /port \d+ on 127\.0\.0\.1 is already in use/,
      );
    } finally {
      await other.close();
    }
  });

  it('refuses a non-loopback address with the default key', async () => {
    const { io } = captureIo();
    await expect(runEmulatorCommand({ ...base, host: '0.0.0.0' }, io)).rejects.toThrow(/default key/);
  });

  it('rejects a bad scenario with a PlanError naming the position', async () => {
    const file = join(tmpdir(), `canary-scenario-${process.pid}.yaml`);
    await writeFile(file, 'versions:\n  v1:\n    error_rate: 7\n');
    const { io } = captureIo();
    const attempt = runEmulatorCommand({ ...base, scenario: file }, io);
    await expect(attempt).rejects.toBeInstanceOf(PlanError);
    await expect(attempt).rejects.toThrow(/:3:17: /);
  });

  it("uses the scenario's rps and seed unless the flags say otherwise", async () => {
    const file = join(tmpdir(), `canary-scenario-rps-${process.pid}.yaml`);
    await writeFile(file, 'rps: 350\nseed: 11\n');
    const run = async (opts: Partial<typeof base> & { seed?: number }) => {
      const { io, listening, err } = captureIo();
      const stop = new AbortController();
      const running = runEmulatorCommand({ ...base, scenario: file, ...opts }, io, { signal: stop.signal });
      await listening;
      stop.abort();
      await running;
      return err();
    };
    expect(await run({})).toContain('simulating 350 requests/s per route, seed 11');
    expect(await run({ rps: 50, seed: 3 })).toContain('simulating 50 requests/s per route, seed 3');
  });
});
