import { socketPoolTransport } from '../../src/relay/socket-pool.js';
import { socketTransport } from '../../src/relay/socket-transport.js';
import type { TransportFactory } from '../../src/relay/transport.js';
import { undiciTransport } from '../../src/relay/undici-transport.js';

/**
 * Both transports, for suites that hold the relay client to the same behaviour whichever one it
 * talks through (src/relay/transport.ts).
 */
export const TRANSPORTS: { name: string; factory: TransportFactory }[] = [
  { name: 'undici', factory: undiciTransport },
  { name: 'socket', factory: socketTransport },
  { name: 'socket pool', factory: socketPoolTransport },
];
