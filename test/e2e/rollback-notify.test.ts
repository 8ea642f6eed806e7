/**
 * Issue 17, item 5: `canary rollback -m WHY` carries its reason beyond the journal and history:
 * to the plan's `notify:` webhooks (a real receiver on loopback) when the rollback is given the
 * plan, and to `$GITHUB_STEP_SUMMARY` under GitHub Actions, for every form. The built CLI,
 * spawned, against an emulator on loopback.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { RECORD_VERSION } from '../../src/output/record.js';
import { baseEnv, runCli, seedRoute, writePlanFile } from '../helpers/index.js';

const KEY = 'rollback-notify-key-7c41e0';
const BASE = 'notify-v1';
const CANARY = 'notify-v2';
const REASON = 'support reports wrong refunds | ticket 4711';
const HALF = [
  { version_tag: BASE, weight: 50 },
  { version_tag: CANARY, weight: 50 },
];

interface Received {
  path: string;
  body: Record<string, unknown>;
}

let emulator: StartedEmulator;
let server: Server;
let hookOrigin: string;
const received: Received[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 50, seed: 17 });
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hookOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await emulator?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

function scratch(route: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'canary-rollback-notify-'));
  const plan = path.join(dir, 'plan.yaml');
  // `canary rollback plan.yaml` reads the route, the baseline and the webhooks.
  writePlanFile(plan, {
    route,
    baseline: BASE,
    canary: CANARY,
    more: {
      notify: [
        { url_env: 'SLACK_WEBHOOK_URL', format: 'slack', events: ['rolled_back', 'failed'] },
        { url_env: 'AUDIT_WEBHOOK_URL', format: 'json' },
        { url_env: 'STARTED_WEBHOOK_URL', format: 'json', events: ['started', 'promoted'] },
      ],
    },
  });
  const summary = path.join(dir, 'step-summary.md');
  const env = baseEnv({
    RELAY_API_KEY: KEY,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_ACTOR: 'octo-oncall',
    SLACK_WEBHOOK_URL: `${hookOrigin}/services/${route}/slacksecretpath`,
    AUDIT_WEBHOOK_URL: `${hookOrigin}/audit/${route}/auditsecretpath`,
    STARTED_WEBHOOK_URL: `${hookOrigin}/started/${route}/startedsecretpath`,
  });
  return { dir, plan, summary, env };
}

const hooksFor = (route: string, kind: string) =>
  received.filter((r) => r.path.startsWith(`/${kind}/${route}/`)).map((r) => r.body);

function expectNoSecret(...texts: string[]): void {
  for (const text of texts) {
    for (const secret of ['slacksecretpath', 'auditsecretpath', 'startedsecretpath', KEY]) {
      expect(text.includes(secret), `${secret} was printed`).toBe(false);
    }
  }
}

describe('canary rollback -m: the reason reaches the webhooks and the step summary', () => {
  it('with the plan: a rolled_back notice to each webhook that asked for it, with the reason and who', async () => {
    const route = 'notify-plan-route';
    await seedRoute(emulator, KEY, route, HALF);
    const s = scratch(route);
    const result = await runCli(['rollback', s.plan, '--relay-url', emulator.baseUrl, '-m', REASON], {
      env: s.env,
      cwd: s.dir,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `rolled back ${route}: ${BASE} 50%, ${CANARY} 50% → ${BASE} 100%, ${CANARY} 0%`,
    );

    const slack = hooksFor(route, 'services');
    expect(slack).toHaveLength(1);
    expect(Object.keys(slack[0] ?? {})).toEqual(['text']);
    const text = String(slack[0]?.text);
    expect(text).toMatch(new RegExp(`^canary ${route}: rolled back`));
    expect(text).toContain(REASON);
    expect(text).toContain('(GitHub @octo-oncall)');
    expect(text).toContain(`${BASE} 50%, ${CANARY} 50% → ${BASE} 100%, ${CANARY} 0%`);

    const audit = hooksFor(route, 'audit');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      type: 'notification',
      version: RECORD_VERSION,
      event: 'rolled_back',
      route,
      outcome: 'rolled_back',
      baseline: BASE,
      canary: CANARY,
      reason: REASON,
    });
    expect(String(audit[0]?.by)).toMatch(/^\S+@\S+ \(GitHub @octo-oncall\)$/);
    // Subscribed to other events only: told nothing.
    expect(hooksFor(route, 'started')).toEqual([]);

    const summary = readFileSync(s.summary, 'utf8');
    expect(summary).toContain(`rolled back to \`${BASE}\``);
    expect(summary).toContain(`**Reason:** ${REASON.replace('|', '\\|')}`);
    expect(summary).toContain('**By:** @octo-oncall with the plan');
    expect(summary).toContain(`${BASE} 50%, ${CANARY} 50% → ${BASE} 100%, ${CANARY} 0%`);
    expectNoSecret(result.stdout, result.stderr, summary);

    // Run again: nothing to change, and the notice says so (the rollback was still asked for).
    const again = await runCli(['rollback', s.plan, '--relay-url', emulator.baseUrl, '-m', 'again'], {
      env: s.env,
      cwd: s.dir,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(hooksFor(route, 'audit').at(-1)).toMatchObject({ event: 'rolled_back', reason: 'again' });
    expect(String(hooksFor(route, 'audit').at(-1)?.text)).toContain('nothing changed');
  });

  it('with the plan, a rollback the relay refuses: a failed notice and summary carry the reason and the error', async () => {
    const route = 'notify-refused-route';
    await seedRoute(emulator, KEY, route, HALF);
    const s = scratch(route);
    const result = await runCli(
      ['rollback', s.plan, '--relay-url', emulator.baseUrl, '--to', 'no-such-tag', '-m', REASON],
      { env: s.env, cwd: s.dir },
    );
    expect(result.code, result.stderr).toBe(2);
    const audit = hooksFor(route, 'audit');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ event: 'failed', outcome: 'rollback_failed', reason: REASON });
    expect(String(audit[0]?.summary)).toContain('Nothing was changed');
    expect(hooksFor(route, 'services')).toHaveLength(1);
    const summary = readFileSync(s.summary, 'utf8');
    expect(summary).toContain(`rollback of \`${route}\` to \`no-such-tag\` failed`);
    expect(summary).toContain('(exit 2)');
    expect(summary).toContain(`**Reason:** ${REASON.replace('|', '\\|')}`);
    expectNoSecret(result.stdout, result.stderr, summary);
  });

  it('--route/--to (the fast form, no plan so no webhooks): the step summary still carries the reason', async () => {
    const route = 'notify-bare-route';
    await seedRoute(emulator, KEY, route, HALF);
    const s = scratch(route);
    const before = received.length;
    const result = await runCli(
      ['rollback', '--route', route, '--to', BASE, '--relay-url', emulator.baseUrl, '-m', REASON],
      { env: s.env, cwd: s.dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(received.length).toBe(before);
    const summary = readFileSync(s.summary, 'utf8');
    expect(summary).toContain(`## ⏪ canary: \`${route}\` rolled back to \`${BASE}\``);
    expect(summary).toContain(`**Reason:** ${REASON.replace('|', '\\|')}`);
    expect(summary).toContain('**By:** @octo-oncall\n');

    // Outside GitHub Actions no summary is written, even with the variable set.
    await seedRoute(emulator, KEY, route, HALF);
    const plain = path.join(s.dir, 'not-actions.md');
    const outside = await runCli(
      ['rollback', '--route', route, '--to', BASE, '--relay-url', emulator.baseUrl, '-m', REASON],
      { env: { ...s.env, GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: plain }, cwd: s.dir },
    );
    expect(outside.code, outside.stderr).toBe(0);
    expect(existsSync(plain)).toBe(false);
  });

  it('--output json carries the reason', async () => {
    const route = 'notify-json-route';
    await seedRoute(emulator, KEY, route, HALF);
    const s = scratch(route);
    const result = await runCli(
      [
        'rollback',
        '--route',
        route,
        '--to',
        BASE,
        '--relay-url',
        emulator.baseUrl,
        '-m',
        REASON,
        '--output',
        'json',
      ],
      { env: { ...s.env, GITHUB_ACTIONS: '' }, cwd: s.dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      type: 'rollback',
      route,
      to: BASE,
      changed: true,
      reason: REASON,
    });
  });
});
