/**
 * A real Prometheus for the end-to-end tests: started on a free loopback port with its own
 * config and data folder (never the system service), scraping the given targets every second.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { until } from './runs.js';

/** Whether a `prometheus` binary runs here (.ci/run installs Debian's package). */
export const PROMETHEUS_INSTALLED = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `check` holds: Prometheus is an external process; an error counts as not yet. */
export async function waitFor(what: string, check: () => Promise<boolean>, capMs = 30_000): Promise<void> {
  try {
    await until(what, () => check().catch(() => false), capMs);
  } catch {
    throw new Error(`gave up waiting for ${what} after ${capMs / 1000} s`);
  }
}

export interface RunningPrometheus {
  url: string;
  process: ChildProcess;
  log: () => string;
  query(promql: string): Promise<{ status: string; data?: { result: unknown[] } }>;
  stop(): Promise<void>;
}

export async function startPrometheus(dir: string, targets: string[]): Promise<RunningPrometheus> {
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: emulator',
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'prometheus.yml'), config);
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    log = (log + chunk).slice(-20_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running: RunningPrometheus = {
    url,
    process: child,
    log: () => log,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
      return (await res.json()) as { status: string; data?: { result: unknown[] } };
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    await waitFor('Prometheus to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
      return (await fetch(`${url}/-/ready`)).ok;
    });
  } catch (error) {
    await running.stop();
    throw new Error(`${(error as Error).message}\n${log}`);
  }
  return running;
}
