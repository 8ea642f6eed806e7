/**
 * `canary emulator`: runs the built-in relay emulator in the foreground until SIGINT or SIGTERM.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Clock } from '../clock.js';
import type { emulatorCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { isLoopbackHost } from '../relay/url.js';

export type EmulatorCommandOptions = CommandOptions<typeof emulatorCommand>;

export interface EmulatorCommandDeps {
  /** Stops the emulator when aborted; default: SIGINT or SIGTERM. */
  signal?: AbortSignal;
  clock?: Clock;
}

/** The --rps default commander fills in; a scenario's own rps wins over it. */
const CLI_DEFAULT_RPS = 200;
const DEV_KEY = 'dev-key';

export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65_535) {
    throw new UsageError(`--port takes a number from 0 to 65535 (0 picks a free port), got '${value}'`);
  }
  return Number(value);
}

function untilSignal(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((done) => {
    if (signal) {
      if (signal.aborted) done('abort');
      else signal.addEventListener('abort', () => done('abort'), { once: true });
      return;
    }
    const onSignal = (name: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      done(name);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runEmulatorCommand(
  opts: EmulatorCommandOptions,
  io: Io,
  deps: EmulatorCommandDeps = {},
): Promise<number> {
  const port = parsePort(opts.port);
  const host = opts.host.trim() || '127.0.0.1';
  const key = chooseKey(opts, io, host);
  const { loadScenario, startEmulator } = await import('../emulator/index.js');
  const scenario =
    opts.scenario === undefined
      ? undefined
      : await loadScenario(isAbsolute(opts.scenario) ? opts.scenario : resolve(io.cwd, opts.scenario));

  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emulator = await startEmulator({
      port,
      host,
      apiKey: key.apiKey,
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(scenario ? { scenario } : {}),
      ...(scenario?.rps !== undefined && opts.rps === CLI_DEFAULT_RPS ? {} : { rps: opts.rps }),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      onCall: (call) =>
        io.stderr.write(`${call.at} ${call.method} ${call.path} ${call.status ?? call.fault}\n`),
    });
  } catch (error) {
    throw listenError(error, host, port);
  }
  announce(io, emulator, host, key.source);

  await untilSignal(deps.signal);
  await emulator.close();
  io.stderr.write('emulator stopped\n');
  return 0;
}

/**
 * The key clients must send: --api-key, else RELAY_API_KEY (both kept out of output), else the
 * well-known default, which only a loopback address may use.
 */
function chooseKey(opts: EmulatorCommandOptions, io: Io, host: string): { apiKey: string; source: string } {
  let apiKey: string;
  let source: string;
  if (opts.apiKey) {
    apiKey = opts.apiKey;
    source = '--api-key';
  } else if (io.env.RELAY_API_KEY) {
    apiKey = io.env.RELAY_API_KEY;
    source = 'RELAY_API_KEY';
  } else {
    apiKey = DEV_KEY;
    source = 'default';
  }
  if (source !== 'default') io.addSecret(apiKey);
  if (!isLoopbackHost(host) && source === 'default') {
    // A well-known key on a reachable address would let anyone on the network drive it.
    throw new UsageError(`refusing to listen on ${host} with the default key '${DEV_KEY}'`, {
      hint: 'set --api-key or RELAY_API_KEY, or keep the default --host 127.0.0.1',
    });
  }
  return { apiKey, source };
}

/** What a failure to listen means to the person who chose --host and --port; others unchanged. */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new UsageError(`port ${port} on ${host} is already in use`, {
      hint: 'pick another with --port (0 picks a free one), or stop the process using it',
    });
  }
  if (code === 'EACCES') {
    return new UsageError(`not allowed to listen on ${host}:${port}`, {
      hint: 'ports below 1024 need privileges; try --port 8787',
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UsageError(`cannot listen on --host ${host}: no such local address`);
  }
  return error;
}

/** The address on stdout (a script reads it); the key's source, warnings and the seed on stderr. */
function announce(
  io: Io,
  emulator: { baseUrl: string; rps: number; seed: number },
  host: string,
  keySource: string,
): void {
  io.stdout.write(`canary emulator listening on ${emulator.baseUrl}\n`);
  if (keySource === 'default') {
    io.stderr.write(`no --api-key or RELAY_API_KEY set: clients must send the key '${DEV_KEY}'\n`);
  } else {
    io.stderr.write(`clients must send the key from ${keySource}\n`);
  }
  if (!isLoopbackHost(host)) {
    io.stderr.write(`warning: listening on ${host}, reachable from other machines; traffic is plain http\n`);
  }
  io.stderr.write(
    `simulating ${emulator.rps} requests/s per route, seed ${emulator.seed} (pass --seed ${emulator.seed} to reproduce)\n`,
  );
  io.stderr.write('press Ctrl-C to stop\n');
}
