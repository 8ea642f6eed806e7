/**
 * What the spawned rollout tests (the safe-exit ones of issue 15, reliability-resume) share: a
 * scratch folder with a plan, the journal as records, the last line of a stream, and an action
 * run once when the CLI's output shows a given line.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EmulatorOptions, StartedEmulator } from '../../src/emulator/index.js';
import { reliabilityPlan, startExampleEmulator } from './fixtures.js';
import { baseEnv, type RunOptions } from './spawn.js';

export const KEY = 'e2e-safe-exits-key-7d41f0';

/** The relay these tests run against: healthy versions at 1 000 rps, seeded, on a free port. */
export function healthyEmulator(seed: number, onCall?: EmulatorOptions['onCall']): Promise<StartedEmulator> {
  return startExampleEmulator('healthy', { apiKey: KEY, rps: 1000, seed, ...(onCall ? { onCall } : {}) });
}

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

export const env = (extra: Record<string, string | undefined> = {}) =>
  baseEnv({ RELAY_API_KEY: KEY, ...extra });

export interface Scratch {
  dir: string;
  plan: string;
  route: string;
}

export function scratch(route: string, opts: Parameters<typeof reliabilityPlan>[1] = {}): Scratch {
  const dir = mkdtempSync(path.join(tmpdir(), `canary-e2e-${route}-`));
  const plan = path.join(dir, 'plan.yaml');
  writeFileSync(plan, reliabilityPlan(route, opts));
  return { dir, plan, route };
}

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
