/**
 * HTTPS to the relay, with the built CLI: a TLS front with a certificate made for this test
 * (trusted through NODE_EXTRA_CA_CERTS, as a company CA would be) passing the bytes to the
 * emulator. `canary rollback` talks through the socket transport and `canary status` through
 * undici, so both are checked on a real handshake: name and address checks, SNI, and the
 * message when the certificate is not trusted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:tls';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, forwardTo, runCli, seedRoute } from '../helpers/index.js';

const KEY = 'tls-key-5b1d93e0';
const ROUTE = 'tls-route';
const half = [
  { version_tag: 'tls-v1', weight: 50 },
  { version_tag: 'tls-v2', weight: 50 },
];

let emulator: StartedEmulator;
let front: Server;
let port: number;
let caFile: string;
/** Server names the TLS front saw in client hellos (undefined: none sent). */
const serverNames: (string | undefined)[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 50, seed: 5 });
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  caFile = path.join(mkdtempSync(path.join(tmpdir(), 'canary-tls-')), 'ca.pem');
  writeFileSync(caFile, pems.cert);
  front = createServer({ key: pems.private, cert: pems.cert }, (socket) => {
    serverNames.push((socket as { servername?: string | false }).servername || undefined);
    forwardTo(socket, emulator.port);
  });
  front.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  port = (front.address() as { port: number }).port;
  await seedRoute(emulator, KEY, ROUTE, half);
});

afterAll(async () => {
  await new Promise<void>((resolve) => front.close(() => resolve()));
  await emulator.close();
});

const trusted = () => baseEnv({ RELAY_API_KEY: KEY, NODE_EXTRA_CA_CERTS: caFile });
const weightOf = async (tag: string) => {
  const route = emulator.control.getRoute(ROUTE);
  return route?.route_rules.find((r) => r.version_tag === tag)?.weight;
};

describe('a relay behind HTTPS', () => {
  it('canary rollback (socket transport) rolls back over TLS, by name with SNI and by address without', async () => {
    const byName = await runCli(
      ['rollback', '--route', ROUTE, '--to', 'tls-v1', '--relay-url', `https://localhost:${port}/v1`],
      { env: trusted() },
    );
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.stdout).toContain('tls-v1 50%, tls-v2 50% → tls-v1 100%, tls-v2 0%');
    expect(await weightOf('tls-v1')).toBe(100);
    expect(serverNames.at(-1)).toBe('localhost');

    const byAddress = await runCli(
      ['rollback', '--route', ROUTE, '--to', 'tls-v2', '--relay-url', `https://127.0.0.1:${port}/v1`],
      { env: trusted() },
    );
    expect(byAddress.code, byAddress.stderr).toBe(0);
    expect(await weightOf('tls-v2')).toBe(100);
    // A server name is never an address (RFC 6066), so none is sent.
    expect(serverNames.at(-1)).toBeUndefined();
  });

  it('canary status (undici) reads the route over TLS', async () => {
    const result = await runCli(
      ['status', '--route', ROUTE, '--relay-url', `https://localhost:${port}/v1`, '-o', 'json'],
      { env: trusted() },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n')[0] ?? '{}')).toMatchObject({
      type: 'status',
      route: { route_id: ROUTE },
    });
  });

  it('an untrusted certificate is a TLS failure, exit 5, with nothing changed and no retries', async () => {
    const before = emulator.control.calls().length;
    const result = await runCli(
      ['rollback', '--route', ROUTE, '--to', 'tls-v1', '--relay-url', `https://localhost:${port}/v1`],
      { env: baseEnv({ RELAY_API_KEY: KEY }) },
    );
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/TLS failure \((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)\)/);
    expect(result.stderr).not.toMatch(/attempts/);
    expect(result.stderr).not.toContain(KEY);
    expect(emulator.control.calls().length).toBe(before);
  });
});
