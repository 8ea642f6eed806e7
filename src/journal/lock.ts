/**
 * One rollout per route per state dir: `<state-dir>/<route>.lock`, created with O_EXCL and
 * holding the owner's pid, host and start time. A lock left by a dead process on this host
 * (kill -9, a crash) is taken over with a warning; a live one, or one from another host,
 * refuses the second rollout before it touches anything.
 *
 * The lock only sees one machine (or one shared state dir). Rollouts started from different
 * machines are caught by the engine instead: the pre-flight refuses a route that is not at
 * the plan's starting point, and the drift check before every write stops either run the
 * moment the other moves the weights — neither ever overwrites the other.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { CanaryError, ExitCode } from '../errors.js';
import { safeRouteName } from './paths.js';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  plan?: string | undefined;
}

export interface RouteLock {
  file: string;
  release(): void;
}

export function lockPath(stateDir: string, route: string): string {
  return path.join(stateDir, `${safeRouteName(route)}.lock`);
}

/** Does a process with this pid run on this host? (EPERM: it does, as someone else.) */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return parsed as LockInfo;
  } catch {
    // Unreadable or half-written: treated as held, since its owner may be writing it right now.
  }
  return null;
}

export function acquireLock(opts: {
  stateDir: string;
  route: string;
  plan?: string | undefined;
  now: number;
  warn: (message: string) => void;
}): RouteLock {
  const file = lockPath(opts.stateDir, opts.route);
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const me: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(opts.now).toISOString(),
    plan: opts.plan,
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(file);
      if (holder && holder.host === me.host && holder.pid !== me.pid && !isAlive(holder.pid)) {
        opts.warn(
          `warning: taking over the lock ${file}: its owner (pid ${holder.pid}, started ${holder.startedAt}) is no longer running.`,
        );
        try {
          unlinkSync(file);
        } catch {
          // Someone else took it over first; the next attempt finds out.
        }
        continue;
      }
      const who = holder
        ? `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}${holder.plan ? ` with ${holder.plan}` : ''}`
        : 'an unknown process';
      throw new CanaryError(
        `another canary rollout of route ${opts.route} is running (${who}); nothing was changed.`,
        ExitCode.Aborted,
        {
          hint:
            holder && holder.host !== me.host
              ? `wait for it to finish; if that machine's run is gone for good, delete ${file}.`
              : `wait for it to finish, or stop it (Ctrl-C rolls it back); a lock from a process that no longer runs is taken over automatically.`,
        },
      );
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        // Only remove our own lock: a takeover may have replaced it.
        if (readLock(file)?.pid === me.pid) {
          try {
            unlinkSync(file);
          } catch {
            // Gone already.
          }
        }
      },
    };
  }
  throw new CanaryError(`could not take the lock ${file}; nothing was changed.`, ExitCode.Aborted);
}
