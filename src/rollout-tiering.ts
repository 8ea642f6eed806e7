/**
 * Whether a rollout process keeps V8's optimising compiler (TurboFan).
 *
 * A rollout against a relay spends each look waiting: three small HTTP calls, a verdict, two
 * lines written, about half a millisecond of JavaScript spread over a few hundred functions,
 * each run a few times a look. They become "hot" one by one over the first several hundred
 * looks, and TurboFan compiles each on V8's worker threads as it does; compiling them costs the
 * process more CPU than the optimised code ever saves, in the bench's window (looks 20 to 100)
 * and after it (docs/benchmarks.md, "A rollout's CPU per evaluation"). So a rollout that only
 * talks to a relay runs on V8's interpreter and baseline compiler (Ignition and Sparkplug).
 *
 * Where a rollout process does real computing it keeps TurboFan: the emulator inside the process
 * (`relay.url: emulator` simulates every request) and the pre-traffic evaluation (edit distances
 * over model outputs). A user who set V8's tiering flags themselves (NODE_OPTIONS, node's own
 * arguments) is left as they chose.
 *
 * The flag is set at run time, after the CLI was compiled from its code cache: V8 ties a code
 * cache to the flags it was made under, so the flag is put back before the launcher
 * (bin/canary.cjs) makes one at exit (a listener ahead of the launcher's), and the cache stays
 * the one every rollout loads.
 */
import { setFlagsFromString } from 'node:v8';

export interface TieringInput {
  /** The relay is the emulator inside this process. */
  inProcessEmulator: boolean;
  /** The plan has an `evaluation:` that this run performs (not skipped). */
  evaluates: boolean;
  /** The process's Node and V8 flags: process.execArgv and NODE_OPTIONS. */
  execArgv: readonly string[];
  nodeOptions: string | undefined;
}

/** Any flag that already says how V8 tiers or optimises: the user's choice stands. */
const USER_TIERING = /^--(no-)?(opt|turbofan|jitless|sparkplug|maglev|always-opt|max-opt)\b/;

/** True when this rollout should run without TurboFan (see above). */
export function optimiserNeedless(input: TieringInput): boolean {
  if (input.inProcessEmulator || input.evaluates) return false;
  const flags = [...input.execArgv, ...(input.nodeOptions ?? '').split(/\s+/)];
  return !flags.some((flag) => USER_TIERING.test(flag.replaceAll('_', '-')));
}

let turnedOff = false;

/**
 * Turns TurboFan off for the rest of this process, once; it is back on (as the process started)
 * when the process exits, before anything makes a code cache.
 */
export function leaveOptimiserOff(): void {
  if (turnedOff) return;
  turnedOff = true;
  setFlagsFromString('--no-opt');
  process.prependListener('exit', () => setFlagsFromString('--opt'));
}
