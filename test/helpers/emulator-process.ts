/**
 * `canary emulator` as a process of its own, as a user runs it next to a rollout: started from
 * the built CLI on a free port, read through its printed base URL, stopped with SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { BIN, baseEnv, scratchCwd } from './spawn.js';

export interface EmulatorProcess {
  baseUrl: string;
  apiKey: string;
  /** The route's rules as the relay serves them now. */
  weights(route: string): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startEmulatorProcess(opts: {
  apiKey: string;
  scenario?: string;
  seed?: number;
}): Promise<EmulatorProcess> {
  const args = [
    'emulator',
    '--port',
    '0',
    '--api-key',
    opts.apiKey,
    '--rps',
    '1000',
    '--seed',
    String(opts.seed ?? 7),
  ];
  if (opts.scenario) args.push('--scenario', opts.scenario);
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd: scratchCwd(),
    env: baseEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening`)));
  });
  return {
    baseUrl,
    apiKey: opts.apiKey,
    async weights(route) {
      const res = await fetch(`${baseUrl}/routes/traffic/${encodeURIComponent(route)}`, {
        headers: { authorization: `Bearer ${opts.apiKey}` },
      });
      const body = (await res.json()) as { route_rules?: { version_tag: string; weight: number }[] };
      return Object.fromEntries((body.route_rules ?? []).map((r) => [r.version_tag, r.weight]));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
