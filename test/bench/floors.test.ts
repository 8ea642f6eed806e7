/**
 * The benchmark's floor scripts read answers with Content-Length or chunked (as a relay behind a
 * proxy sends them), so the floors work against any relay, not only the emulator.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BENCH = path.resolve(import.meta.dirname, '../../bench');
let server: Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const rules = [
        { version_tag: 'v1-é', weight: 50 },
        { version_tag: 'v2', weight: 50 },
      ];
      let answer: unknown = { route_id: 'r', route_rules: rules };
      if (req.method === 'PATCH') answer = { status: 'updated', route_rules: JSON.parse(body).route_rules };
      if (req.url?.startsWith('/v1/metrics')) answer = { request_count: 10, error_rate: 0 };
      const text = JSON.stringify(answer);
      // No Content-Length: Node sends it chunked, here in three writes, one splitting a character.
      res.writeHead(200, { 'content-type': 'application/json' });
      const bytes = Buffer.from(text);
      res.write(bytes.subarray(0, 20));
      res.write(bytes.subarray(20, 33));
      res.end(bytes.subarray(33));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('floor scripts against a relay that answers chunked', () => {
  it('rollback-floor reads the route and patches it', async () => {
    const { stdout } = await run(
      process.execPath,
      [path.join(BENCH, 'rollback-floor.cjs'), String(port), 'r', 'v2'],
      {
        env: { ...process.env, RELAY_API_KEY: 'k' },
      },
    );
    expect(stdout).toBe('r: [{"version_tag":"v1-é","weight":0},{"version_tag":"v2","weight":100}]\n');
  });

  it('evaluation-floor makes three calls per evaluation', async () => {
    seen.length = 0;
    const { stdout } = await run(
      process.execPath,
      [path.join(BENCH, 'evaluation-floor.cjs'), String(port), 'r', 'v2', 'v1', '10', '3'],
      { env: { ...process.env, RELAY_API_KEY: 'k' } },
    );
    expect(JSON.parse(stdout)).toEqual({ evaluations: 3 });
    expect(seen.filter((s) => s.startsWith('GET /v1/routes/traffic/r'))).toHaveLength(3);
    expect(seen.filter((s) => s.startsWith('GET /v1/metrics/versions?version_tag=v2'))).toHaveLength(3);
  });
});
