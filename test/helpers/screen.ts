/**
 * The built CLI under a pseudo-terminal whose output is fed to a real terminal emulator
 * (@xterm/headless), so tests read the screen a person would see — what is visible after
 * cursor moves, erases, wrapping and resizes — instead of the raw byte stream. Every complete
 * frame (the live view writes each one between the synchronized-output markers) is kept.
 */
import xterm from '@xterm/headless';
import { type PtyExit, spawnCliPty } from './pty.js';
import { until } from './runs.js';

const FRAME_END = '\u001b[?2026l';

export interface ScreenRun {
  /** The visible rows now, trailing spaces trimmed. */
  rows(): string[];
  /** Each complete frame's visible rows, in order. */
  frames(): string[][];
  write(data: string): void;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves once every byte received so far has been applied to the emulated screen. */
  settle(): Promise<void>;
  waitForRow(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The exit, once every byte printed before it is on the emulated screen. */
  exited: Promise<PtyExit>;
  kill(): void;
}

export function spawnScreen(
  args: string[],
  options: { cols: number; rows: number; env?: Record<string, string>; cwd?: string },
): ScreenRun {
  const term = new xterm.Terminal({ cols: options.cols, rows: options.rows, allowProposedApi: true });
  const { child, exited, write, kill } = spawnCliPty(args, options);
  const frames: string[][] = [];
  let pending = Promise.resolve();
  const visible = (): string[] => {
    const buffer = term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < term.rows; y++) {
      out.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    }
    return out;
  };
  child.onData((data) => {
    pending = pending.then(
      () =>
        new Promise<void>((resolve) => {
          term.write(data, () => {
            if (data.includes(FRAME_END)) frames.push(visible());
            resolve();
          });
        }),
    );
  });
  // Every byte came before the exit (pty.ts); the screen shows them all once applied.
  const applied = exited.then(async (exit) => {
    await pending;
    return exit;
  });
  return {
    rows: visible,
    frames: () => frames,
    write,
    async resize(cols, rows) {
      await pending;
      term.resize(cols, rows);
      child.resize(cols, rows);
    },
    settle: () => pending,
    async waitForRow(pattern, timeoutMs) {
      await until(
        `a row matching ${pattern}`,
        () => visible().some((row) => pattern.test(row)),
        timeoutMs,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n--- screen ---\n${visible().join('\n')}`);
      });
    },
    exited: applied,
    kill,
  };
}
