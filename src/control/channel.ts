/**
 * The control channel between a running `canary rollout` and `canary promote|pause|resume|abort`
 * run from another shell on the same machine: a Unix socket in the state folder
 * (`<state-dir>/<route>.sock`; a named pipe on Windows), one JSON line each way.
 *
 * Why a socket and not an append-only request file the engine polls:
 * - an answer comes back on the same connection, at once, so the command can print what the
 *   rollout did (or that it is busy) instead of guessing from a file;
 * - "is a rollout listening?" has a definite answer (connect fails: exit 6), with no stale
 *   request left in a file for the next run to act on by mistake;
 * - the rollout does no work while nobody asks (no polling timer next to its evaluations).
 * The audit trail a request file would give is in the journal instead: every request is
 * written there (`control_request`: who, why) before the run acts on it.
 *
 * Socket paths are limited to ~104 bytes; a deep state folder falls back to a path under
 * /tmp named by a hash of the folder and route, which every command computes the same way.
 *
 * This module is the client's whole dependency set (node:net, node:os), so the control
 * commands load nothing else (not even node:crypto: a socket's name needs no cryptographic hash).
 */
import { connect } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { formatDuration } from '../format.js';
import { loginName } from '../journal/login.js';
import { safeRouteName } from '../journal/paths.js';

export const CONTROL_PROTOCOL_VERSION = 1;
export type ControlAction = 'promote' | 'pause' | 'resume' | 'abort' | 'info';

export interface ControlRequest {
  type: 'control_request';
  version: number;
  action: ControlAction;
  full?: boolean | undefined;
  reason?: string | undefined;
  user: string;
  host: string;
  pid: number;
}

/** Where a running rollout stands, as its control server knows it from the events. */
export interface LiveInfo {
  route: string;
  pid: number;
  host: string;
  plan: string;
  /** 0-based, or null before the first stage. */
  stage: number | null;
  stage_count: number;
  weight: number | null;
  held: boolean;
  gate_open: boolean;
}

export interface ControlAnswer {
  type: 'control_answer';
  version: number;
  /** False when the rollout refused or could not act. */
  ok: boolean;
  /** What the rollout did, in words (the engine's own description when it acted). */
  message: string;
  /** True when the request is queued: the run was busy and acts on it at its next step. */
  queued?: boolean | undefined;
  /** For `abort`: the rollout's exit code once it has finished. */
  exit_code?: number | undefined;
  info: LiveInfo;
}

/** Longest reason accepted: a sentence, not a file. */
export const MAX_REASON = 500;

/** 64 bits of FNV-1a (two 32-bit lanes) as 16 hex digits: a stable short name, not a secret. */
function shortHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 + 2) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

export function controlSocketPath(stateDir: string, route: string): string {
  const dir = path.resolve(stateDir);
  const hash = shortHash(`${dir}\0${route}`);
  if (process.platform === 'win32') return `\\\\.\\pipe\\canary-${hash}`;
  const local = path.join(dir, `${safeRouteName(route)}.sock`);
  // sun_path holds 104 bytes on macOS, 108 on Linux, terminator included.
  return Buffer.byteLength(local) <= 100 ? local : path.join('/tmp', `canary-${hash}.sock`);
}

/** Who is asking: user, host and pid, for the journal. */
export function requester(): { user: string; host: string; pid: number } {
  return { user: loginName() ?? 'unknown', host: hostname(), pid: process.pid };
}

export type ControlResult =
  | { kind: 'answer'; answer: ControlAnswer }
  /** Nothing listens there: no rollout of that route runs with this state folder. */
  | { kind: 'not_running' }
  | { kind: 'no_answer'; why: string };

/**
 * Sends one request and waits for one answer line. Never throws: a missing socket is
 * `not_running`, anything else going wrong is `no_answer` with the reason.
 */
export function sendControl(
  socketPath: string,
  request: ControlRequest,
  timeoutMs: number,
): Promise<ControlResult> {
  return new Promise((resolve) => {
    let buffer = '';
    let settled = false;
    const socket = connect(socketPath);
    const finish = (result: ControlResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ kind: 'no_answer', why: `no answer within ${formatDuration(timeoutMs)}` }),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      try {
        const answer = JSON.parse(buffer.slice(0, end)) as ControlAnswer;
        if (answer?.type !== 'control_answer') throw new Error('not a control answer');
        finish({ kind: 'answer', answer });
      } catch (error) {
        finish({ kind: 'no_answer', why: `an unreadable answer (${(error as Error).message})` });
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // ENOENT: no socket; ECONNREFUSED: a socket file left by a run that died (kill -9).
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') finish({ kind: 'not_running' });
      else finish({ kind: 'no_answer', why: error.message });
    });
    socket.on('close', () => finish({ kind: 'no_answer', why: 'the rollout closed the connection' }));
  });
}
