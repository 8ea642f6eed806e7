/**
 * Several socket-transport connections behind one Transport, for commands that call the relay
 * concurrently (`canary status` over many routes, a rollout reading the route and two versions'
 * metrics at once). Each connection is a src/relay/socket-transport.ts one, opened when a call
 * finds every open one busy and fewer than `connections` open, so a status of one route opens
 * one. Nothing to load but node:net: undici's WebAssembly parser costs a short command more
 * than its calls do, and its pool and streams cost a rollout a third of its CPU per evaluation
 * (docs/benchmarks.md).
 */
import { socketTransport } from './socket-transport.js';
import type { Transport, TransportFactory } from './transport.js';

interface Lane {
  transport: Transport;
  /** Calls sent on this connection and not yet answered. */
  pending: number;
}

export const socketPoolTransport: TransportFactory = (options) => {
  const lanes: Lane[] = [];
  const most = Math.max(1, options.connections);

  function pick(): Lane {
    let lane = lanes.find((l) => l.pending === 0);
    if (lane) return lane;
    if (lanes.length < most) {
      lane = { transport: socketTransport({ ...options, connections: 1 }), pending: 0 };
      lanes.push(lane);
      return lane;
    }
    // All busy: queue behind the connection with the fewest calls waiting (each runs its calls in order).
    return lanes.reduce((best, l) => (l.pending < best.pending ? l : best));
  }

  return {
    request(request) {
      const lane = pick();
      lane.pending++;
      const call = lane.transport.request(request);
      // then, not finally: finally makes two more promises per call, and a rollout makes three
      // calls a look. The count drops before the caller's own continuation runs, as before.
      const done = () => {
        lane.pending--;
      };
      call.then(done, done);
      return call;
    },
    async close() {
      await Promise.all(lanes.map((lane) => lane.transport.close()));
    },
  };
};
