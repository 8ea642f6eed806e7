/**
 * Webhooks from a spawned rollout: delivered after the action they report, redacted in every
 * message, and never in the way — a webhook that never answers delays neither the rollback
 * PATCH nor (beyond the bounded drain) the exit.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { RECORD_VERSION } from '../../src/output/record.js';
import { baseEnv, pipelinePlanSpec, runCli, startExampleEmulator, writePlanFile } from '../helpers/index.js';

const KEY = 'hook-e2e-key-3d9f1b6c8a';
const BASE = 'claude-sonnet-4-5-v1';
const CANARY = 'claude-sonnet-4-5-v2';

interface Received {
  at: number;
  path: string;
  body: Record<string, unknown>;
}

async function receiver(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const received: Received[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      received.push({
        at: Date.now(),
        path: req.url ?? '',
        body: JSON.parse(body) as Record<string, unknown>,
      });
      open.add(res);
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    url: (p: string) => `http://127.0.0.1:${port}${p}`,
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('notify: webhooks from a spawned rollout', () => {
  let failing: EmulatorHandle;
  let good: Awaited<ReturnType<typeof receiver>>;
  let hanging: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    failing = await startExampleEmulator('failing', { apiKey: KEY, rps: 2000, seed: 21 });
    good = await receiver((_req, res) => res.writeHead(200).end('ok'));
    hanging = await receiver(() => {}); // never answers
  });
  afterAll(async () => {
    await failing?.close();
    await good?.close();
    await hanging?.close();
  });

  it('a hanging webhook delays neither the rollback nor the exit beyond the drain; the others get their notices', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-hooks-'));
    const route = `hook-route-${process.pid}`;
    const file = path.join(dir, 'plan.yaml');
    writePlanFile(
      file,
      pipelinePlanSpec(route, {
        baseline: BASE,
        canary: CANARY,
        more: {
          notify: [
            { url_env: 'SLACK_WEBHOOK_URL', format: 'slack' },
            { url_env: 'AUDIT_WEBHOOK_URL', format: 'json', events: ['started', 'rolled_back', 'failed'] },
            { url_env: 'DEAD_WEBHOOK_URL', timeout: '30s' },
          ],
        },
      }),
    );
    const slackUrl = good.url('/services/T0001/B0002/slacksecretpath');
    const auditUrl = good.url('/audit/auditsecretpath');
    const deadUrl = hanging.url('/dead/deadsecretpath');
    let finishedAt = 0;
    const result = await runCli(['rollout', file, '--relay-url', failing.baseUrl, '--output', 'json'], {
      env: baseEnv({
        RELAY_API_KEY: KEY,
        CI: 'true',
        SLACK_WEBHOOK_URL: slackUrl,
        AUDIT_WEBHOOK_URL: auditUrl,
        DEAD_WEBHOOK_URL: deadUrl,
      }),
      onStdout: (chunk) => {
        if (!finishedAt && chunk.includes('"rollout_finished"')) finishedAt = Date.now();
      },
    });
    const exitedAt = Date.now();
    expect(result.code, result.stderr).toBe(3);

    // The rollback PATCH followed the failing metrics read at once: the dead webhook (30 s
    // timeout, holding the started and stage_passed notices) did not stand in its way.
    const calls = failing.control.calls();
    const patches = calls.filter(
      (c) =>
        c.method === 'PATCH' &&
        c.path.endsWith('/routes/traffic') &&
        (c.body as { route_id?: string } | undefined)?.route_id === route,
    );
    const rollbackPatch = patches.at(-1);
    if (!rollbackPatch) throw new Error('no PATCH for the route in the emulator call log');
    const rollbackRules = (rollbackPatch.body as { route_rules: { version_tag: string; weight: number }[] })
      .route_rules;
    expect(rollbackRules.find((r) => r.version_tag === CANARY)?.weight).toBe(0);
    const rollbackAt = Date.parse(rollbackPatch.at);
    const lastRead = calls
      .filter((c) => c.method === 'GET' && c.path.includes('metrics') && Date.parse(c.at) <= rollbackAt)
      .at(-1);
    expect(rollbackAt - Date.parse(lastRead?.at ?? '')).toBeLessThan(2_000);
    expect(hanging.received.length).toBeGreaterThanOrEqual(2); // it was asked, and never answered

    // Exit within the drain bound (3 s) after the result, not after the dead webhook's 30 s timeout.
    expect(finishedAt).toBeGreaterThan(0);
    expect(exitedAt - finishedAt).toBeLessThan(10_000);
    expect(result.stderr).toMatch(/not delivered within 3s at exit/);

    // Notices after the action: rolled_back arrives once the rollback is done.
    const slack = good.received.filter((r) => r.path.startsWith('/services/'));
    const texts = slack.map((r) => String(r.body.text));
    expect(texts[0]).toMatch(new RegExp(`^canary ${route}: rollout started`));
    expect(texts.some((t) => /stage passed · stage 1\/3 · canary 10%/.test(t))).toBe(true);
    const rolledBack = slack.find((r) => String(r.body.text).includes('rolled back'));
    expect(rolledBack?.at).toBeGreaterThanOrEqual(rollbackAt);
    expect(Object.keys(slack[0]?.body ?? {})).toEqual(['text']);

    const audit = good.received.filter((r) => r.path.startsWith('/audit/')).map((r) => r.body);
    expect(audit.map((b) => b.event)).toEqual(['started', 'rolled_back']);
    expect(audit[1]).toMatchObject({
      type: 'notification',
      version: RECORD_VERSION,
      event: 'rolled_back',
      route,
      stage: null,
      outcome: 'rolled_back',
    });

    // The URLs are secrets: never printed; the dead one is named by its origin only.
    const all = result.stdout + result.stderr;
    for (const secret of ['slacksecretpath', 'auditsecretpath', 'deadsecretpath', KEY]) {
      expect(all).not.toContain(secret);
    }
    expect(result.stderr).not.toContain(deadUrl);
  });
});
