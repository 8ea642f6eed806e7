/** The webhook notifier against a local node:http receiver: retries, refusals, the drain bound, redaction. */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createIo } from '../../src/io.js';
import {
  NoticeMapper,
  Notifier,
  noticeBody,
  type ResolvedTarget,
  redactUrl,
  resolveTargets,
} from '../../src/notify/webhook.js';
import { RECORD_VERSION } from '../../src/output/record.js';
import type { RolloutEvent } from '../../src/rollout/events.js';
import { until } from '../helpers/index.js';
import { schemaErrors } from '../output/schema-check.js';
import { makePlan } from '../rollout/harness.js';

function testIo(env: Record<string, string | undefined> = {}) {
  let err = '';
  const io = createIo({
    stdout: { write: () => true },
    stderr: {
      write: (s: string) => {
        err += s;
        return true;
      },
    },
    stdin: new PassThrough() as never,
    env,
    cwd: '/',
  });
  return { io, stderr: () => err };
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** Answers each request with the next status (the last repeats); `hang` never answers. */
async function receiver(statuses: (number | 'hang')[]) {
  const bodies: unknown[] = [];
  const open: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      const status = statuses[Math.min(bodies.length - 1, statuses.length - 1)];
      if (status === 'hang') open.push(res);
      else res.writeHead(status ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-token-path`;
  const handle = {
    bodies,
    url,
    close: async () => {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  servers.push(handle);
  return handle;
}

const plan = makePlan({ stages: [{ weight: 5 }, { weight: 100 }] });
const started: RolloutEvent = {
  type: 'rollout_started',
  at: Date.UTC(2025, 0, 1),
  route: plan.route,
  baseline: plan.baseline.tag,
  canary: plan.canary.tag,
  stages: [],
  relay: '',
  metricsSource: 'relay',
  startStage: 0,
};
const target = (url: string, extra: Partial<ResolvedTarget> = {}): ResolvedTarget => ({
  url,
  display: redactUrl(url),
  events: ['started', 'stage_passed', 'paused', 'promoted', 'rolled_back', 'failed'],
  format: 'json',
  timeoutMs: 1_000,
  ...extra,
});

describe('webhook notifier', () => {
  it('retries a 5xx and delivers; the structured body carries the event', async () => {
    const hook = await receiver([503, 200]);
    const { io, stderr } = testIo();
    const notifier = new Notifier([target(hook.url)], plan, io, { backoffMs: 10 });
    notifier.observe(started);
    await notifier.drain(5_000);
    expect(hook.bodies).toHaveLength(2);
    expect(hook.bodies[1]).toMatchObject({
      type: 'notification',
      version: RECORD_VERSION,
      event: 'started',
      route: plan.route,
      stage: 1,
      baseline: plan.baseline.tag,
      canary: plan.canary.tag,
      time: '2025-01-01T00:00:00.000Z',
    });
    expect(schemaErrors(hook.bodies[1] as Record<string, unknown>)).toEqual([]); // docs/events.md
    expect(stderr()).toBe('');
  });

  it('does not retry a refusal (4xx), and warns with the URL redacted', async () => {
    const hook = await receiver([400]);
    const { io, stderr } = testIo();
    io.addSecret(hook.url);
    const notifier = new Notifier([target(hook.url, { format: 'slack' })], plan, io, { backoffMs: 10 });
    notifier.observe(started);
    await notifier.drain(5_000);
    expect(hook.bodies).toEqual([{ text: expect.stringContaining(`canary ${plan.route}: rollout started`) }]);
    expect(stderr()).toContain('HTTP 400');
    expect(stderr()).toContain(`${new URL(hook.url).origin}/…`);
    expect(stderr()).not.toContain('secret-token-path');
  });

  it('observe never waits, and drain gives up on a hanging webhook at its bound', async () => {
    const hook = await receiver(['hang']);
    const { io, stderr } = testIo();
    const notifier = new Notifier([target(hook.url, { timeoutMs: 60_000 })], plan, io);
    // Synchronous and void: nothing for the engine to await.
    expect(notifier.observe(started)).toBeUndefined();
    const drainStarted = performance.now();
    await notifier.drain(300);
    // Bounded by the drain, not the 60 s webhook timeout (a wide margin: this is not a speed test).
    expect(performance.now() - drainStarted).toBeLessThan(5_000);
    expect(stderr()).toMatch(/1 webhook notice not delivered within 300ms at exit; given up/);
  });

  it('a cut (a stop signal at exit) ends the drain at once: what is in flight is counted, not warned about', async () => {
    const hook = await receiver(['hang']);
    const { io, stderr } = testIo();
    const notifier = new Notifier([target(hook.url, { timeoutMs: 60_000 })], plan, io);
    notifier.observe(started);
    notifier.observe({ type: 'stage_passed', at: 1, stage: 0, weight: 5 });
    const cut = new AbortController();
    // A drain bound no test would wait out: only the cut can end this drain.
    const drained = notifier.drain(600_000, cut.signal);
    await until('both notices at the receiver', () => hook.bodies.length === 2);
    cut.abort();
    expect(await drained).toEqual({ undelivered: 2, cutShort: true });
    expect(stderr()).toBe(''); // the caller's last lines say it, not a warning
  });

  it('a cut that came before the drain ends it without waiting; with nothing in flight there is nothing to cut', async () => {
    const hook = await receiver(['hang']);
    const { io } = testIo();
    const hanging = new Notifier([target(hook.url, { timeoutMs: 60_000 })], plan, io);
    hanging.observe(started);
    expect(await hanging.drain(600_000, AbortSignal.abort())).toEqual({ undelivered: 1, cutShort: true });

    const ok = await receiver([200]);
    const delivered = new Notifier([target(ok.url)], plan, io);
    delivered.observe(started);
    const cut = new AbortController();
    expect(await delivered.drain(600_000, cut.signal)).toEqual({ undelivered: 0, cutShort: false });
    expect(ok.bodies).toHaveLength(1);
    cut.abort(); // after the drain: changes nothing
    const idle = new Notifier([target(ok.url)], plan, io);
    expect(await idle.drain(600_000, AbortSignal.abort())).toEqual({ undelivered: 0, cutShort: false });
  });

  it('the bound still ends a drain that was handed a cut nobody pulled, with the warning', async () => {
    const hook = await receiver(['hang']);
    const { io, stderr } = testIo();
    const notifier = new Notifier([target(hook.url, { timeoutMs: 60_000 })], plan, io);
    notifier.observe(started);
    expect(await notifier.drain(300, new AbortController().signal)).toEqual({
      undelivered: 1,
      cutShort: false,
    });
    expect(stderr()).toMatch(/1 webhook notice not delivered within 300ms at exit; given up/);
  });

  it('sends only the events a target asked for', async () => {
    const hook = await receiver([200]);
    const { io } = testIo();
    const notifier = new Notifier([target(hook.url, { events: ['rolled_back'] })], plan, io);
    notifier.observe(started);
    notifier.observe({ type: 'stage_passed', at: 1, stage: 0, weight: 5 });
    await notifier.drain(2_000);
    expect(hook.bodies).toEqual([]);
  });
});

describe('notice mapping and targets', () => {
  it('maps outcomes: promoted, rolled back (also after an interrupt that rolled back), failed, held → nothing', () => {
    const finished = (outcome: string) =>
      ({
        type: 'rollout_finished',
        at: 1,
        outcome,
        exitCode: 0,
        route: plan.route,
        traffic: null,
        summary: 's',
      }) as RolloutEvent;
    const m = new NoticeMapper(plan);
    expect(m.map(finished('promoted'))?.event).toBe('promoted');
    expect(m.map(finished('rolled_back'))?.event).toBe('rolled_back');
    expect(m.map(finished('aborted'))?.event).toBe('failed');
    expect(m.map(finished('rollback_failed'))?.event).toBe('failed');
    expect(m.map(finished('held'))).toBeUndefined();
    expect(m.map(finished('interrupted'))?.event).toBe('failed');
    m.map({ type: 'rolled_back', at: 1, rules: [], durationMs: 1 });
    expect(m.map(finished('interrupted'))?.event).toBe('rolled_back');
    expect(m.map({ type: 'paused', at: 1, stage: 0, weight: 5 })).toMatchObject({
      event: 'paused',
      stage: 1,
    });
  });

  it('slack bodies are {text} only', () => {
    const notice = new NoticeMapper(plan).map(started);
    if (!notice) throw new Error('no notice');
    expect(Object.keys(JSON.parse(noticeBody(notice, 'slack')))).toEqual(['text']);
  });

  it('reads URLs from env vars, registers them as secrets, and skips (with a warning) what is unset', () => {
    const { io, stderr } = testIo({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B2/abcdef' });
    const targets = resolveTargets(
      [
        { urlEnv: 'SLACK_WEBHOOK_URL', events: ['failed'], format: 'slack', timeoutMs: 5_000 },
        { urlEnv: 'MISSING_URL', events: ['failed'], format: 'json', timeoutMs: 5_000 },
      ],
      io,
    );
    expect(targets).toEqual([
      {
        url: 'https://hooks.slack.com/services/T1/B2/abcdef',
        display: 'https://hooks.slack.com/…',
        events: ['failed'],
        format: 'slack',
        timeoutMs: 5_000,
      },
    ]);
    expect(stderr()).toContain('notify[1]: MISSING_URL is not set');
    expect(io.redact('posting to https://hooks.slack.com/services/T1/B2/abcdef')).toBe(
      'posting to [REDACTED]',
    );
  });
});
