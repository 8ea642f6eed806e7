/**
 * Single keys from a terminal in raw mode, for the live view (`p`, `h`, `r`, `q`, Ctrl-C).
 * Raw mode turns Ctrl-C into a key instead of SIGINT, so the terminal must be restored on
 * every way out: `stop()`, `pause()` before a prompt takes stdin, and process exit (even on a crash).
 */
import { emitKeypressEvents } from 'node:readline';
import type { InStream } from '../io.js';

export interface Key {
  /** Lower-case name (`p`, `return`, `up`), or the character itself. */
  name: string;
  ctrl: boolean;
}

export type KeyHandler = (key: Key) => void;

interface Keypress {
  name?: string;
  sequence?: string;
  ctrl?: boolean;
}

export class KeyReader {
  private listening = false;
  private stopped = false;
  private readonly onKeypress = (input: string | undefined, key: Keypress | undefined) => {
    const name = (key?.name ?? input ?? '').toLowerCase();
    if (!name) return;
    try {
      this.handler({ name, ctrl: key?.ctrl === true });
    } catch {
      // A handler bug must not leave the terminal in raw mode with no one reading it.
    }
  };
  private readonly restoreOnExit = () => this.setRaw(false);

  constructor(
    private readonly input: InStream,
    private readonly handler: KeyHandler,
  ) {}

  /** Starts (or resumes) reading keys. */
  resume(): void {
    if (this.stopped || this.listening) return;
    this.listening = true;
    emitKeypressEvents(this.input);
    this.setRaw(true);
    this.input.on('keypress', this.onKeypress);
    this.input.resume();
    process.once('exit', this.restoreOnExit);
  }

  /** Lets go of stdin (for a prompt) and puts the terminal back to normal. */
  pause(): void {
    if (!this.listening) return;
    this.listening = false;
    this.input.removeListener('keypress', this.onKeypress);
    this.setRaw(false);
    this.input.pause();
    process.removeListener('exit', this.restoreOnExit);
  }

  /** For good: later `resume()` calls do nothing. */
  stop(): void {
    this.pause();
    this.stopped = true;
  }

  private setRaw(raw: boolean): void {
    try {
      if (this.input.isTTY) this.input.setRawMode?.(raw);
    } catch {
      // The terminal is gone (hang-up); nothing to restore.
    }
  }
}
