/**
 * The prompter a person at a terminal answers: @inquirer/prompts reading `io.stdin` and
 * drawing on `io.stderr`, so a question passes through the same redaction as every other byte
 * canary prints and stdout stays clean for a pipe. Only the full CLI installs it, loading this
 * module on the first question (src/cli.ts): dist/rollback.cjs and the light command bundles
 * carry no prompt library, and tests put their own prompter on Io.
 */
import type { Io, Prompter } from '../io.js';

/**
 * A writable stream over `io.stderr`: inquirer pipes its output into a real stream and reads its
 * width and TTY-ness from it, so those are passed through. Ending it leaves io.stderr open.
 */
async function promptOutput(io: Io): Promise<NodeJS.WritableStream> {
  // node:stream is loaded only when a question is asked: most commands never ask one.
  const { Writable } = await import('node:stream');
  const out = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      io.stderr.write(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });
  Object.defineProperties(out, {
    isTTY: { get: () => io.stderr.isTTY },
    columns: { get: () => io.stderr.columns },
    rows: { get: () => io.stderr.rows },
  });
  return out;
}

export function terminalPrompter(io: Io): Prompter {
  // A stream per question: inquirer ends its output when the question closes.
  const context = async (signal: AbortSignal | undefined) => ({
    input: io.stdin,
    output: await promptOutput(io),
    ...(signal ? { signal } : {}),
  });
  return {
    canAsk: true,
    async select(question, options) {
      const { select } = await import('@inquirer/prompts');
      return select({ ...question, choices: [...question.choices] }, await context(options?.signal));
    },
    async confirm(question, options) {
      const { confirm } = await import('@inquirer/prompts');
      return confirm(question, await context(options?.signal));
    },
    async input(question, options) {
      const { input } = await import('@inquirer/prompts');
      return input(question, await context(options?.signal));
    },
  };
}
