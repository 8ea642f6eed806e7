/**
 * The FakeClock hazard: while loopback HTTP is in flight, a second sleeper must not be woken
 * and jump virtual time past the call. A hold keeps time still until it is released.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { heldTransport } from '../../src/relay/held-transport.js';
import { undiciTransport } from '../../src/relay/undici-transport.js';

describe('FakeClock holds', () => {
  it('wakes no sleeper while a hold is out, and resumes once it is released', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const woke: number[] = [];
    void clock.sleep(1000).then(() => woke.push(clock.now() - t0));
    const release = clock.hold();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(woke).toEqual([]);
    release();
    release(); // twice is once
    await clock.sleep(5000);
    expect(woke).toEqual([1000]);
    expect(clock.now() - t0).toBe(5000);
  });

  it('keeps time still across a slow loopback call made through a held transport', async () => {
    // The server answers after several real event-loop turns, like a busy emulator.
    const server = createServer((_req, res) => {
      let turns = 0;
      const later = () => (++turns < 50 ? setImmediate(later) : res.end('ok'));
      later();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const options = {
      origin,
      connectTimeoutMs: 5000,
      headersTimeoutMs: 5000,
      bodyTimeoutMs: 5000,
      connections: 1,
      maxHeaderBytes: 65536,
      maxBodyBytes: 65536,
    };
    try {
      for (const held of [false, true]) {
        const clock = new FakeClock();
        const t0 = clock.now();
        const transport = (held ? heldTransport(undiciTransport, clock) : undiciTransport)(options);
        // A deadline-like sleeper parked while the call is in flight.
        void clock.sleep(60_000).catch(() => {});
        await transport.request({ method: 'GET', path: '/', headers: {} });
        const elapsed = clock.now() - t0;
        await transport.close();
        // Unheld, time jumped to the sleeper's wake while the answer was on its way.
        expect(elapsed).toBe(held ? 0 : 60_000);
      }
    } finally {
      server.close();
    }
  });
});
