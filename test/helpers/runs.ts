/**
 * A spawned rollout's surroundings: a scratch folder with its plan, the journal as records, the
 * last line of a stream, an action run once when the CLI's output shows a given line, and a wait
 * for something to happen (an event), never for a fixed time.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { E2E_KEY } from './emulators.js';
import { type PlanSpec, planYaml, reliabilityPlanSpec } from './plan.js';
import { baseEnv, type RunOptions } from './spawn.js';

/** A clean environment with E2E_KEY as RELAY_API_KEY. */
export const e2eEnv = (extra: Record<string, string | undefined> = {}) =>
  baseEnv({ RELAY_API_KEY: E2E_KEY, ...extra });

/** `canary rollout PLAN --relay-url URL --output plain …`. */
export const rolloutArgs = (relayUrl: string, plan: string, ...more: string[]) => [
  'rollout',
  plan,
  '--relay-url',
  relayUrl,
  '--output',
  'plain',
  ...more,
];

export interface Scratch {
  dir: string;
  plan: string;
  route: string;
}

/** A temporary folder holding plan.yaml: the reliability plan for `route`, changed by `spec`. */
export function scratch(route: string, spec: Partial<PlanSpec> = {}): Scratch {
  const dir = mkdtempSync(path.join(tmpdir(), `canary-e2e-${route}-`));
  const plan = path.join(dir, 'plan.yaml');
  writeFileSync(plan, planYaml(reliabilityPlanSpec(route, spec)));
  return { dir, plan, route };
}

/** The journal's records (in the scratch folder's .canary/), [] before there is one. */
export function journal(s: Scratch): Record<string, unknown>[] {
  const file = path.join(s.dir, '.canary', `${s.route}.journal.ndjson`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** The records of the last run in the journal. */
export function lastRun(s: Scratch): Record<string, unknown>[] {
  const records = journal(s);
  const run = records.at(-1)?.run;
  return records.filter((r) => r.run === run);
}

export function lockExists(s: Scratch): boolean {
  return existsSync(path.join(s.dir, '.canary', `${s.route}.lock`));
}

export function lastLine(text: string): string {
  return text.trimEnd().split('\n').pop() ?? '';
}

/** An onStdout that runs `act` once, the first time the output so far matches `pattern`. */
export function when(pattern: RegExp, act: (child: ChildProcess) => void): RunOptions['onStdout'] {
  let seen = '';
  let done = false;
  return (chunk, child) => {
    if (done) return;
    seen += chunk;
    if (pattern.test(seen)) {
      done = true;
      act(child);
    }
  };
}

/** How long any one expected thing may take before the test fails: a cap, not an expectation. */
export const WAIT_CAP_MS = 45_000;

/**
 * Waits until `probe` gives a value (not undefined or false) and returns it: for what another
 * process does (a journal record, a weight on the relay, a scrape). It looks every 25 ms; the cap
 * only stops a test that would otherwise hang.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = WAIT_CAP_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
