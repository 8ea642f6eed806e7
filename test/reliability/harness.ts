/**
 * One rollout, in-process and fast: the engine, the real relay client over loopback HTTP, the
 * emulator and the journal, all on one FakeClock. Records what the relay saw and checks the
 * four reliability invariants after (and, for the journal, during) the run.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { Plan } from '../../src/domain/plan.js';
import type { RelayPort, RouteRule } from '../../src/domain/relay.js';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { createIo } from '../../src/io.js';
import { JournalWriter, journalPath } from '../../src/journal/journal.js';
import { readJournal } from '../../src/journal/reader.js';
import { createRelayClient, type RelayClient } from '../../src/relay/client.js';
import { undiciTransport } from '../../src/relay/undici-transport.js';
import { type RolloutDeps, type RolloutResult, runRollout } from '../../src/rollout/engine.js';
import type { RolloutEvent } from '../../src/rollout/events.js';
import { parseRecords, schemaErrors } from '../output/schema-check.js';
import { makePlan, type PlanOptions } from '../rollout/harness.js';

export const KEY = 'sk-reliability-9d2c41e7b0';
export const SEC = 1000;

/** Judged on error rate only: the simulated p99 of a few hundred requests is too noisy to gate on. */
export function reliabilityPlan(opts: PlanOptions = {}): Plan {
  return makePlan({
    stages: opts.stages ?? [
      { weight: 5, bakeMs: 60 * SEC },
      { weight: 25, bakeMs: 60 * SEC },
      { weight: 50, bakeMs: 60 * SEC },
      { weight: 100, bakeMs: 0 },
    ],
    rollbackDeadlineMs: opts.rollbackDeadlineMs ?? 60 * SEC,
    analysis: {
      intervalMs: 10 * SEC,
      windowMs: 30 * SEC,
      minRequests: 50,
      failureLimit: 2,
      thresholds: { error_rate: { max: 0.03 } },
      baselineComparison: { error_rate: { max_increase: 0.02 } },
      ...opts.analysis,
    },
  });
}

export interface Run {
  plan: Plan;
  clock: FakeClock;
  emulator: StartedEmulator;
  client: RelayClient;
  events: RolloutEvent[];
  stateDir: string;
  /** Canary weights of every PATCH the relay accepted, in order. */
  patchedCanary: number[];
  /** Journal check failures seen during the run (invariant 3). */
  journalLag: string[];
  /**
   * Runs before every relay call, at the virtual time the call is made. Faults that depend on
   * time are switched here rather than from a parallel sleeper: a sleeper could wake (virtual
   * time jumps while loopback I/O is in flight) before a request it should fail has arrived.
   */
  beforeCall?: ((now: number) => void) | undefined;
  close(): Promise<void>;
}

export async function startRun(
  plan: Plan,
  opts: { seed?: number; headersMs?: number; canaryErrorRate?: number; maxAttempts?: number } = {},
): Promise<Run> {
  const clock = new FakeClock();
  const patchedCanary: number[] = [];
  const emulator = await startEmulator({
    port: 0,
    apiKey: KEY,
    clock,
    rps: 1000,
    seed: opts.seed ?? 7,
    onCall: (call) => {
      if (call.method === 'PATCH' && call.status === 200) {
        const rules = (call.body as { route_rules?: RouteRule[] } | undefined)?.route_rules ?? [];
        patchedCanary.push(rules.find((r) => r.version_tag === plan.canary.tag)?.weight ?? 0);
      }
    },
  });
  if (opts.canaryErrorRate !== undefined)
    emulator.control.setBehaviour(plan.canary.tag, { error_rate: opts.canaryErrorRate });
  emulator.control.setBehaviour(plan.baseline.tag, { error_rate: 0.005 });
  const client = createRelayClient({
    transport: undiciTransport,
    baseUrl: emulator.baseUrl,
    apiKey: KEY,
    keySource: 'env RELAY_API_KEY',
    clock,
    random: () => 0.5,
    ...(opts.maxAttempts ? { retry: { maxAttempts: opts.maxAttempts } } : {}),
    timeouts: { headersMs: opts.headersMs ?? 2000, bodyMs: opts.headersMs ?? 2000 },
  });
  const stateDir = mkdtempSync(path.join(tmpdir(), 'canary-reliability-'));
  return {
    plan,
    clock,
    emulator,
    client,
    events: [],
    stateDir,
    patchedCanary,
    journalLag: [],
    async close() {
      await client.close();
      await emulator.close();
    },
  };
}

/** Runs the plan with the journal wired exactly as `canary rollout` does (journal before reporter). */
export async function execute(
  run: Run,
  deps: Partial<RolloutDeps> = {},
  options: Parameters<typeof runRollout>[2] = {},
): Promise<RolloutResult> {
  const io = createIo({
    stdout: { write: () => true },
    stderr: { write: () => true },
    stdin: process.stdin,
    env: {},
    cwd: '/',
  });
  io.addSecret(KEY);
  const journal = new JournalWriter(
    { stateDir: run.stateDir, route: run.plan.route, redact: io.redact, warn: (m) => run.journalLag.push(m) },
    {
      command: 'rollout',
      at: run.clock.now(),
      route: run.plan.route,
      baseline: run.plan.baseline.tag,
      canary: run.plan.canary.tag,
      relay: run.emulator.baseUrl,
      apiKeyEnv: 'RELAY_API_KEY',
    },
  );
  const file = journalPath(run.stateDir, run.plan.route);
  // Invariant 3, checked at every call to the relay: every event emitted so far is on disk.
  const onDisk = () => {
    const records = readJournal(file).filter((r) => r.run === journal.run && r.type !== 'run_started');
    if (records.length !== run.events.length) {
      run.journalLag.push(`${run.events.length} events emitted, ${records.length} journaled`);
    }
  };
  const relay = new Proxy(run.client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        onDisk();
        run.beforeCall?.(run.clock.now());
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as RelayPort;
  try {
    return await runRollout(
      run.plan,
      {
        clock: run.clock,
        relay,
        emit: (event) => {
          journal.append(event);
          run.events.push(event);
        },
        relayUrl: run.emulator.baseUrl,
        apiKeyEnv: 'RELAY_API_KEY',
        ...deps,
      },
      options,
    );
  } finally {
    journal.close();
  }
}

const TOL = 0.001;

/** Invariants 1–4 over a finished run. */
export function checkInvariants(run: Run, result: RolloutResult): void {
  const { plan } = run;
  const weights = plan.stages.map((s) => s.weight);

  // 1. The canary only ever moves stage by stage (never past the next stage), and once traffic
  //    goes back to the baseline it never rises again.
  let next = 0;
  let rolledBack = false;
  for (const w of run.patchedCanary) {
    if (Math.abs(w) <= TOL) {
      rolledBack = true;
      continue;
    }
    expect(rolledBack, `canary raised to ${w} after a rollback: ${run.patchedCanary}`).toBe(false);
    expect(w, `canary weights ${run.patchedCanary} skip a stage`).toBe(weights[next]);
    next++;
  }

  // 2. The route ends at a plan stage or the baseline at 100 %, and the last event says which.
  const route = run.emulator.control.getRoute(plan.route);
  const last = run.events[run.events.length - 1];
  expect(last?.type).toBe('rollout_finished');
  if (last?.type !== 'rollout_finished') return;
  if (result.outcome === 'rollback_failed') {
    expect(last.next).toMatch(/curl .*\$RELAY_API_KEY/);
  } else if (route) {
    const canary = route.route_rules.find((r) => r.version_tag === plan.canary.tag)?.weight ?? 0;
    const base = route.route_rules.find((r) => r.version_tag === plan.baseline.tag)?.weight ?? 0;
    expect(Math.abs(canary + base - 100)).toBeLessThanOrEqual(TOL);
    expect([0, ...weights]).toContain(canary);
    if (last.traffic) {
      const said = last.traffic.find((r) => r.version_tag === plan.canary.tag)?.weight ?? 0;
      expect(said, `${last.summary} vs the relay's ${canary}`).toBe(canary);
    }
    expect(last.summary).toMatch(/baseline|canary|traffic/);
    if (result.outcome === 'aborted') expect(last.next).toMatch(/canary rollback/);
  }

  // 3. Nothing lost: the journal held every event before each relay call, and holds them all now.
  expect(run.journalLag).toEqual([]);
  const records = readJournal(journalPath(run.stateDir, plan.route));
  const journaled = records
    .filter((r) => r.type !== 'run_started')
    .map(({ run: _r, seq: _s, v: _v, ...body }) => body);
  expect(journaled).toEqual(JSON.parse(JSON.stringify(run.events)));

  // 4. The key is nowhere: events, journal, the relay's call log, the result.
  const text = readFileSync(journalPath(run.stateDir, plan.route), 'utf8');
  // Each journal line, faults and aborts included, is a record of docs/events.md's contract.
  for (const line of parseRecords(text)) expect(schemaErrors(line, true), JSON.stringify(line)).toEqual([]);
  for (const blob of [
    text,
    JSON.stringify(run.events),
    JSON.stringify(run.emulator.control.calls()),
    JSON.stringify(result),
  ]) {
    expect(blob).not.toContain(KEY);
  }
}
