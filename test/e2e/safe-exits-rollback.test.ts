/**
 * Issue 15, items 5, 6 and 9: `canary rollback` to a relay that refuses connections, to a tag the
 * route does not know, and to a relay that answers with a redirect; and two rollouts of one
 * route racing, which the route's revision (If-Match) keeps from both writing. The built CLI,
 * spawned, against emulators on loopback.
 */

import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import {
  BASELINE,
  CANARY,
  e2eEnv as env,
  healthyEmulator,
  E2E_KEY as KEY,
  lastLine,
  lastRun,
  planYaml,
  reliabilityPlanSpec,
  runCli,
  scratch,
  seedRoute,
  weights,
} from '../helpers/index.js';

const stageRules = (canary: number) => [
  { version_tag: BASELINE, weight: 100 - canary },
  { version_tag: CANARY, weight: canary },
];

describe('canary rollback when the relay says no (spawned)', () => {
  let emulator: StartedEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 200, seed: 9 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('a relay that refuses connections: exit 5 at once, "nothing was written", for both forms', async () => {
    const closed = await startEmulator({ port: 0, apiKey: KEY });
    const url = closed.baseUrl;
    await closed.close(); // nothing listens on that port now
    const s = scratch('refused-route');
    for (const argv of [
      ['rollback', s.plan, '--relay-url', url],
      ['rollback', '--route', s.route, '--to', BASELINE, '--relay-url', url],
    ]) {
      const started = Date.now();
      const result = await runCli(argv, { env: env(), cwd: s.dir });
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).toMatch(/connection refused \(ECONNREFUSED\)/);
      expect(result.stderr).toMatch(/Nothing was written/);
      expect(result.stderr).not.toMatch(/uncertain|curl/);
      // Before: 120 s of silence. Now one attempt per call: well under the 60 s deadline.
      expect(Date.now() - started).toBeLessThan(20_000);
    }
  });

  it('a tag the route does not know (422): exit 2, nothing was changed, the tags the route holds', async () => {
    await seedRoute(emulator, KEY, 'unknown-tag-route', stageRules(25));
    const result = await runCli(
      [
        'rollback',
        '--route',
        'unknown-tag-route',
        '--to',
        'no-such-version',
        '--relay-url',
        emulator.baseUrl,
      ],
      { env: env() },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /the relay refused to put no-such-version at 100% on unknown-tag-route: .*422/,
    );
    expect(result.stderr).toMatch(
      /Nothing was changed\. The route holds claude-sonnet-4-5-v1 75%, claude-sonnet-4-5-v2 25%/,
    );
    expect(result.stderr).toMatch(/--to TAG, with TAG one of claude-sonnet-4-5-v1, claude-sonnet-4-5-v2/);
    expect(result.stderr).not.toMatch(/curl/);
    expect(weights(emulator, 'unknown-tag-route')).toEqual({ [BASELINE]: 75, [CANARY]: 25 });
  });

  it('a redirect answers at once with where it points: exit 5, nothing written', async () => {
    await seedRoute(emulator, KEY, 'redirect-route', stageRules(25));
    emulator.control.injectFault({ mode: 'redirect', count: 1000, status: 301 });
    const started = Date.now();
    const result = await runCli(
      ['rollback', '--route', 'redirect-route', '--to', BASELINE, '--relay-url', emulator.baseUrl],
      { env: env() },
    );
    emulator.control.clearFaults();
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/answered 301, a redirect to https:\/\/relay\.invalid\/v1\//);
    expect(result.stderr).toMatch(/Nothing was written/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(weights(emulator, 'redirect-route')).toEqual({ [BASELINE]: 75, [CANARY]: 25 });
  });

  it('a redirect on the PATCH only: refused at once, nothing was written', async () => {
    await seedRoute(emulator, KEY, 'redirect-patch-route', stageRules(25));
    const seen = emulator.control.calls().length;
    emulator.control.injectFault({ mode: 'redirect', count: 1000, status: 308, method: 'PATCH' });
    const result = await runCli(
      ['rollback', '--route', 'redirect-patch-route', '--to', BASELINE, '--relay-url', emulator.baseUrl],
      { env: env() },
    );
    emulator.control.clearFaults();
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/answered 308, a redirect/);
    const redirected = emulator.control
      .calls()
      .slice(seen)
      .filter((c) => c.fault === 'redirect');
    expect(redirected).toHaveLength(1);
  });
});

describe('two rollouts of one route at once: the revision decides (spawned)', () => {
  let emulator: StartedEmulator;
  let sneaky: Server;
  beforeAll(async () => {
    emulator = await healthyEmulator(3);
    // In front of the emulator: just before the first PATCH of the route goes through, the same
    // change is made by "another rollout" (a PATCH without If-Match), as two identical runs
    // started together would.
    let raced = false;
    sneaky = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        if (req.method === 'PATCH' && !raced && body.includes('raced-route')) {
          raced = true;
          await fetch(`${emulator.baseUrl}/routes/traffic`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
            body,
          });
        }
        const upstream = request(
          { host: '127.0.0.1', port: emulator.port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => sneaky.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    sneaky?.closeAllConnections();
    await new Promise((resolve) => sneaky?.close(resolve));
    await emulator?.close();
  });

  it('the run whose PATCH comes second gets 412 and stops without writing, even for the same weights', async () => {
    const s = scratch('raced-route', { bake: '2s' });
    const via = `http://127.0.0.1:${(sneaky.address() as AddressInfo).port}/v1`;
    const result = await runCli(['rollout', s.plan, '--relay-url', via, '--output', 'plain'], {
      env: env(),
      cwd: s.dir,
    });
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(weights(emulator, 'raced-route')).toEqual({ [BASELINE]: 95, [CANARY]: 5 });
    expect(result.stdout).toMatch(/changed by someone else.*stopped without writing anything/);
    expect(lastLine(result.stdout)).toMatch(/next: check who changed it; run `canary rollback/);
    const patches = emulator.control.calls().filter((c) => c.method === 'PATCH');
    expect(patches.map((c) => c.status)).toEqual([200, 412]);
    expect(lastRun(s).at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'aborted', exit_code: 5 });
  });

  it('two identical rollouts from two folders, started together: only one of them writes', async () => {
    const route = 'twin-route';
    await seedRoute(emulator, KEY, route, stageRules(0));
    const dirs = [scratch(route, { bake: '2s' }), scratch(route, { bake: '2s' })];
    for (const d of dirs)
      writeFileSync(path.join(d.dir, 'plan.yaml'), planYaml(reliabilityPlanSpec(route, { bake: '2s' })));
    const seen = emulator.control.calls().length;
    const results = await Promise.all(
      dirs.map((d) =>
        runCli(['rollout', d.plan, '--relay-url', emulator.baseUrl, '--output', 'plain'], {
          env: env(),
          cwd: d.dir,
        }),
      ),
    );
    const codes = results.map((r) => r.code).sort();
    // One promotes; the other stops: drift (5) or, if it started late, a route already at a stage (2).
    expect(codes[0]).toBe(0);
    expect([2, 5]).toContain(codes[1]);
    const applied = emulator.control
      .calls()
      .slice(seen)
      .filter((c) => c.method === 'PATCH' && c.status === 200);
    expect(applied).toHaveLength(3); // one run's three stages, never a stage written twice
    expect(weights(emulator, route)).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
  });
});
