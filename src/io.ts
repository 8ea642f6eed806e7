/**
 * The process's edges, passed in so `main(argv, io)` can run in-process in tests and so
 * every byte canary prints passes through one place that scrubs secrets.
 */
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

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
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

export function createIo(base: {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  env: Record<string, string | undefined>;
  cwd: string;
  exitsWhenDone?: boolean;
}): Io {
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text;
    for (const secret of secrets) {
      if (secret.length > 0) out = out.split(secret).join(MASK);
    }
    return out;
  };
  return {
    stdout: redacting(base.stdout, redact),
    stderr: redacting(base.stderr, redact),
    // A getter, so a command that never reads stdin never pays for creating it (see processIo).
    get stdin() {
      return base.stdin;
    },
    env: base.env,
    cwd: base.cwd,
    exitsWhenDone: base.exitsWhenDone ?? false,
    addSecret(secret: string) {
      // Very short values would redact ordinary words; keys are never that short.
      if (secret.length >= 4) secrets.add(secret);
    },
    redact,
  };
}

/** process.stdout or process.stderr, set up on first use; see processIo. */
function lazyProcessStream(name: 'stdout' | 'stderr', opened: NodeJS.WriteStream[]): OutStream {
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
    write: (chunk: string) => get().write(chunk),
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
 * to the operating system, so an exit right after cuts nothing short.
 */
export function processIo(): { io: Io; flush(): Promise<void> } {
  const opened: NodeJS.WriteStream[] = [];
  const io = createIo({
    stdout: lazyProcessStream('stdout', opened),
    stderr: lazyProcessStream('stderr', opened),
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
