/**
 * Shapes the emulator's parts share: simulated behaviour, scenarios, faults and the call log.
 * Field names of anything that crosses HTTP follow the wire (snake_case).
 */
import type { Route } from '../domain/relay.js';
import type { AnswerBehaviour } from './answers.js';

/** How one version behaves under simulated traffic. */
export interface Behaviour {
  /** Probability that a request fails, in [0, 1]. */
  error_rate: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  cost_per_token: number;
}

export const DEFAULT_BEHAVIOUR: Readonly<Behaviour> = Object.freeze({
  error_rate: 0.005,
  latency_p50_ms: 400,
  latency_p99_ms: 1800,
  cost_per_token: 0.000015,
});

/** A behaviour change that applies while its condition holds. Both conditions, when given, must hold. */
export interface BehaviourChange {
  when: {
    /** The version's weight on the route sending the traffic is at least this (percent). */
    weight_at_least?: number;
    /** Milliseconds since the emulator started. */
    after_ms?: number;
    /** From and until (ms since the emulator started): a bounded incident. */
    between_ms?: [number, number];
    /** Periodic bursts: for `for_ms` out of every `every_ms`, at a phase the seed chooses. */
    every_ms?: number;
    for_ms?: number;
  };
  set: Partial<Behaviour>;
}

export interface VersionScenario extends Partial<Behaviour> {
  changes?: BehaviourChange[];
  /** How this version answers on the data plane (src/emulator/answers.ts). */
  answers?: Partial<AnswerBehaviour>;
}

/** A change of the route's traffic from a moment on (ms since the emulator started). */
export interface RpsChange {
  after_ms: number;
  rps: number;
}

/** A normalised scenario (durations in ms). `parseScenario` builds one from YAML. */
export interface Scenario {
  rps?: number;
  seed?: number;
  default?: Partial<Behaviour>;
  /**
   * Changes that apply to every version at once (a shared upstream incident); they apply after
   * each version's own values and changes, so an incident overrides what a version sets.
   */
  all_versions?: { changes: BehaviourChange[] };
  versions?: Record<string, VersionScenario>;
  /** The traffic schedule, in time order: each entry's rps from its moment until the next. */
  rps_changes?: RpsChange[];
  /** Data-plane answers of every version, before each version's own `answers:`. */
  answers?: Partial<AnswerBehaviour>;
  /** How the data plane treats the X-Relay-Version pin (default honour). */
  data_plane?: { pinning?: 'honour' | 'ignore' | 'no_header' };
}

export const FAULT_MODES = [
  'rate_limit',
  'server_error',
  'hang',
  'reset',
  /** 200 with headers and half the body, then the connection is destroyed. */
  'reset_mid_body',
  /** 200 with a JSON body of the wrong shape. */
  'malformed',
  /** A 3xx (default 301) pointing elsewhere, as a load balancer or a moved service would answer. */
  'redirect',
  /** 200 with a body larger than any relay answer (5 MiB). */
  'oversized',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface Fault {
  mode: FaultMode;
  /** How many matching calls the fault answers before it is used up. */
  count: number;
  /** rate_limit: the Retry-After header, in seconds (default 1). */
  retry_after_seconds?: number;
  /** server_error: the status, 500–599 (default 503); redirect: 300–399 (default 301). */
  status?: number;
  /** Only calls with this method (e.g. `PATCH`); default any. */
  method?: string;
  /** Only calls whose path starts with this (e.g. `/v1/routes`); default every /v1 call except health. */
  path_prefix?: string;
}

/** One API call the emulator received. Headers are never kept, so the key cannot leak from here. */
export interface CallRecord {
  at: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  /** The status answered, or null when a fault hung or reset the connection. */
  status: number | null;
  /** Set when a fault decided the answer. */
  fault?: FaultMode;
  /** The parsed JSON request body, if any (large bodies are replaced by a note). */
  body?: unknown;
}

/** Sizes of the emulator's bounded stores, so tests can prove memory does not grow with time or rps. */
export interface EmulatorStats {
  /** Versions that have received simulated traffic (each owns a fixed-size series). */
  trackedVersions: number;
  /** Time buckets holding data, over all versions; capped by the ring sizes. */
  retainedBuckets: number;
  /** Upper bound of retainedBuckets per version. */
  bucketCapacityPerVersion: number;
  callLogSize: number;
  /** Simulated time reached, epoch ms. */
  simulatedUntil: number;
}

/** In-process equivalents of the `/_emulator/…` endpoints. */
export interface EmulatorControl {
  /** Changes a version's behaviour from now on (on top of the scenario). */
  setBehaviour(tag: string, behaviour: Partial<Behaviour>): Behaviour;
  /** The behaviour the version has now at the given weight (default 100). */
  behaviour(tag: string, weight?: number): Behaviour;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  calls(): CallRecord[];
  clearCalls(): void;
  getRoute(routeId: string): Route | undefined;
  /** Runs the traffic simulation up to `now` (default: the clock's now). Reads do this by themselves. */
  simulateUntil(now?: number): void;
  stats(): EmulatorStats;
}

export interface EmulatorHandle {
  /** e.g. `http://127.0.0.1:8787/v1` */
  baseUrl: string;
  /** e.g. `http://127.0.0.1:8787` */
  origin: string;
  port: number;
  control: EmulatorControl;
  close(): Promise<void>;
}
