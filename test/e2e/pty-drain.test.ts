/**
 * The pty helper reads every byte before the exit (test/helpers/pty-drain.ts): libuv and node-pty
 * each end a pty's stream with output still unread when the reader is behind at the exit, which
 * a slow test process met as a screen missing its last lines.
 */
import { readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import pty from 'node-pty';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/index.js';
import { spawnCliPty } from '../helpers/pty.js';
import { drainAtEnd } from '../helpers/pty-drain.js';

/** Blocks this thread, as a loaded machine or a busy test worker does, without spinning. */
const stall = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Whether a process has exited: a zombie (not yet reaped) or gone. */
const exitedAlready = (pid: number) => {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};

describe('the pty helper reads every byte before the exit', () => {
  it('a reader that is behind when the CLI exits still gets all its output', async () => {
    const piped = await runCli(['schema']);
    expect(piped.code).toBe(0);
    const { child, exited } = spawnCliPty(['schema']);
    let raw = '';
    child.onData((data) => {
      raw += data;
      // ~25 reads of 4 KB, 20 ms each: the CLI has exited long before the last.
      stall(20);
    });
    expect((await exited).code).toBe(0);
    expect(stripVTControlCharacters(raw).replace(/\r/g, '')).toBe(piped.stdout);
  });

  it('what the kernel still holds at the hang-up is read, not dropped', async () => {
    // Whether anything is still unread at the hang-up is up to the kernel's and libuv's timing (in
    // 12 runs of 60 libuv had read it all itself, nothing left to recover), so the hazard is met
    // in up to ten runs (all ten missing it: ~1e-7), each of which must read the whole output.
    let recovered = 0;
    for (let run = 0; run < 10 && recovered === 0; run++) recovered = await exitWithOutputUnread();
    // Read after libuv or node-pty had called the output over: without the drain, lost.
    expect(recovered).toBeGreaterThan(0);
  });
});

/** A script writes 10 KB and exits while the reader reads nothing; returns what the drain recovered. */
async function exitWithOutputUnread(): Promise<number> {
  // 10 KB fits the pty's buffers (20 KB does not), so the script exits with it unread.
  const size = 10_000;
  const child = pty.spawn(process.execPath, ['-e', `process.stdout.write('x'.repeat(${size}) + 'END')`], {
    cols: 80,
    rows: 24,
  });
  const drain = drainAtEnd(child);
  let text = '';
  let first = true;
  let exitedUnread = false;
  child.onData((data) => {
    text += data;
    if (!first) return;
    first = false;
    // Read nothing more until the script has exited: the rest waits in the kernel, and the
    // terminal hangs up after a short read, which libuv takes for the end of the output.
    for (let waited = 0; !exitedUnread && waited < 10_000; waited += 5) {
      exitedUnread = exitedAlready(child.pid);
      if (!exitedUnread) stall(5);
    }
  });
  const exit = await new Promise<number>((resolve) => child.onExit(({ exitCode }) => resolve(exitCode)));
  expect(exit).toBe(0);
  expect(exitedUnread, 'the script exited while its output was unread').toBe(true);
  expect(text).toBe(`${'x'.repeat(size)}END`);
  return drain.recovered();
}
