/**
 * The built CLI under a real pseudo-terminal: stdin and stdout are TTYs, so canary runs its live
 * view, keys and prompts exactly as for a person. The screen is read by accumulating output
 * (ANSI stripped); waits poll for text with a generous cap instead of sleeping for a fixed time.
 * The exit is reported once every byte printed before it has been read (pty-drain.ts), so a test
 * reads the whole screen right after it.
 */
import { stripVTControlCharacters } from 'node:util';
import pty, { type IPty } from 'node-pty';
import { drainAtEnd } from './pty-drain.js';
import { until } from './runs.js';
import { assertBuilt, BIN, baseEnv, scratchCwd } from './spawn.js';

export const KEY = {
  up: '\u001b[A',
  down: '\u001b[B',
  enter: '\r',
  ctrlC: '\u0003',
} as const;

export interface PtyExit {
  code: number;
  signal: number | undefined;
}

export interface PtyRun {
  /** Everything printed so far, escape sequences removed. */
  screen(): string;
  /** A position in the screen text, to wait for text printed after it. */
  mark(): number;
  write(data: string): void;
  waitFor(text: string | RegExp, options?: { from?: number; timeoutMs?: number }): Promise<void>;
  /** The exit, once every byte printed before it is on screen(). */
  exited: Promise<PtyExit>;
  kill(): void;
}

export interface PtyOptions {
  env?: Record<string, string>;
  cwd?: string;
  cols?: number;
  rows?: number;
}

/**
 * The built CLI on a pseudo-terminal, as both readers (this file's text, screen.ts's emulated
 * screen) start it: an xterm-256color terminal, from a fresh scratch folder (spawn.ts says why)
 * unless `cwd` names one, TERM set. write() and kill() do nothing once it has exited. Every
 * byte the CLI printed reaches onData before `exited` resolves (pty-drain.ts).
 */
export function spawnCliPty(
  args: string[],
  options: PtyOptions = {},
): { child: IPty; exited: Promise<PtyExit>; write(data: string): void; kill(): void; done(): boolean } {
  assertBuilt();
  const child = pty.spawn(process.execPath, [BIN, ...args], {
    name: 'xterm-256color',
    cols: options.cols ?? 120,
    rows: options.rows ?? 50,
    cwd: options.cwd ?? scratchCwd(),
    env: options.env ?? baseEnv({ TERM: 'xterm-256color' }),
  });
  drainAtEnd(child);
  let done = false;
  const exited = new Promise<PtyExit>((resolve) => {
    child.onExit(({ exitCode, signal }) => {
      done = true;
      resolve({ code: exitCode, signal });
    });
  });
  return {
    child,
    exited,
    write: (data) => {
      if (!done) child.write(data);
    },
    kill: () => {
      if (!done) child.kill('SIGKILL');
    },
    done: () => done,
  };
}

export function spawnPty(args: string[], options: PtyOptions = {}): PtyRun {
  const { child, exited, write, kill, done } = spawnCliPty(args, options);
  let raw = '';
  let text = '';
  child.onData((data) => {
    raw += data;
    text = stripVTControlCharacters(raw).replace(/\r/g, '');
  });
  const run: PtyRun = {
    screen: () => text,
    mark: () => text.length,
    write,
    async waitFor(expected, opts = {}) {
      const from = opts.from ?? 0;
      const found = () => {
        const tail = text.slice(from);
        return typeof expected === 'string' ? tail.includes(expected) : expected.test(tail);
      };
      // Once it has exited the screen is complete (`exited`): what is not there will not come.
      const probe = () => {
        if (found()) return true;
        if (done()) throw new Error(`${String(expected)} is not on screen, and canary has exited`);
        return false;
      };
      try {
        await until(`${String(expected)} on screen`, probe, opts.timeoutMs);
      } catch (error) {
        throw new Error(
          `${(error as Error).message}\n--- screen (last 3000 chars) ---\n${text.slice(-3000)}`,
        );
      }
    },
    exited,
    kill,
  };
  return run;
}
