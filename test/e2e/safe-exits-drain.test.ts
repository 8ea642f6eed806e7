/**
 * Signals to the very end: the built CLI, spawned, against an emulator on loopback, with a
 * `notify:` webhook that never answers, so the exit waits on the webhooks' drain (up to 3 s).
 * A SIGTERM in that drain, once the run's outcome is decided (the journal has ended), must not
 * meet Node's default action: the outcome and its exit code stand, the drain gives up at once,
 * the HTML report is written and the last lines say what the signal cut short. The same for
 * `canary rollback plan.yaml`, whose notices are drained after the rollback is done.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASELINE,
  CANARY,
  E2E_KEY,
  e2eEnv,
  lastLine,
  lastRun,
  lockExists,
  ownEmulator,
  rolloutArgs,
  runCli,
  type Scratch,
  scratch,
  seedRoute,
  until,
  weights,
} from '../helpers/index.js';

/** A webhook receiver that takes every notice and never answers. */
async function deadReceiver() {
  const received: { event: unknown; path: string }[] = [];
  const open: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ event: (JSON.parse(body) as { event?: unknown }).event, path: req.url ?? '' });
      open.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    /** The notices that reached it for one route's URL. */
    noticesFor: (route: string) => received.filter((r) => r.path.startsWith(`/${route}/`)),
    url: (route: string) => `${origin}/${route}/deadsecretpath`,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let dead: Awaited<ReturnType<typeof deadReceiver>>;
beforeAll(async () => {
  dead = await deadReceiver();
});
afterAll(async () => {
  await dead?.close();
});

/** A short plan whose every notice goes to the dead webhook (30 s timeout: each stays in flight). */
function deadHookScratch(route: string): { s: Scratch; env: Record<string, string> } {
  const s = scratch(route, {
    bake: '1s',
    more: { notify: [{ url_env: 'DEAD_WEBHOOK_URL', format: 'json', timeout: '30s' }] },
  });
  return { s, env: e2eEnv({ DEAD_WEBHOOK_URL: dead.url(route) }) };
}

/** The run's last record (its outcome), once the journal has ended: outcome written, lock released. */
const journalEnded = (s: Scratch) => () => {
  const last = lastRun(s).at(-1);
  const ended = last?.type === 'rollout_finished' || last?.type === 'run_ended';
  return ended && !lockExists(s) ? last : undefined;
};

/** The last lines of a run's stderr, oldest first. */
const tail = (stderr: string, n: number) => stderr.trimEnd().split('\n').slice(-n);

// Each test has its own emulator (versions are the emulator's), route, folder and webhook URL:
// they run at once.
describe('a signal in the exit drain (spawned)', { concurrent: true }, () => {
  it('after a promotion: exit 0, the report written, the drain cut at once and the last lines say so', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 18);
    const { s, env } = deadHookScratch('drain-promoted-route');
    const report = path.join(s.dir, 'report.html');
    let signalled = false;
    const result = await runCli(rolloutArgs(emulator.baseUrl, s.plan, '--report', report), {
      env,
      cwd: s.dir,
      onStdout: (_chunk, child) => {
        if (signalled) return;
        signalled = true;
        // The journal's end is the outcome decided; the dead webhook holds the exit in the drain.
        void until('the journal to end', journalEnded(s)).then(() => child.kill('SIGTERM'));
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
    expect(lastLine(result.stdout)).toMatch(/promoted/);
    expect(journalEnded(s)()).toMatchObject({ outcome: 'promoted', exit_code: 0 });
    expect(lockExists(s)).toBe(false);
    expect(readFileSync(report, 'utf8')).toMatch(/^<!doctype html>/i);

    // Every notice it sent is still in flight (none answered): all of them are named undelivered.
    const sent = dead.noticesFor(s.route);
    expect(sent.map((n) => n.event)).toContain('promoted');
    const [journalLine, late] = tail(result.stderr, 2);
    expect(journalLine).toMatch(/^journal: /);
    expect(late).toBe(
      `terminated (SIGTERM) after the run's outcome was decided: webhook delivery cut short, ${sent.length} webhook notices not delivered; the outcome stands: promoted, traffic: ${BASELINE} 0%, ${CANARY} 100%; exit 0`,
    );
    // Cut by the signal, not given up at the bound.
    expect(result.stderr).not.toMatch(/not delivered within 3s at exit/);
    expect(result.stderr).not.toContain('deadsecretpath');
  });

  it('a second signal after one that rolled the run back: exit 143 stands, the drain is cut, the final line stays last', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 18);
    const { s, env } = deadHookScratch('drain-second-route');
    let first = false;
    let second = false;
    const result = await runCli(rolloutArgs(emulator.baseUrl, s.plan, '--yes'), {
      env,
      cwd: s.dir,
      onStdout: (chunk, child) => {
        if (!first && chunk.includes('[weights]')) {
          first = true;
          child.kill('SIGTERM');
          void until('the journal to end', journalEnded(s)).then(() => {
            second = true;
            child.kill('SIGTERM');
          });
        }
      },
    });
    expect(second).toBe(true);
    expect(result.code, result.stderr).toBe(143);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    const [journalLine, late, final] = tail(result.stderr, 3);
    expect(journalLine).toMatch(/^journal: /);
    expect(late).toMatch(
      /^terminated \(SIGTERM\) after the run's outcome was decided: webhook delivery cut short, \d+ webhook notices? not delivered$/,
    );
    expect(final).toMatch(
      /^terminated \(SIGTERM\): rolled back to the baseline \(--on-interrupt rollback\); traffic: .*; exit 143$/,
    );
    expect(result.stderr).not.toMatch(/not delivered within 3s at exit/);
    expect(journalEnded(s)()).toMatchObject({ outcome: 'interrupted', exit_code: 143 });
  });

  it('canary rollback plan.yaml: a signal while its notice is drained leaves the rollback and exit 0', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 18);
    const { s, env } = deadHookScratch('drain-rollback-route');
    await seedRoute(emulator, E2E_KEY, s.route, [
      { version_tag: BASELINE, weight: 75 },
      { version_tag: CANARY, weight: 25 },
    ]);
    let signalled = false;
    const result = await runCli(['rollback', s.plan, '--relay-url', emulator.baseUrl, '-m', 'drain test'], {
      env,
      cwd: s.dir,
      onStdout: (_chunk, child) => {
        if (signalled) return;
        signalled = true;
        // Printed first, then told: once the notice has reached the dead webhook, the drain waits.
        void until('the notice at the webhook', () => dead.noticesFor(s.route).length > 0).then(() =>
          child.kill('SIGTERM'),
        );
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`rolled back ${s.route}`);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(lastLine(result.stderr)).toBe(
      "terminated (SIGTERM) after the rollback: webhook delivery cut short, 1 webhook notice not delivered; the rollback's outcome and exit code stand",
    );
    expect(existsSync(path.join(s.dir, '.canary'))).toBe(false); // no journal to record in: none was made
  });

  it('a signal right after the last lines, in the instant before the exit: the exit is still the run’s own', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 18);
    // No webhooks: nothing holds the exit, so the signal lands at the very end (or just after it).
    const s = scratch('drain-last-instant-route', { bake: '1s' });
    let signalled = false;
    let stderr = '';
    const result = await runCli(rolloutArgs(emulator.baseUrl, s.plan), {
      env: e2eEnv(),
      cwd: s.dir,
      onStderr: (chunk, child) => {
        stderr += chunk;
        if (signalled || !/^journal: /m.test(stderr)) return;
        signalled = true;
        child.kill('SIGTERM');
      },
    });
    expect(signalled).toBe(true);
    expect(result.signal, result.stderr).toBeNull(); // never Node's default action
    expect(result.code, result.stderr).toBe(0);
    expect(lastLine(result.stdout)).toMatch(/promoted/);
    expect(lastLine(result.stderr)).toMatch(/^journal: /);
  });
});
