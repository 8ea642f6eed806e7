/**
 * Emulators for the tests that spawn the CLI: on free loopback ports, in this test process so a
 * test can read a route's weights or inject a fault while the CLI runs.
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RouteRule } from '../../src/domain/relay.js';
import {
  type EmulatorHandle,
  type EmulatorOptions,
  type StartedEmulator,
  startEmulator,
} from '../../src/emulator/index.js';
import { ROOT } from './spawn.js';

/** The API key the spawned rollout tests share (each file may still choose its own). */
export const E2E_KEY = 'e2e-safe-exits-key-7d41f0';

export interface ExampleEmulators {
  /** examples/scenarios/healthy.yaml: a canary that should be promoted. */
  healthy: EmulatorHandle;
  /** examples/scenarios/failing.yaml: a canary that breaks at 25 %. */
  failing: EmulatorHandle;
  close(): Promise<void>;
}

/**
 * An emulator serving examples/scenarios/<scenario>.yaml on a free loopback port. The rate and
 * seed are the caller's: each test file keeps its own seed so its runs replay.
 */
export function startExampleEmulator(
  scenario: string,
  opts: Pick<EmulatorOptions, 'apiKey' | 'onCall'> & { rps: number; seed: number },
): Promise<StartedEmulator> {
  return startEmulator({ port: 0, scenario: `${ROOT}/examples/scenarios/${scenario}.yaml`, ...opts });
}

/** 2000 simulated rps, so a 5 % stage has enough requests for a verdict in every example plan. */
export async function startExampleEmulators(apiKey: string, seed: number): Promise<ExampleEmulators> {
  const start = (scenario: 'healthy' | 'failing') =>
    startExampleEmulator(scenario, { apiKey, rps: 2000, seed });
  const [healthy, failing] = await Promise.all([start('healthy'), start('failing')]);
  return {
    healthy,
    failing,
    async close() {
      await Promise.all([healthy.close(), failing.close()]);
    },
  };
}

/** Healthy versions (examples/scenarios/healthy.yaml) at 1 000 rps, seeded, on a free port. */
export function healthyEmulator(
  seed: number,
  onCall?: EmulatorOptions['onCall'],
  apiKey = E2E_KEY,
): Promise<StartedEmulator> {
  return startExampleEmulator('healthy', { apiKey, rps: 1000, seed, ...(onCall ? { onCall } : {}) });
}

/**
 * A healthy emulator of the test's own, closed when the test ends: for tests that run at once and
 * inject faults or change a version's behaviour, which are the emulator's, not a route's.
 */
export async function ownEmulator(
  onTestFinished: (fn: () => Promise<void>) => void,
  seed: number,
  opts: { onCall?: EmulatorOptions['onCall']; apiKey?: string } = {},
): Promise<StartedEmulator> {
  const emulator = await healthyEmulator(seed, opts.onCall, opts.apiKey);
  onTestFinished(() => emulator.close());
  return emulator;
}

/** A route's weights by version tag, as the emulator holds them ({} for an unknown route). */
export function weights(
  emulator: { control: { getRoute(route: string): { route_rules: RouteRule[] } | undefined } },
  route: string,
): Record<string, number> {
  return Object.fromEntries(
    (emulator.control.getRoute(route)?.route_rules ?? []).map((r) => [r.version_tag, r.weight]),
  );
}

const jsonHeaders = (apiKey: string) => ({
  authorization: `Bearer ${apiKey}`,
  'content-type': 'application/json',
});

/** Registers each version the rules name and creates the route, through the relay API as a client would. */
export async function seedRoute(
  emulator: { baseUrl: string },
  apiKey: string,
  route: string,
  rules: RouteRule[],
  model = 'anthropic/claude-sonnet-4-20250514',
): Promise<void> {
  const headers = jsonHeaders(apiKey);
  for (const { version_tag } of rules) {
    await fetch(`${emulator.baseUrl}/models/versions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ version_tag, model }),
    });
  }
  await fetch(`${emulator.baseUrl}/routes/traffic`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model_alias: route, route_rules: rules }),
  });
}

/** Sets a route's weights as another client of the relay would (no If-Match): its answer. */
export function patchRoute(
  emulator: { baseUrl: string },
  apiKey: string,
  route: string,
  rules: RouteRule[],
): Promise<Response> {
  return fetch(`${emulator.baseUrl}/routes/traffic`, {
    method: 'PATCH',
    headers: jsonHeaders(apiKey),
    body: JSON.stringify({ route_id: route, route_rules: rules }),
  });
}

/** Passes a client's connection through to a port on loopback; either side closing ends both. */
export function forwardTo(socket: Duplex, port: number): void {
  const upstream = connect(port, '127.0.0.1');
  socket.pipe(upstream).pipe(socket);
  const done = () => {
    socket.destroy();
    upstream.destroy();
  };
  socket.on('error', done);
  upstream.on('error', done);
  socket.on('close', done);
}
