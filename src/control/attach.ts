/**
 * `canary rollout`'s one call for the control channel: the operator-command queue the engine
 * reads (the terminal's, when a person is at one, so keys and remote commands share it; a
 * fresh one otherwise) and the server feeding it from other shells.
 */
import type { RolloutEvent } from '../rollout/events.js';
import { ControlQueue } from './queue.js';
import { type ControlServer, openControlServer } from './server.js';

export interface AttachedControl {
  controls: ControlQueue;
  socketPath: string | undefined;
  observe(event: RolloutEvent): void;
  close(): void;
}

export async function attachControl(opts: {
  stateDir: string;
  route: string;
  plan: string;
  /** The terminal's queue, when there is a terminal. */
  controls?: ControlQueue | undefined;
  emit(event: RolloutEvent): void;
  now(): number;
  warn(message: string): void;
}): Promise<AttachedControl> {
  const controls = opts.controls ?? new ControlQueue();
  const server: ControlServer | null = await openControlServer({
    stateDir: opts.stateDir,
    route: opts.route,
    plan: opts.plan,
    push: (request) => controls.push(request),
    emit: opts.emit,
    now: opts.now,
    warn: opts.warn,
  });
  return {
    controls,
    socketPath: server?.socketPath,
    observe: (event) => server?.observe(event),
    close: () => server?.close(),
  };
}
