/**
 * Runs a stage's `checks:` commands for the engine (deps.stageChecks): each through `sh -c` in
 * the plan's folder, in its own process group so a timeout or an interrupt kills everything it
 * started, with the rollout's facts in CANARY_* variables and never the API key.
 */
import { spawn } from 'node:child_process';
import type { StageCheck } from '../domain/plan.js';
import { formatDuration } from '../format.js';
import type { StageChecksContext } from '../rollout/engine.js';
import type { StageCheckResult } from '../rollout/events.js';

/** Lines of output kept in the event: enough to see why a smoke test failed, small enough for a log. */
const TAIL_LINES = 20;
const TAIL_CHARS = 4_000;
/** Bytes kept while the command runs; older output is dropped. */
const BUFFER_CHARS = 64 * 1024;

export interface CheckRunnerOptions {
  /** Folder the commands run in (the plan's). */
  cwd: string;
  /** The environment to start from (the process's). */
  env: Record<string, string | undefined>;
  route: string;
  baselineTag: string;
  canaryTag: string;
  /** Env var names never passed on (the API key's, webhook URLs'). */
  withhold: string[];
  /** Scrubs registered secrets from captured output; any variable whose value holds one is withheld too. */
  redact: (text: string) => string;
  /** After SIGTERM, how long the group has before SIGKILL (default 2 s). */
  killGraceMs?: number;
}

export function tail(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').trimEnd().split('\n');
  const kept = lines.slice(-TAIL_LINES).join('\n');
  return kept.length > TAIL_CHARS ? `…${kept.slice(-TAIL_CHARS)}` : kept;
}

export function checkEnv(
  options: CheckRunnerOptions,
  ctx: Pick<StageChecksContext, 'stage' | 'weight'>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env)) {
    if (value === undefined || options.withhold.includes(name)) continue;
    if (options.redact(value) !== value) continue; // holds a secret (the key, a webhook URL)
    env[name] = value;
  }
  env.CANARY_ROUTE = options.route;
  env.CANARY_STAGE = String(ctx.stage + 1);
  env.CANARY_WEIGHT = String(ctx.weight);
  env.CANARY_CANARY_TAG = options.canaryTag;
  env.CANARY_BASELINE_TAG = options.baselineTag;
  return env;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function runCheck(
  check: StageCheck,
  env: Record<string, string>,
  options: Pick<CheckRunnerOptions, 'cwd' | 'redact' | 'killGraceMs'>,
  signal?: AbortSignal,
): Promise<StageCheckResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const append = (chunk: string) => {
      output += chunk;
      if (output.length > BUFFER_CHARS) output = output.slice(-BUFFER_CHARS);
    };
    const finish = (exitCode: number | null, note?: string) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      let text = output;
      if (note) text += `${text.endsWith('\n') || text === '' ? '' : '\n'}${note}`;
      resolve({
        name: check.name,
        status: exitCode === 0 && !timedOut ? 'pass' : 'fail',
        exitCode: timedOut ? null : exitCode,
        timedOut,
        durationMs: Math.round(performance.now() - started),
        output: options.redact(tail(text)),
      });
    };

    let child: ReturnType<typeof spawn>;
    try {
      child = spawn('/bin/sh', ['-c', check.run], {
        cwd: options.cwd,
        env,
        // Its own process group: a timeout kills the script's children too, not just the shell.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      finish(null, `could not start: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const stop = () => {
      killGroup(child.pid, 'SIGTERM');
      timers.push(setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.killGraceMs ?? 2_000));
    };
    const onAbort = () => stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) stop();
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop();
      }, check.timeoutMs),
    );
    child.stdout?.setEncoding('utf8').on('data', append);
    child.stderr?.setEncoding('utf8').on('data', append);
    child.on('error', (error) => finish(null, `could not start: ${error.message}`));
    child.on('exit', (code) => {
      // Output may still be in the pipes; a grandchild holding them open must not hang the stage.
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish(code, timedOut ? `timed out after ${formatDuration(check.timeoutMs)}` : undefined);
        }, 500),
      );
      child.on('close', () =>
        finish(code, timedOut ? `timed out after ${formatDuration(check.timeoutMs)}` : undefined),
      );
    });
  });
}

/** The engine's `stageChecks`: runs checks in order and stops at the first failure (it decides). */
export function createCheckRunner(
  options: CheckRunnerOptions,
): (ctx: StageChecksContext) => Promise<StageCheckResult[]> {
  return async (ctx) => {
    const env = checkEnv(options, ctx);
    const results: StageCheckResult[] = [];
    for (const check of ctx.checks) {
      const result = await runCheck(check, env, options, ctx.signal);
      results.push(result);
      if (result.status === 'fail' || ctx.signal?.aborted) break;
    }
    return results;
  };
}
