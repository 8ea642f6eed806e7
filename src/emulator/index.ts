/**
 * The built-in relay emulator: a real HTTP server speaking the relay contract, with simulated
 * traffic behind the metrics, fault injection and a call log (see ./server.ts for the paths).
 */
import { randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '../clock.js';
import type { JsonValue } from '../domain/relay.js';
import { UsageError } from '../errors.js';
import { CallLog } from './call-log.js';
import { ChatCompletions } from './chat.js';
import type { ServerDeps } from './endpoints.js';
import { FaultQueue } from './faults.js';
import { RelayState } from './relay-state.js';
import { BehaviourBook, loadScenario, parseBehaviour, parseScenario, rpsSchedule } from './scenario.js';
import { createRequestListener } from './server.js';
import { TrafficSimulation } from './simulation.js';
import type { CallRecord, EmulatorControl, EmulatorHandle, Scenario } from './types.js';

export { loadScenario, parseScenario } from './scenario.js';
export * from './types.js';

export const DEFAULT_RPS = 200;

export interface EmulatorOptions {
  /** 0 picks a free port (default 0). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  apiKey: string;
  clock?: Clock;
  /** A scenario, or the path of a scenario YAML file. */
  scenario?: Scenario | string;
  /** A plan's inline `emulator.scenario` as written: read and checked like a scenario file. */
  inlineScenario?: { [key: string]: JsonValue };
  /** Simulated requests per second on each route; default: the scenario's, else 200. */
  rps?: number;
  /** Default: the scenario's, else random (see `EmulatorHandle.seed`). */
  seed?: number;
  /** Called after each API call is answered (not for /_emulator calls). */
  onCall?: (record: CallRecord) => void;
}

export interface StartedEmulator extends EmulatorHandle {
  /** The seed in use, so a run can be reproduced. */
  seed: number;
  rps: number;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startEmulator(options: EmulatorOptions): Promise<StartedEmulator> {
  const clock = options.clock ?? systemClock;
  const { scenario, rps, seed } = await readSettings(options);

  const startedAt = clock.now();
  const state = new RelayState();
  const behaviours = new BehaviourBook(scenario, startedAt, seed);
  const simulation = new TrafficSimulation(
    state,
    behaviours,
    seed,
    rpsSchedule(scenario, rps, startedAt),
    startedAt,
  );
  const faults = new FaultQueue();
  const calls = new CallLog();

  const chat = new ChatCompletions({ state, behaviours, scenario, seed, now: () => clock.now() });
  // prom-client loads only when something scrapes.
  let exposition: Promise<import('./prometheus.js').Exposition> | undefined;
  const server = createServer(
    createRequestListener({
      exposition: async () => {
        exposition ??= import('./prometheus.js').then((m) =>
          m.createExposition(simulation, {
            answers: (tag) => chat.behaviour(tag),
            latencyP50Ms: (tag) => behaviours.resolve(tag, 100, clock.now()).latency_p50_ms,
          }),
        );
        const e = await exposition;
        return { contentType: e.contentType, body: await e.render() };
      },
      apiKey: options.apiKey,
      clock,
      state,
      simulation,
      behaviours,
      faults,
      calls,
      onCall: options.onCall,
      chat,
    }),
  );
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${formatHost(host)}:${port}`;

  const control = emulatorControl({ clock, state, simulation, behaviours, faults, calls });

  let closing: Promise<void> | undefined;
  return {
    baseUrl: `${origin}/v1`,
    origin,
    port,
    seed,
    rps,
    control,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Hung (fault-injected) and keep-alive connections would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The scenario, rps and seed: each from the options, else the scenario, else the default. */
async function readSettings(
  options: EmulatorOptions,
): Promise<{ scenario: Scenario; rps: number; seed: number }> {
  const scenario: Scenario =
    options.inlineScenario !== undefined
      ? parseScenario(JSON.stringify(options.inlineScenario), 'emulator.scenario')
      : typeof options.scenario === 'string'
        ? await loadScenario(options.scenario)
        : (options.scenario ?? {});
  const rps = options.rps ?? scenario.rps ?? DEFAULT_RPS;
  if (!(rps > 0) || !Number.isFinite(rps)) throw new UsageError(`--rps must be a number above 0, got ${rps}`);
  const seed = options.seed ?? scenario.seed ?? randomInt(1, 2 ** 31 - 1);
  if (!options.apiKey) throw new UsageError('the emulator needs an API key');
  return { scenario, rps, seed };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** What a test (or a caller holding the handle) may do to a running emulator. */
function emulatorControl(
  parts: Pick<ServerDeps, 'clock' | 'state' | 'simulation' | 'behaviours' | 'faults' | 'calls'>,
): EmulatorControl {
  const { clock, state, simulation, behaviours, faults, calls } = parts;
  return {
    setBehaviour(tag, behaviour) {
      const checked = parseBehaviour(behaviour);
      simulation.advanceTag(tag, clock.now());
      behaviours.override(tag, checked);
      return behaviours.resolve(tag, 100, clock.now());
    },
    behaviour: (tag, weight = 100) => behaviours.resolve(tag, weight, clock.now()),
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    calls: () => calls.list(),
    clearCalls: () => calls.clear(),
    getRoute(routeId) {
      const route = state.routes.get(routeId);
      if (!route) return undefined;
      simulation.advanceRoute(route, clock.now());
      return state.getRoute(routeId);
    },
    simulateUntil: (now = clock.now()) => simulation.advance(now),
    stats: () => ({ ...simulation.stats(), callLogSize: calls.size }),
  };
}
