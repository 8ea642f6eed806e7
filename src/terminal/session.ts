/**
 * The terminal side of an interactive rollout: keys while the live view runs (`p` promote,
 * `h` hold/release, `r` roll back, `q` quit), the Ctrl-C menu, and the manual-gate prompt.
 * It turns a person's input into the engine's inputs (operator commands, the gate's answer,
 * an abort reason) and decides nothing about the rollout itself.
 *
 * One prompt at a time: while one is open the live view is taken off the screen, stdin belongs
 * to the prompt, and a gate that comes due waits its turn.
 */
import type { ChalkInstance } from 'chalk';
import { heldAfter } from '../control/hold.js';
import { ControlQueue } from '../control/queue.js';
import { formatWeight } from '../format.js';
import type { InStream, OutStream, Prompter } from '../io.js';
import type { GateContext, GateDecision, RolloutAbortReason } from '../rollout/engine.js';
import type { RolloutEvent } from '../rollout/events.js';
import { askGate } from './gate-prompt.js';
import { askInterrupt, confirmQuit } from './interrupt-menu.js';
import { type Key, KeyReader } from './keys.js';

/** What the live view must offer so a prompt can borrow the screen. */
export interface SuspendableView {
  suspend(): void;
  resume(): void;
}

export interface SessionOptions {
  /** The keys (p, h, r, q) the live view listens for. */
  input: InStream;
  /** Asks the gate, the Ctrl-C menu and the quit question (Io's, drawing on stderr). */
  prompter: Prompter;
  /** Aborting it stops the run; the reason says how (roll back or leave). */
  controller: AbortController;
  view?: SuspendableView | undefined;
  baseline: string;
  canary: string;
  chalk: ChalkInstance;
  width: () => number;
}

export const KEYS_FOOTER = 'keys: p promote · h hold · r roll back · q quit · Ctrl-C menu';

interface HeldGate {
  resolve(decision: GateDecision): void;
}

export class TerminalSession {
  readonly controls = new ControlQueue();
  private readonly keys: KeyReader;
  /** Aborted when the run is over: withdraws any open prompt. */
  private readonly done = new AbortController();
  private promptChain: Promise<unknown> = Promise.resolve();
  private promptsOpen = 0;
  private menuOpen = false;
  private held = false;
  private heldGate: HeldGate | null = null;
  private stage: { index: number; count: number; weight: number } | null = null;
  private closed = false;

  constructor(private readonly options: SessionOptions) {
    this.keys = new KeyReader(options.input, (key) => this.onKey(key));
  }

  start(): void {
    this.keys.resume();
  }

  /** False once closed: the run is over, and a Ctrl-C is no longer this session's to answer. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** The live view's footer: which keys do what right now. */
  footer = (): string => {
    if (this.heldGate)
      return 'holding at the manual gate · keys: p promote · r roll back · q quit · Ctrl-C menu';
    if (this.held) return 'HELD by you · keys: h release · p promote · r roll back · q quit · Ctrl-C menu';
    return KEYS_FOOTER;
  };

  /** Follows the run so menus can say where traffic is. */
  observe(event: RolloutEvent): void {
    if (event.type === 'stage_started') {
      this.stage = { index: event.stage, count: event.stageCount, weight: event.weight };
    }
    // `canary pause|resume|promote` from another shell too: the footer follows whoever held it.
    this.held = heldAfter(this.held, event);
  }

  /** The engine's gate for `pause: true` stages. */
  gate = async (ctx: GateContext): Promise<GateDecision> => {
    for (;;) {
      const answer = await this.prompt(() =>
        ctx.signal.aborted
          ? Promise.resolve('withdrawn' as const)
          : askGate({
              gate: ctx,
              baseline: this.options.baseline,
              canary: this.options.canary,
              prompter: this.options.prompter,
              chalk: this.options.chalk,
              width: this.options.width(),
            }),
      );
      switch (answer) {
        case 'promote':
        case 'rollback':
          return answer;
        case 'withdrawn':
          throw new Error('the gate was withdrawn');
        case 'ctrl_c': {
          const choice = await this.interruptMenu();
          if (choice !== 'continue' || ctx.signal.aborted) throw new Error('interrupted at the gate');
          continue; // ask the gate's question again
        }
        case 'keep_holding':
          return this.holdAtGate(ctx.signal);
      }
    }
  };

  /** A SIGINT from outside (not a key: raw mode turns Ctrl-C into a key): same menu, same rules. */
  interrupt(): void {
    if (this.closed) return;
    if (this.menuOpen || this.promptsOpen > 0) {
      // Someone is already being asked something; a signal on top is the impatient answer.
      this.abort('rollback');
      return;
    }
    void this.interruptMenu();
  }

  /** Stops reading keys, withdraws any open prompt and gives the terminal back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.done.abort();
    this.keys.stop();
    this.controls.close();
    this.options.view?.resume();
  }

  private onKey(key: Key): void {
    if (this.closed) return;
    if (key.ctrl && key.name === 'c') {
      void this.interruptMenu();
      return;
    }
    if (key.ctrl) return;
    switch (key.name) {
      case 'p':
        this.held = false;
        if (this.heldGate) this.heldGate.resolve('promote');
        else this.controls.push('promote');
        break;
      case 'r':
        if (this.heldGate) this.heldGate.resolve('rollback');
        else this.controls.push('rollback');
        break;
      case 'h':
        if (this.heldGate) break; // already holding at the gate
        this.held = !this.held;
        this.controls.push(this.held ? 'hold' : 'release');
        break;
      case 'q':
        void this.quit();
        break;
      default:
        break;
    }
  }

  private async quit(): Promise<void> {
    const yes = await this.prompt(() =>
      confirmQuit({
        where: this.where(),
        prompter: this.options.prompter,
        signal: this.done.signal,
      }),
    );
    if (yes) this.controls.push('quit');
  }

  private async interruptMenu(): Promise<'rollback' | 'leave' | 'continue'> {
    if (this.menuOpen) return 'continue';
    this.menuOpen = true;
    try {
      const choice = await this.prompt(() =>
        askInterrupt({
          where: this.where(),
          prompter: this.options.prompter,
          signal: this.done.signal,
        }),
      );
      if (choice !== 'continue') this.abort(choice);
      return choice;
    } finally {
      this.menuOpen = false;
    }
  }

  private abort(action: 'rollback' | 'leave'): void {
    const reason: RolloutAbortReason = {
      action,
      cause: 'interrupt',
      exitCode: 130,
      why: 'chosen in the Ctrl-C menu',
    };
    if (!this.options.controller.signal.aborted) this.options.controller.abort(reason);
  }

  /** "keep holding": the gate stays open without a prompt until `p` or `r` (or the run ends). */
  private holdAtGate(signal: AbortSignal): Promise<GateDecision> {
    return new Promise<GateDecision>((resolve, reject) => {
      const onAbort = () => {
        this.heldGate = null;
        reject(new Error('the gate was withdrawn'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.heldGate = {
        resolve: (decision) => {
          signal.removeEventListener('abort', onAbort);
          this.heldGate = null;
          resolve(decision);
        },
      };
    });
  }

  /** Runs prompts one at a time, with the live view and the key reader out of the way. */
  private prompt<T>(ask: () => Promise<T>): Promise<T> {
    this.promptsOpen++;
    const run = this.promptChain.then(async () => {
      this.keys.pause();
      this.options.view?.suspend();
      try {
        return await ask();
      } finally {
        this.promptsOpen--;
        if (this.promptsOpen === 0 && !this.closed) {
          this.options.view?.resume();
          this.keys.resume();
        }
      }
    });
    this.promptChain = run.catch(() => {});
    return run;
  }

  private where(): string {
    const s = this.stage;
    if (!s) return 'the start (no weights changed yet)';
    return `stage ${s.index + 1}/${s.count} (canary ${formatWeight(s.weight)})`;
  }
}

/** The session for `canary rollout` in a terminal; prompts draw on stderr, the live view on stdout. */
export async function createTerminalSession(init: {
  io: { stdin: InStream; stdout: OutStream; prompter: Prompter };
  controller: AbortController;
  reporter: object;
  baseline: string;
  canary: string;
  color: boolean;
}): Promise<TerminalSession> {
  const { createChalk } = await import('../reporters/select.js');
  const view = init.reporter as Partial<SuspendableView>;
  return new TerminalSession({
    input: init.io.stdin,
    prompter: init.io.prompter,
    controller: init.controller,
    view:
      typeof view.suspend === 'function' && typeof view.resume === 'function'
        ? (view as SuspendableView)
        : undefined,
    baseline: init.baseline,
    canary: init.canary,
    chalk: createChalk(init.color),
    width: () => init.io.stdout.columns ?? 100,
  });
}
