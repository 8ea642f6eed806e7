/**
 * The operator's commands as a queue the engine pulls from: the terminal's keys
 * (src/terminal/session.ts) and the control channel (./server.ts) push, the engine's one
 * outstanding `next()` takes. Commands pressed while the engine is busy (setting weights,
 * rolling back) wait here instead of being lost.
 */
import type { OperatorCommand, OperatorControls, OperatorRequest } from '../rollout/engine.js';

type Queued = OperatorCommand | OperatorRequest;

export class ControlQueue implements OperatorControls {
  private readonly queued: Queued[] = [];
  private waiter: ((command: Queued) => void) | null = null;
  private closed = false;

  push(command: Queued): void {
    if (this.closed) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter(command);
    } else {
      this.queued.push(command);
    }
  }

  next(signal: AbortSignal): Promise<Queued> {
    const queued = this.queued.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed || signal.aborted) return Promise.reject(new Error('no more operator commands'));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiter = null;
        reject(new Error('the run stopped listening'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (command) => {
        signal.removeEventListener('abort', onAbort);
        resolve(command);
      };
    });
  }

  close(): void {
    this.closed = true;
    this.queued.length = 0;
  }
}
