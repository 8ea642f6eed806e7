/**
 * The process's edges, passed in so `main(argv, io)` can run in-process in tests and so
 * every byte canary prints passes through one place that scrubs secrets.
 */
import { type ByteSink, directOutput, isPipeOrFile } from './direct-output.js';

export interface OutStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface InStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/** One answer a `select` offers. */
export interface PromptChoice<T> {
  name: string;
  value: T;
  description?: string;
}

/** Aborting `signal` withdraws the question (the prompt rejects with an AbortPromptError). */
export interface PromptOptions {
  signal?: AbortSignal | undefined;
}

/**
 * Questions to a person, as gh's factory hands out its prompter: commands ask through Io, so
 * tests answer in-process and every question passes the same redaction as the rest of the
 * output. A prompter that cannot ask rejects; callers check `canAsk` (and canPrompt, for a
 * terminal) before they offer a question.
 */
export interface Prompter {
  readonly canAsk: boolean;
  select<T>(
    question: { message: string; choices: readonly PromptChoice<T>[]; default?: T },
    options?: PromptOptions,
  ): Promise<T>;
  confirm(question: { message: string; default?: boolean }, options?: PromptOptions): Promise<boolean>;
  input(
    question: { message: string; default?: string | undefined; validate?: (value: string) => string | true },
    options?: PromptOptions,
  ): Promise<string>;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  /** Asks a person; see Prompter. */
  prompter: Prompter;
  /** The same streams, secrets and environment, asking through `make(io)`'s prompter. */
  withPrompter(make: (io: Io) => Prompter): Io;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Registers a value (an API key) that must never be printed; output streams redact it. */
  addSecret(secret: string): void;
  /** Redacts every registered secret from a string. */
  redact(text: string): string;
  /**
   * True when the process exits as soon as the command returns (bin/canary.cjs), so a command
   * may leave idle sockets for the OS to close instead of spending time closing them.
   */
  exitsWhenDone?: boolean;
}

const MASK = '[REDACTED]';

/**
 * The prompter of an Io nobody gave one: dist/rollback.cjs carries no prompt library, and a
 * command that asks anyway is told so plainly instead of hanging on a question never drawn.
 */
const NO_PROMPTER: Prompter = {
  canAsk: false,
  select: () => Promise.reject(new Error('no prompter: this command cannot ask questions here')),
  confirm: () => Promise.reject(new Error('no prompter: this command cannot ask questions here')),
  input: () => Promise.reject(new Error('no prompter: this command cannot ask questions here')),
};

/** Wraps a stream so every registered secret is replaced before it is written. */
function redacting(stream: OutStream, redact: (s: string) => string): OutStream {
  return {
    write: (chunk: string) => stream.write(redact(chunk)),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
    get rows() {
      return stream.rows;
    },
  };
}

export interface IoBase {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  env: Record<string, string | undefined>;
  cwd: string;
  exitsWhenDone?: boolean;
  /** Makes the prompter from the finished Io (its redacting stderr); none: NO_PROMPTER. */
  prompter?: ((io: Io) => Prompter) | undefined;
}

export function createIo(base: IoBase): Io {
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text;
    for (const secret of secrets) {
      // Looked for before it is split on: nearly every line has no secret in it.
      if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join(MASK);
    }
    return out;
  };
  const stdout = redacting(base.stdout, redact);
  const stderr = redacting(base.stderr, redact);
  const build = (make: ((io: Io) => Prompter) | undefined): Io => {
    let prompter: Prompter | undefined;
    const io: Io = {
      stdout,
      stderr,
      // A getter, so a command that never reads stdin never pays for creating it (see processIo).
      get stdin() {
        return base.stdin;
      },
      // Made on first use, from the finished Io, so it draws through the redacting stderr.
      get prompter() {
        prompter ??= make ? make(io) : NO_PROMPTER;
        return prompter;
      },
      withPrompter: (next) => build(next),
      env: base.env,
      cwd: base.cwd,
      exitsWhenDone: base.exitsWhenDone ?? false,
      addSecret(secret: string) {
        // Very short values would redact ordinary words; keys are never that short.
        if (secret.length >= 4) secrets.add(secret);
      },
      redact,
    };
    return io;
  };
  return build(base.prompter);
}

/** process.stdout or process.stderr, set up on first use; see processIo. */
function lazyProcessStream(name: 'stdout' | 'stderr', opened: NodeJS.WriteStream[]): OutStream & ByteSink {
  let stream: NodeJS.WriteStream | undefined;
  const get = (): NodeJS.WriteStream => {
    if (stream === undefined) {
      stream = process[name];
      // A closed pipe (`canary rollout plan.yaml | head`) raises EPIPE on the next write;
      // unhandled, it would kill a rollout mid-stage. Drop the output and let the rollout finish.
      stream.on('error', () => {});
      opened.push(stream);
    }
    return stream;
  };
  return {
    write: (chunk: string | Uint8Array) => get().write(chunk),
    get isTTY() {
      return get().isTTY;
    },
    get columns() {
      return get().columns;
    },
    get rows() {
      return get().rows;
    },
  };
}

/**
 * The process's own streams, each set up only when a command first uses it: Node builds
 * process.stdout and process.stderr on first access, about 2 ms each for a pipe, and a rollback
 * that succeeds never writes to stderr. `flush` resolves once what was written has been handed
 * to the operating system, so an exit right after cuts nothing short. With `direct` (a short
 * command's entry), a pipe or a file is written with fs.writeSync instead (src/direct-output.ts).
 */
export function processIo(options: { direct?: boolean } = {}): { io: Io; flush(): Promise<void> } {
  const opened: NodeJS.WriteStream[] = [];
  const out = (name: 'stdout' | 'stderr', fd: number): OutStream =>
    options.direct === true && isPipeOrFile(fd)
      ? directOutput(fd, () => lazyProcessStream(name, opened))
      : lazyProcessStream(name, opened);
  const io = createIo({
    stdout: out('stdout', 1),
    stderr: out('stderr', 2),
    // process.stdin is created on first access (a few ms, and a handle); `canary rollback`
    // never touches it, so it is looked up only when a command asks.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
    // runProcess (src/run-process.ts) exits once main returns.
    exitsWhenDone: true,
  });
  const flush = () =>
    Promise.all(
      opened.map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))),
    ).then(() => {});
  return { io, flush };
}
