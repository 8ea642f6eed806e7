/**
 * The operator's commands during a bake (keys at the terminal, or `canary promote|pause|resume|abort`
 * from another shell), and the wait that listens for them: a bake sleeps until its next look
 * and wakes early for a command or the gate's answer.
 */
import { watchAbort } from '../abort-watch.js';
import { ExitCode } from '../errors.js';
import type { StageBake } from './bake-state.js';
import { Finish, type RolloutRun, type Wake } from './run.js';
import type { OperatorCommand } from './types.js';

/** Ends a wait's sleep once the wait is over (nobody sees it: the sleep's rejection is ignored). */
const WAIT_OVER = Object.freeze({ reason: 'wait over' });

/** The outstanding `controls.next()`, asked once and kept across waits so no command is lost. */
function nextCommand(run: RolloutRun): Promise<Wake> | null {
  const controls = run.deps.controls;
  if (!controls) return null;
  if (!run.command) {
    run.command = Promise.resolve()
      .then(() => controls.next(run.stopControls.signal))
      .then(
        (next): Wake => {
          const request = typeof next === 'string' ? { command: next } : next;
          return { kind: 'command', command: request.command, request };
        },
        // A closed channel never wakes the run again.
        () => new Promise<Wake>(() => {}),
      );
  }
  return run.command;
}

/**
 * A controller that aborts with the run's signal, kept across the waits (or the looks) of a run
 * until something aborts it: a bake looks every few seconds for hours, and a new controller, a
 * listener on the run's signal and an abort event for every one cost a rollout more than its
 * verdicts (docs/benchmarks.md, "A rollout's CPU per evaluation").
 */
class LinkedController {
  private current: AbortController | undefined;
  /** Ends the current controller's link to the run's signal. */
  private unlink: (() => void) | undefined;

  constructor(private readonly run: RolloutRun) {}

  /** The live controller: the kept one, or a new one when it was aborted. */
  get(): AbortController {
    if (this.current && !this.current.signal.aborted) return this.current;
    // The aborted one's link goes with it: a gate's answer or an operator's command ends a wait
    // early, and a run may see many of them.
    this.unlink?.();
    this.unlink = undefined;
    const controller = new AbortController();
    const { signal } = this.run;
    // Through a watch (src/abort-watch.ts), not AbortSignal.any, which would tie one more
    // dependent signal to the run's for every controller.
    if (signal?.aborted) controller.abort(signal.reason);
    else if (signal) this.unlink = watchAbort(signal, () => controller.abort(signal.reason));
    this.current = controller;
    return controller;
  }
}

const linked = new WeakMap<RolloutRun, { wait: LinkedController; look: LinkedController }>();

function controllers(run: RolloutRun): { wait: LinkedController; look: LinkedController } {
  let pair = linked.get(run);
  if (!pair) {
    pair = { wait: new LinkedController(run), look: new LinkedController(run) };
    linked.set(run, pair);
  }
  return pair;
}

/** Sleeps until `at`, waking early if the gate answers or the operator sends a command. Run aborts reject. */
export async function waitUntil(run: RolloutRun, at: number, gateWake: Promise<Wake> | null): Promise<Wake> {
  const { clock, signal } = run;
  const ms = Math.max(0, at - clock.now());
  const command = nextCommand(run);
  const gate = gateWake && command ? Promise.race([gateWake, command]) : (gateWake ?? command);
  if (!gate) {
    await clock.sleep(ms, signal);
    return { kind: 'tick' };
  }
  // The sleep listens to a kept controller that aborts with the run; it is aborted (and a new
  // one made for the next wait) only when the gate or a command ends the sleep early.
  const local = controllers(run).wait.get();
  let slept = false;
  const sleep = clock.sleep(ms, local.signal).then((): Wake => {
    slept = true;
    return { kind: 'tick' };
  });
  sleep.catch(() => {});
  try {
    const wake = await Promise.race([sleep, gate]);
    if (wake.kind === 'command') run.command = null;
    return wake;
  } finally {
    // A reason of our own: abort() without one builds a DOMException, stack and all.
    if (!slept && !local.signal.aborted) local.abort(WAIT_OVER);
  }
}

/** Commands that must not wait for a look's reads: the operator wants the run ended now. */
const URGENT: ReadonlySet<string> = new Set(['rollback', 'quit']);

/**
 * Runs one look while listening for the operator: a rollback or quit that arrives while the
 * look's reads are in flight (a hung relay holds them up to interval + grace) aborts those
 * reads and is returned at once, so a decided rollback never waits behind a hung read (issue
 * 15, item 4). Any other command stays queued for the next wait, as it would have.
 */
export async function lookWatchingOperator(
  run: RolloutRun,
  lookOnce: (stop: AbortSignal | undefined) => Promise<void>,
): Promise<Extract<Wake, { kind: 'command' }> | null> {
  const command = nextCommand(run);
  if (!command) {
    await lookOnce(undefined);
    return null;
  }
  // Kept across looks until a command aborts it (see LinkedController).
  const stop = controllers(run).look.get();
  const urgent = command.then((wake) =>
    wake.kind === 'command' && URGENT.has(wake.command) ? wake : new Promise<never>(() => {}),
  );
  const looking = lookOnce(stop.signal);
  const first = await Promise.race([looking.then(() => null), urgent]);
  if (first === null) return null;
  stop.abort(first.request.reason ?? first.command);
  // The look ends quickly now (its reads are aborted); a verdict it reached before the
  // command arrived (a rollback of its own, already under way) still stands and unwinds.
  await looking;
  run.command = null;
  return first;
}

/**
 * Does what the operator asked. Returns whether the stage may now be left (the caller checks);
 * `rollback` and `quit` unwind the run instead.
 */
export async function applyCommand(
  run: RolloutRun,
  bake: StageBake,
  wake: Extract<Wake, { kind: 'command' }>,
): Promise<boolean> {
  const { stage, gate } = bake;
  const label = run.stageLabel(stage.index);
  const operator = (action: OperatorCommand, detail: string) =>
    run.emit({ type: 'operator_action', at: run.clock.now(), stage: stage.index, action, detail });
  switch (wake.command) {
    case 'rollback': {
      const { by, reason } = wake.request;
      operator('rollback', `rolling back at ${label} now${by ? ` (asked by ${by})` : ''}`);
      // The summary already says "rolled back at stage n/m": the reason says who and why.
      const why = `${by ? `${by} asked (canary abort)` : 'the operator asked (r key)'}${reason ? `: ${reason}` : ''}`;
      return run.rollback(stage.index, 'operator', why);
    }
    case 'quit':
      operator('quit', `stopping; traffic stays at ${label}`);
      throw new Finish(
        run.leftInPlace('interrupted', ExitCode.Interrupted, 'stopped by the operator', 'operator'),
      );
    case 'hold':
      if (run.held) return false;
      run.held = true;
      operator('hold', `holding at ${label} until released; checks keep running`);
      return false;
    case 'release':
      if (!run.held) return false;
      run.held = false;
      bake.extendDeadline();
      operator('release', `released ${label}`);
      return true;
    case 'promote':
      bake.promoteAsked = true;
      if (wake.request.full) run.promoteAll = true;
      if (run.held) {
        run.held = false;
        bake.extendDeadline();
      }
      if (stage.pause && gate.state !== 'approved') {
        // The key press is the decision the gate would have asked for.
        if (gate.state === 'pending') gate.controller.abort();
        gate.state = 'approved';
      }
      operator(
        'promote',
        (bake.latest?.verdict === 'pass'
          ? `ending the bake of ${label} now`
          : `ending the bake of ${label} at the next passing check`) +
          (run.promoteAll ? '; later stages leave at their first passing check' : ''),
      );
      return true;
    default:
      // A command this engine does not know changes nothing.
      return true;
  }
}
