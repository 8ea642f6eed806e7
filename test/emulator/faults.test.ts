import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallLog } from '../../src/emulator/call-log.js';
import { until } from '../helpers/index.js';
import { BASELINE, CANARY, type Harness, KEY, startHarness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  await h.registerBoth();
});
afterEach(async () => {
  await h.emulator.close();
});

const inject = (fault: Record<string, unknown>) =>
  h.call('POST', '/_emulator/faults', { origin: true, body: fault });

describe('fault injection', () => {
  it('answers the next N calls with 429 and Retry-After, then recovers; health is spared', async () => {
    expect((await inject({ mode: 'rate_limit', count: 2, retry_after_seconds: 7 })).status).toBe(201);
    expect((await h.call('GET', '/health', { key: null })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await h.call('GET', `/models/versions/${CANARY}`);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.body.error.type).toBe('rate_limit_error');
    }
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(200);
  });

  it('defaults Retry-After to 1 and server errors to 503, and takes another 5xx status', async () => {
    await inject({ mode: 'rate_limit', count: 1 });
    expect((await h.call('GET', `/models/versions/${CANARY}`)).headers.get('retry-after')).toBe('1');
    await inject({ mode: 'server_error', count: 1 });
    await inject({ mode: 'server_error', count: 1, status: 502 });
    const first = await h.call('GET', `/models/versions/${CANARY}`);
    expect(first.status).toBe(503);
    expect(first.body.error.type).toBe('server_error');
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(502);
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(200);
  });

  it('limits a fault to a path prefix', async () => {
    h.emulator.control.injectFault({ mode: 'server_error', count: 1, path_prefix: '/v1/routes' });
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(200);
    expect((await h.call('GET', '/routes/traffic/any')).status).toBe(503);
    expect((await h.call('GET', '/routes/traffic/any')).status).toBe(404);
  });

  it('can target health when the prefix says so', async () => {
    await inject({ mode: 'server_error', count: 1, path_prefix: '/v1/health' });
    expect((await h.call('GET', '/health', { key: null })).status).toBe(503);
  });

  it('resets the connection', async () => {
    await inject({ mode: 'reset', count: 1 });
    await expect(h.call('GET', `/models/versions/${CANARY}`)).rejects.toThrow();
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(200);
  });

  it('hangs until the client gives up, and close() still finishes', async () => {
    await inject({ mode: 'hang', count: 2 });
    const aborted = fetch(`${h.emulator.baseUrl}/models/versions/${CANARY}`, {
      headers: { authorization: `Bearer ${KEY}` },
      signal: AbortSignal.timeout(150),
    });
    await expect(aborted).rejects.toThrow(/abort|timeout/i);
    // The second hung call is never answered; closing the emulator ends it.
    const pending = fetch(`${h.emulator.baseUrl}/models/versions/${CANARY}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    // Closed once the emulator holds that call (it logs a hung call when it takes it), so the
    // close is what ends it, however slowly the request arrives.
    await until(
      'the second hung call',
      () => h.emulator.control.calls().filter((c) => c.fault === 'hang').length >= 2,
    );
    await h.emulator.close();
    await expect(pending).rejects.toThrow();
  });

  it('limits a fault to a method', async () => {
    await inject({ mode: 'server_error', count: 1, method: 'PATCH' });
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(200);
    const patched = await h.call('PATCH', '/routes/traffic', {
      body: { route_id: 'nope', route_rules: [{ version_tag: BASELINE, weight: 100 }] },
    });
    expect(patched.status).toBe(503);
  });

  it('answers a redirect with a Location, a malformed 200, and an oversized 200', async () => {
    await inject({ mode: 'redirect', count: 1, status: 307 });
    await inject({ mode: 'malformed', count: 1 });
    await inject({ mode: 'oversized', count: 1 });
    const redirect = await fetch(`${h.emulator.baseUrl}/models/versions/${CANARY}`, {
      headers: { authorization: `Bearer ${KEY}` },
      redirect: 'manual',
    });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toMatch(/^https:\/\//);
    const malformed = await h.call('GET', `/models/versions/${CANARY}`);
    expect(malformed.status).toBe(200);
    expect(malformed.body.route_rules).toBe('all of them');
    const oversized = await h.call('GET', `/models/versions/${CANARY}`);
    expect(oversized.status).toBe(200);
    expect(JSON.stringify(oversized.body).length).toBeGreaterThan(5 * 1024 * 1024);
  });

  it('resets the connection half-way through a 200 body', async () => {
    await inject({ mode: 'reset_mid_body', count: 1 });
    const res = await fetch(`${h.emulator.baseUrl}/models/versions/${CANARY}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(200);
  });

  it('clears faults', async () => {
    await inject({ mode: 'server_error', count: 5 });
    expect((await h.call('DELETE', '/_emulator/faults', { origin: true })).status).toBe(200);
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(200);
    h.emulator.control.injectFault({ mode: 'server_error', count: 5 });
    h.emulator.control.clearFaults();
    expect((await h.call('GET', `/models/versions/${CANARY}`)).status).toBe(200);
  });

  it.each([
    [{ mode: 'explode', count: 1 }, 'mode'],
    [{ mode: 'rate_limit', count: 0 }, 'count'],
    [{ mode: 'server_error', count: 1, status: 404 }, 'status'],
    [{ mode: 'server_error', count: 1, status: 302 }, 'status'],
    [{ mode: 'redirect', count: 1, status: 503 }, 'status'],
    [{ mode: 'server_error', count: 1, method: 'TRACE' }, 'method'],
    [{ mode: 'server_error', count: 1, path_prefix: 'v1' }, 'path_prefix'],
    [{ mode: 'server_error', count: 1, colour: 'red' }, 'colour'],
  ])('rejects the fault %j with 422 field %s', async (fault, field) => {
    const res = await inject(fault);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ type: 'validation_error', field });
  });

  it('does not apply faults to /_emulator calls', async () => {
    await inject({ mode: 'server_error', count: 1, path_prefix: '/' });
    expect((await h.call('GET', '/_emulator/calls', { origin: true })).status).toBe(200);
  });
});

describe('call log', () => {
  it('records API calls with query, status and body, never the key, and not /_emulator calls', async () => {
    await h.call('DELETE', '/_emulator/calls', { origin: true });
    await h.call('POST', '/routes/traffic', {
      body: { model_alias: 'r', route_rules: [{ version_tag: BASELINE, weight: 100 }] },
    });
    await h.call('GET', `/metrics/versions?version_tag=${CANARY}&start_time=x&end_time=y`);
    await inject({ mode: 'rate_limit', count: 1 });
    await h.call('GET', '/routes/traffic/r');
    await inject({ mode: 'reset', count: 1 });
    await h.call('GET', '/routes/traffic/r').catch(() => undefined);

    const res = await h.call('GET', '/_emulator/calls', { origin: true });
    expect(res.body.calls).toEqual([
      {
        at: '2026-11-21T10:00:00Z',
        method: 'POST',
        path: '/v1/routes/traffic',
        status: 201,
        body: { model_alias: 'r', route_rules: [{ version_tag: BASELINE, weight: 100 }] },
      },
      {
        at: '2026-11-21T10:00:00Z',
        method: 'GET',
        path: '/v1/metrics/versions',
        query: { version_tag: CANARY, start_time: 'x', end_time: 'y' },
        status: 422,
      },
      {
        at: '2026-11-21T10:00:00Z',
        method: 'GET',
        path: '/v1/routes/traffic/r',
        status: 429,
        fault: 'rate_limit',
      },
      {
        at: '2026-11-21T10:00:00Z',
        method: 'GET',
        path: '/v1/routes/traffic/r',
        status: null,
        fault: 'reset',
      },
    ]);
    expect(JSON.stringify(res.body)).not.toContain(KEY);
    expect(h.emulator.control.calls()).toHaveLength(4);

    h.emulator.control.clearCalls();
    expect(h.emulator.control.calls()).toEqual([]);
  });

  it('keeps only the newest calls', () => {
    const log = new CallLog(3);
    for (let i = 0; i < 5; i++) log.add({ at: String(i), method: 'GET', path: '/v1/x', status: 200 });
    expect(log.list().map((c) => c.at)).toEqual(['2', '3', '4']);
    expect(log.size).toBe(3);
  });
});
