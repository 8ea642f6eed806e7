/**
 * Turns flags and a plan's `relay:` block into a connected relay client: picks the URL
 * (flag, plan, $CANARY_RELAY_URL), starts the in-process emulator for `url: emulator`,
 * resolves the API key and registers it with the Io so no output can ever show it.
 */

import type { EmulatorConfig } from '../domain/plan.js';
import type { EmulatorOptions, StartedEmulator } from '../emulator/index.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { createRelayClient, type RelayClient } from '../relay/client.js';
import { resolveApiKey } from '../relay/credentials.js';
import type { TransportFactory } from '../relay/transport.js';
import { parseBaseUrl } from '../relay/url.js';

export const RELAY_URL_ENV = 'CANARY_RELAY_URL';

export interface ConnectionRequest {
  /** `--relay-url`, which wins over everything. */
  flagUrl?: string | undefined;
  /** The plan's relay.url (may be `emulator`). */
  planUrl?: string | undefined;
  apiKeyEnv: string;
  apiKeyFile?: string | undefined;
  /** True when the key file was named on the command line: an explicit flag beats the environment. */
  apiKeyFileFromFlag?: boolean | undefined;
  allowInsecureHttp?: boolean | undefined;
  emulator?: EmulatorConfig | undefined;
  /**
   * Starts the in-process emulator for the URL `emulator`. Only `canary rollout` passes it: the
   * emulator lives as long as the process, so for any other command that URL is a mistake, and
   * leaving it out keeps the emulator out of `canary rollback`'s bundle.
   */
  startEmulator?: ((options: EmulatorOptions) => Promise<StartedEmulator>) | undefined;
  /** The plan file's folder, for scenario paths. */
  baseDir: string;
  /** Most connections to the relay at once; see RelayClientOptions.connections. */
  connections?: number | undefined;
  /**
   * How calls reach the relay. Each command names its own, so that `canary rollback`'s bundle
   * holds the socket transport alone and never loads undici.
   */
  transport: TransportFactory;
}

export interface Connection {
  client: RelayClient;
  /** The base URL shown to users (never holds credentials). */
  url: string;
  /** Where the key came from, for messages. */
  keySource: string;
  /** The env var whose value a manual command should use. */
  apiKeyEnv: string;
  /** True when the relay is an emulator started inside this process. */
  inProcessEmulator: boolean;
  /**
   * The key itself, for the data plane's own HTTP pool (src/evaluation/data-plane.ts). Already
   * registered with io.addSecret, so no output can show it.
   */
  apiKey: string;
  close(): Promise<void>;
}

export async function connect(request: ConnectionRequest, io: Io): Promise<Connection> {
  const url = request.flagUrl ?? request.planUrl ?? io.env[RELAY_URL_ENV];
  if (!url) {
    throw new UsageError(
      'no relay URL: pass --relay-url, give a plan with relay.url, or set CANARY_RELAY_URL.',
    );
  }
  return url === 'emulator' ? connectEmulator(request, io) : connectRelay(url, request, io);
}

/** `url: emulator`: an emulator started inside this process (a rollout's only), and its client. */
async function connectEmulator(request: ConnectionRequest, io: Io): Promise<Connection> {
  if (!request.startEmulator) {
    throw new UsageError(
      "the relay URL 'emulator' means an emulator inside this process, which only a rollout starts.",
      {
        hint: 'start one with `canary emulator --port 8787 --api-key dev-key` and pass --relay-url http://127.0.0.1:8787/v1',
      },
    );
  }
  // The key is still required and checked by the emulator, exactly like a real relay,
  // so the in-process path exercises the same authentication code.
  const key = io.env[request.apiKeyEnv] ?? `canary-local-${Math.random().toString(36).slice(2)}`;
  io.addSecret(key);
  const emulatorConfig = request.emulator ?? {};
  const handle = await request.startEmulator({
    port: 0,
    apiKey: key,
    // An inline scenario is the plan's JSON as written: the emulator reads it like a file.
    ...(typeof emulatorConfig.scenario === 'string' ? { scenario: emulatorConfig.scenario } : {}),
    ...(typeof emulatorConfig.scenario === 'object' ? { inlineScenario: emulatorConfig.scenario } : {}),
    ...(emulatorConfig.rps !== undefined ? { rps: emulatorConfig.rps } : {}),
    ...(emulatorConfig.seed !== undefined ? { seed: emulatorConfig.seed } : {}),
  });
  const client = createRelayClient({
    baseUrl: handle.baseUrl,
    apiKey: key,
    keySource: 'the built-in emulator',
    transport: request.transport,
  });
  return {
    client,
    url: handle.baseUrl,
    keySource: 'the built-in emulator',
    apiKeyEnv: request.apiKeyEnv,
    inProcessEmulator: true,
    apiKey: key,
    async close() {
      await client.close();
      await handle.close();
    },
  };
}

/** A relay at `url`: the URL checked, the key resolved (a key file named by flag beats the environment). */
async function connectRelay(url: string, request: ConnectionRequest, io: Io): Promise<Connection> {
  const parsed = parseBaseUrl(url, { allowInsecureHttp: request.allowInsecureHttp ?? false });
  const env = request.apiKeyFileFromFlag ? { ...io.env, [request.apiKeyEnv]: undefined } : io.env;
  const { key, source } = await resolveApiKey({
    env,
    envVar: request.apiKeyEnv,
    keyFile: request.apiKeyFile,
    cwd: request.baseDir,
  });
  io.addSecret(key);
  if (parsed.warning) io.stderr.write(`warning: ${parsed.warning}\n`);
  const client = createRelayClient({
    baseUrl: parsed.baseUrl,
    apiKey: key,
    keySource: source,
    // The client checks the URL again: without this it refused what --allow-insecure-http allowed.
    allowInsecureHttp: request.allowInsecureHttp ?? false,
    connections: request.connections,
    transport: request.transport,
  });
  return {
    client,
    url: parsed.baseUrl,
    keySource: source,
    apiKeyEnv: request.apiKeyEnv,
    inProcessEmulator: false,
    apiKey: key,
    close: () => client.close(),
  };
}
