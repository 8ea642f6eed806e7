/**
 * A transport that holds a FakeClock while each call is in flight, so virtual time cannot jump
 * past a loopback call to an in-process emulator (the FakeClock hazard: a second sleeper woken
 * while the answer is still on its way). For `canary simulate`, the judgement suite and tests;
 * real runs use the wall clock and never need it.
 */
import type { FakeClock } from '../clock.js';
import type { TransportFactory } from './transport.js';

export function heldTransport(factory: TransportFactory, clock: FakeClock): TransportFactory {
  return (options) => {
    const inner = factory(options);
    return {
      async request(request) {
        const release = clock.hold();
        try {
          return await inner.request(request);
        } finally {
          release();
        }
      },
      close: () => inner.close(),
    };
  };
}
