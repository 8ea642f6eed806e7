/**
 * The rollout's end of the control channel (src/control/channel.ts): listens on the route's
 * socket in the state folder, journals each request (`control_request`: who and why), hands it
 * to the engine through the same operator-command queue the terminal's keys use, and answers
 * with what the engine then reported (its `operator_action`, or for an abort the rollback's
 * result). It decides nothing itself beyond what needs no engine: a pause while already
 * paused, a resume while not paused, a request after the run finished.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { OperatorRequest } from '../rollout/engine.js';
import type { RolloutEvent } from '../rollout/events.js';
import {
  CONTROL_PROTOCOL_VERSION,
  type ControlAnswer,
  type ControlRequest,
  controlSocketPath,
  type LiveInfo,
  MAX_REASON,
  sendControl,
} from './channel.js';
import { heldAfter } from './hold.js';

export interface ControlServerOptions {
  stateDir: string;
  route: string;
  plan: string;
  /** The engine's operator-command queue. */
  push(request: OperatorRequest): void;
  /** Journals and reports an event (the rollout's emit). */
  emit(event: RolloutEvent): void;
  now(): number;
  warn(message: string): void;
  /** How long to wait for the engine to act before answering "queued" (default 3 s). */
  answerMs?: number | undefined;
  /** How long an abort waits for the rollback's result (default 60 s). */
  abortMs?: number | undefined;
}

type Waiter = (event: RolloutEvent) => ControlAnswerBody | undefined;
type ControlAnswerBody = Omit<ControlAnswer, 'type' | 'version' | 'info'>;

const MAX_LINE = 16 * 1024;

export class ControlServer {
  private readonly waiters = new Set<Waiter>();
  private stage: number | null = null;
  private stageCount = 0;
  private weight: number | null = null;
  private held = false;
  private gateOpen = false;
  private finished: { summary: string; exitCode: number } | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly server: Server,
    readonly socketPath: string,
    private readonly opts: ControlServerOptions,
  ) {
    server.on('connection', (socket) => this.onConnection(socket));
  }

  /** Follows the run (call from the rollout's emit path, after the journal). */
  observe(event: RolloutEvent): void {
    this.held = heldAfter(this.held, event);
    switch (event.type) {
      case 'rollout_started':
        this.stageCount = event.stages.length;
        break;
      case 'stage_started':
        this.stage = event.stage;
        this.stageCount = event.stageCount;
        this.weight = event.weight;
        this.gateOpen = false;
        break;
      case 'paused':
        this.gateOpen = true;
        break;
      case 'gate_decision':
        this.gateOpen = false;
        break;
      case 'operator_action':
        if (event.action === 'promote') this.gateOpen = false;
        break;
      case 'rollout_finished':
        this.finished = { summary: event.summary, exitCode: event.exitCode };
        break;
      default:
        break;
    }
    for (const waiter of [...this.waiters]) {
      const body = waiter(event);
      if (body) this.waiters.delete(waiter);
    }
  }

  close(): void {
    // Answer whoever still waits with how the run ended, then stop listening.
    for (const waiter of [...this.waiters]) {
      waiter({
        type: 'log',
        at: this.opts.now(),
        level: 'info',
        message: '\0closing',
      });
    }
    this.waiters.clear();
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
    if (process.platform !== 'win32') {
      try {
        unlinkSync(this.socketPath);
      } catch {
        // Already gone.
      }
    }
  }

  private info(): LiveInfo {
    return {
      route: this.opts.route,
      pid: process.pid,
      host: hostname(),
      plan: this.opts.plan,
      stage: this.stage,
      stage_count: this.stageCount,
      weight: this.weight,
      held: this.held,
      gate_open: this.gateOpen,
    };
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    let handled = false;
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      if (handled) return;
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) {
        if (buffer.length > MAX_LINE) socket.destroy();
        return;
      }
      handled = true;
      const reply = (body: ControlAnswerBody) => {
        const answer: ControlAnswer = {
          type: 'control_answer',
          version: CONTROL_PROTOCOL_VERSION,
          ...body,
          info: this.info(),
        };
        if (!socket.destroyed) socket.end(`${JSON.stringify(answer)}\n`);
      };
      void this.handle(buffer.slice(0, end)).then(reply, (error: unknown) =>
        reply({ ok: false, message: `the rollout could not act: ${(error as Error).message}` }),
      );
    });
  }

  private async handle(line: string): Promise<ControlAnswerBody> {
    const request = parseRequest(line);
    if (typeof request === 'string') return { ok: false, message: request };
    if (request.action === 'info') return { ok: true, message: 'running' };
    if (this.finished) {
      return {
        ok: false,
        message: `the rollout has finished: ${this.finished.summary}`,
        exit_code: this.finished.exitCode,
      };
    }
    const where =
      this.stage === null ? 'before the first stage' : `stage ${this.stage + 1}/${this.stageCount}`;
    if (request.action === 'pause' && this.held) return { ok: true, message: `already paused at ${where}` };
    if (request.action === 'resume' && !this.held) {
      return {
        ok: true,
        message: this.gateOpen
          ? `not paused by anyone; ${where} is at its manual gate: \`canary promote\` answers it`
          : `not paused; nothing to resume at ${where}`,
      };
    }
    const by = `${request.user}@${request.host} pid ${request.pid}`;
    this.opts.emit({
      type: 'control_request',
      at: this.opts.now(),
      action: request.action,
      full: request.full || undefined,
      reason: request.reason,
      user: request.user,
      host: request.host,
      pid: request.pid,
    });
    const command = ({ promote: 'promote', pause: 'hold', resume: 'release', abort: 'rollback' } as const)[
      request.action
    ];
    const answer = this.waitFor(
      request.action === 'abort' ? (this.opts.abortMs ?? 60_000) : (this.opts.answerMs ?? 3_000),
      (event) => {
        if (request.action === 'abort') {
          if (event.type === 'rollout_finished') {
            return { ok: true, message: event.summary, exit_code: event.exitCode };
          }
          return undefined;
        }
        if (event.type === 'operator_action' && event.action === command)
          return { ok: true, message: event.detail };
        if (event.type === 'rollout_finished') {
          return {
            ok: false,
            message: `the rollout finished first: ${event.summary}`,
            exit_code: event.exitCode,
          };
        }
        return undefined;
      },
    );
    this.opts.push({ command, full: request.full, by, reason: request.reason });
    return answer;
  }

  private waitFor(ms: number, match: Waiter): Promise<ControlAnswerBody> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve({
          ok: true,
          queued: true,
          message:
            'queued: the rollout is busy (setting weights, reading metrics or running checks) and acts on it at its next step',
        });
      }, ms);
      const waiter: Waiter = (event) => {
        if (event.type === 'log' && event.message === '\0closing') {
          clearTimeout(timer);
          resolve(
            this.finished
              ? {
                  ok: false,
                  message: `the rollout finished first: ${this.finished.summary}`,
                  exit_code: this.finished.exitCode,
                }
              : { ok: false, message: 'the rollout stopped before acting on it' },
          );
          return {} as ControlAnswerBody;
        }
        const body = match(event);
        if (body) {
          clearTimeout(timer);
          resolve(body);
        }
        return body;
      };
      this.waiters.add(waiter);
    });
  }
}

function parseRequest(
  line: string,
): (ControlRequest & { action: 'promote' | 'pause' | 'resume' | 'abort' | 'info' }) | string {
  let parsed: Partial<ControlRequest>;
  try {
    parsed = JSON.parse(line) as Partial<ControlRequest>;
  } catch {
    return 'not a JSON request';
  }
  if (parsed?.type !== 'control_request') return 'not a control request';
  if (!['promote', 'pause', 'resume', 'abort', 'info'].includes(String(parsed.action))) {
    return `unknown action ${JSON.stringify(parsed.action)}`;
  }
  const text = (v: unknown, fallback: string) =>
    typeof v === 'string' && v.length > 0 ? v.slice(0, 200) : fallback;
  return {
    type: 'control_request',
    version: Number(parsed.version) || 1,
    action: parsed.action as ControlRequest['action'],
    full: parsed.full === true || undefined,
    reason:
      typeof parsed.reason === 'string' && parsed.reason.trim()
        ? parsed.reason.trim().slice(0, MAX_REASON)
        : undefined,
    user: text(parsed.user, 'unknown'),
    host: text(parsed.host, 'unknown'),
    pid: Number.isInteger(parsed.pid) ? (parsed.pid as number) : 0,
  };
}

/**
 * Listens on the route's control socket. A socket file left by a run that died is replaced; one
 * another live run answers on is left alone, and this run goes without a channel (a warning
 * says so; the route lock normally makes this impossible). Never throws: the channel serves
 * the rollout, it is not needed for it.
 */
export async function openControlServer(opts: ControlServerOptions): Promise<ControlServer | null> {
  const socketPath = controlSocketPath(opts.stateDir, opts.route);
  const listen = () =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.removeListener('error', reject);
        resolve(server);
      });
    });
  try {
    let server: Server;
    try {
      server = await listen();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const probe = await sendControl(
        socketPath,
        { type: 'control_request', version: 1, action: 'info', user: '', host: '', pid: process.pid },
        1_000,
      );
      if (probe.kind === 'answer') {
        opts.warn(
          `warning: another canary run (pid ${probe.answer.info.pid}) already answers control commands for ${opts.route} at ${socketPath}; this run takes none.`,
        );
        return null;
      }
      unlinkSync(socketPath);
      server = await listen();
    }
    if (process.platform !== 'win32') chmodSync(socketPath, 0o600);
    server.unref();
    return new ControlServer(server, socketPath, opts);
  } catch (error) {
    opts.warn(
      `warning: no control channel for this run (${(error as Error).message}); \`canary promote|pause|resume|abort\` cannot reach it, \`canary rollback\` still can.`,
    );
    return null;
  }
}
