/**
 * The rollout's stop signals, answered to the very end of the process: during the run they stop
 * it (--on-interrupt, or the Ctrl-C menu for a person at an open terminal); once the outcome is
 * decided they only cut the webhooks' drain short, and the last lines say so; after the close
 * list, in the instant before the exit, one is absorbed and the next meets Node's default.
 * Signals are delivered with process.emit, which runs the same listeners a real signal does.
 */
import { PassThrough } from 'node:stream';
import { Chalk } from 'chalk';
import { afterEach, describe, expect, it } from 'vitest';
import { decideStops, lateStopLine } from '../../src/commands/rollout-late-stop.js';
import {
  createStops,
  listenForSignals,
  type StopListening,
  type Stops,
} from '../../src/commands/rollout-stops.js';
import type { Prompter } from '../../src/io.js';
import { TerminalSession } from '../../src/terminal/session.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const counts = () => SIGNALS.map((name) => process.listenerCount(name));
const before = counts();

let listening: StopListening | undefined;
afterEach(() => {
  listening?.({ processExitsNext: false });
  listening = undefined;
  expect(counts()).toEqual(before); // no test leaves a handler behind
});

const send = (name: (typeof SIGNALS)[number]) => process.emit(name as never);

/** A prompter that counts the questions it is asked and never answers them. */
function silentPrompter(): Prompter & { asked: number } {
  const p = {
    asked: 0,
    canAsk: true,
    select: () => {
      p.asked++;
      return new Promise<never>(() => {});
    },
    confirm: () => {
      p.asked++;
      return new Promise<never>(() => {});
    },
    input: () => {
      p.asked++;
      return new Promise<never>(() => {});
    },
  };
  return p;
}

function session(stops: Stops, prompter: Prompter): TerminalSession {
  return new TerminalSession({
    input: new PassThrough() as never,
    prompter,
    controller: stops.controller,
    baseline: 'v1',
    canary: 'v2',
    chalk: new Chalk({ level: 0 }),
    width: () => 80,
  });
}

describe('stop signals during the run', () => {
  it('SIGTERM aborts the run with --on-interrupt and 143; a second one is ignored (the rollback finishes)', () => {
    const stops = createStops();
    listening = listenForSignals(stops, { onInterrupt: 'leave' }, () => undefined);
    send('SIGTERM');
    expect(stops.controller.signal.reason).toMatchObject({
      action: 'leave',
      cause: 'interrupt',
      exitCode: 143,
    });
    send('SIGHUP');
    expect(stops.signalName).toBe('SIGTERM');
    expect(stops.lateSignal).toBeUndefined();
    expect(stops.cut.signal.aborted).toBe(false);
  });

  it('SIGINT opens the menu for a person at an open terminal, and counts as nobody there once it is closed', async () => {
    const stops = createStops();
    const prompter = silentPrompter();
    const person = session(stops, prompter);
    listening = listenForSignals(stops, {}, () => person);
    send('SIGINT');
    await new Promise((resolve) => setImmediate(resolve)); // the menu opens on the prompt chain
    expect(prompter.asked).toBe(1);
    expect(stops.controller.signal.aborted).toBe(false); // nothing changes until an answer
    person.close();
    listening({ processExitsNext: false });

    // A closed session (the close list closes the terminal) is no person: --on-interrupt decides.
    const closedStops = createStops();
    const closed = session(closedStops, silentPrompter());
    closed.close();
    expect(closed.isOpen).toBe(false);
    listening = listenForSignals(closedStops, {}, () => closed);
    send('SIGINT');
    expect(closedStops.controller.signal.reason).toMatchObject({ action: 'rollback', exitCode: 130 });
  });
});

describe('stop signals once the outcome is decided', () => {
  it('cut the drain short, leave the run alone (no abort, no exit code of their own) and are named once', () => {
    const stops = createStops();
    const person = session(stops, silentPrompter());
    listening = listenForSignals(stops, {}, () => person);
    decideStops(stops, { exitCode: 0, outcome: 'promoted' });
    expect(stops.cut.signal.aborted).toBe(false);
    send('SIGINT'); // the terminal is still open, but the run is over: no menu
    send('SIGTERM');
    expect(stops.cut.signal.aborted).toBe(true);
    expect(stops.lateSignal).toBe('SIGINT');
    expect(stops.signalName).toBeUndefined();
    expect(stops.controller.signal.aborted).toBe(false);
    person.close();
  });

  it('a signal the finishing engine could not act on is late too; one it answered, or the timeout, is not', () => {
    const tooLate = createStops();
    tooLate.signalName = 'SIGTERM';
    decideStops(tooLate, { exitCode: 0, outcome: 'promoted' });
    expect(tooLate.lateSignal).toBe('SIGTERM');
    expect(tooLate.cut.signal.aborted).toBe(true);

    const answered = createStops();
    answered.signalName = 'SIGTERM';
    decideStops(answered, { exitCode: 143, outcome: 'interrupted', finalLine: 'terminated (SIGTERM): …' });
    expect(answered.lateSignal).toBeUndefined();
    expect(answered.cut.signal.aborted).toBe(false);

    const failed = createStops();
    failed.signalName = 'SIGTERM';
    decideStops(failed, { exitCode: 1 }); // an error: no outcome to say stands
    expect(failed.lateSignal).toBeUndefined();
  });

  it('the late line: what was cut, then the outcome, traffic and exit; or only what was cut when a final line follows', () => {
    const stops = createStops();
    expect(lateStopLine(stops, { exitCode: 0 })).toBeUndefined();
    stops.lateSignal = 'SIGTERM';
    const traffic = [
      { version_tag: 'v1', weight: 0 },
      { version_tag: 'v2', weight: 100 },
    ];
    expect(
      lateStopLine(stops, { exitCode: 0, outcome: 'promoted', traffic }, { undelivered: 2, cutShort: true }),
    ).toBe(
      "terminated (SIGTERM) after the run's outcome was decided: webhook delivery cut short, 2 webhook notices not delivered; the outcome stands: promoted, traffic: v1 0%, v2 100%; exit 0",
    );
    expect(lateStopLine(stops, { exitCode: 3, outcome: 'rolled_back', traffic: null })).toBe(
      "terminated (SIGTERM) after the run's outcome was decided: nothing was left to cut short; the outcome stands: rolled_back, traffic: unknown; exit 3",
    );
    stops.lateSignal = 'SIGINT';
    expect(
      lateStopLine(
        stops,
        { exitCode: 130, outcome: 'interrupted', finalLine: 'interrupted (SIGINT): …; exit 130' },
        { undelivered: 1, cutShort: true },
      ),
    ).toBe(
      "interrupted (SIGINT) after the run's outcome was decided: webhook delivery cut short, 1 webhook notice not delivered",
    );
  });
});

describe('stop signals after the close list', () => {
  it('in-process (the process goes on): the handlers are removed', () => {
    listenForSignals(createStops(), {}, () => undefined)({ processExitsNext: false });
    expect(counts()).toEqual(before);
  });

  it('when the process exits next: kept to the exit; one signal is absorbed, the next meets Node’s default', () => {
    const stops = createStops();
    listenForSignals(stops, {}, () => undefined)({ processExitsNext: true });
    expect(counts()).toEqual(before.map((n) => n + 1));
    send('SIGTERM');
    expect(stops.signalName).toBeUndefined();
    expect(stops.lateSignal).toBeUndefined();
    expect(stops.controller.signal.aborted).toBe(false);
    expect(counts()).toEqual(before);
  });
});
