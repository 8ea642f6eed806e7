/**
 * Runs the built CLI (bin/canary.cjs → dist/) as a child process, the way users do.
 * `npm test` builds first; a test refuses to run the CLI from a missing build.
 *
 * A spawned CLI starts in a fresh scratch folder unless the test names one (`cwd`): run from
 * the repository, every command would find the `.canary/` state folder that README's first
 * command (`npx canary rollout examples/quickstart.yaml`) leaves there, and concurrent tests of
 * one route would share its lock and journal. A test that is about the current folder says so
 * with `cwd`.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/canary.cjs', import.meta.url));

const scratchFolders: string[] = [];
// Each test file loads this module afresh, so this runs once its tests (and, hooks running in
// reverse, its own afterAll hooks that stop what it started) are done.
afterAll(() => {
  for (const dir of scratchFolders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh, empty folder to run the CLI in, removed after the test file. It holds one
 * entry, `examples` (a link to the repository's), so that a plan named as a user names it
 * (`examples/quickstart.yaml`) is found and printed as written; the state folder a run makes
 * is the scratch folder's own.
 */
export function scratchCwd(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'canary-cwd-'));
  scratchFolders.push(dir);
  symlinkSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'), 'dir');
  return dir;
}

/**
 * A private copy of the launcher and the bundles of rollout, rollback and status, for tests of the
 * code cache (`dist/.cache/` of the copy), so the other tests' caches are left alone.
 * Returns the copy's folder and its bin/canary.cjs (pass it as runCli's `bin`).
 */
export function privateBuild(prefix: string): { dir: string; bin: string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'dist'));
  const bin = path.join(dir, 'bin', 'canary.cjs');
  copyFileSync(BIN, bin);
  for (const file of [
    'cli.cjs',
    'rollback.cjs',
    'status.cjs',
    'status-route.cjs',
    'version.json',
    'help.json',
  ]) {
    copyFileSync(path.join(ROOT, 'dist', file), path.join(dir, 'dist', file));
  }
  return { dir, bin };
}

/** Fails at once, saying why, when the CLI has not been built (only tests that run it need it). */
export function assertBuilt(): void {
  if (!existsSync(new URL('../../dist/cli.js', import.meta.url))) {
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it) before the e2e tests.');
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** The folder to start in (default: a fresh scratchCwd()). */
  cwd?: string;
  input?: string;
  /** Called with the child once it is running (e.g. to send a signal after some output). */
  onStdout?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
  /** The same for stderr (e.g. to act on a run's last lines). */
  onStderr?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
  /** Called with the child as soon as it is spawned (e.g. to signal it when the relay sees a call). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  timeoutMs?: number;
  /** Another copy of bin/canary.cjs to run (default BIN). */
  bin?: string;
}

/** A clean environment: no CI markers or colour settings leak in from the machine running the tests. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
      cwd: options.cwd ?? scratchCwd(),
      env: options.env ?? baseEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk, child);
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk, child);
    });
    // A generous safety net so a hung CLI fails the test instead of the whole run; not a timing assertion.
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}
