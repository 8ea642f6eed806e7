/**
 * Picks where a plan's metrics come from: the relay's metrics API (default) or Prometheus
 * (`analysis.provider: prometheus`). Credentials for Prometheus come from env vars named in
 * the plan and are registered with the Io, so no output can show them.
 */

import type { Plan, PrometheusConfig } from '../domain/plan.js';
import type { MetricsSource, RelayPort } from '../domain/relay.js';
import { CredentialsError, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import type { TransportFactory } from '../relay/transport.js';
import { isLoopbackHost } from '../relay/url.js';
import type { PrometheusAuth } from './prometheus.js';

export { DEFAULT_QUERIES } from '../domain/promql.js';

export interface OpenedMetricsSource extends MetricsSource {
  /** Where the numbers come from, for people: `relay` or `prometheus at http://…`. */
  readonly description: string;
  close(): Promise<void>;
}

export interface MetricsSourceOptions {
  /** Same opt-in as for the relay: credentials over plain http to another machine. */
  allowInsecureHttp?: boolean | undefined;
  /** How Prometheus is reached (required with provider: prometheus); each command names its own. */
  transport?: TransportFactory | undefined;
}

function secretFromEnv(io: Io, envVar: string, what: string): string {
  const value = io.env[envVar]?.trim();
  if (!value) {
    throw new CredentialsError(
      `${what} for Prometheus: the environment variable ${envVar} is not set or empty.`,
      {
        hint: `Set ${envVar}, or remove it from analysis.prometheus if Prometheus needs no credentials.`,
      },
    );
  }
  io.addSecret(value);
  return value;
}

function resolveAuth(config: PrometheusConfig, io: Io): PrometheusAuth | undefined {
  if (config.bearerTokenEnv !== undefined) {
    const token = secretFromEnv(io, config.bearerTokenEnv, 'The bearer token');
    return { kind: 'bearer', token, source: `env ${config.bearerTokenEnv}` };
  }
  if (config.basicAuth !== undefined) {
    const password = secretFromEnv(io, config.basicAuth.passwordEnv, 'The password');
    return {
      kind: 'basic',
      username: config.basicAuth.username,
      password,
      source: `user ${config.basicAuth.username} with the password in env ${config.basicAuth.passwordEnv}`,
    };
  }
  return undefined;
}

/**
 * A Prometheus client for the plan's `analysis.prometheus`, its credentials read from env vars
 * (and registered as secrets); refuses them over plain http to another machine unless allowed.
 * Used for the built-in metrics (provider: prometheus) and for PromQL `analysis.metrics`.
 */
export async function openPrometheus(
  config: PrometheusConfig,
  io: Io,
  options: { allowInsecureHttp?: boolean | undefined; transport: TransportFactory },
): Promise<import('./prometheus.js').PrometheusSource> {
  const url = new URL(config.url);
  const auth = resolveAuth(config, io);
  if (auth && url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !options.allowInsecureHttp) {
    throw new UsageError(
      `Refusing plain http to Prometheus at ${url.host} with credentials: they would cross the network unencrypted. Use https, or pass --allow-insecure-http to accept the risk.`,
    );
  }
  const { createPrometheusSource } = await import('./prometheus.js');
  return createPrometheusSource({
    url: config.url,
    queries: config.queries,
    auth,
    transport: options.transport,
  });
}

export async function createMetricsSource(
  /** Without a plan (`canary status --route`), the relay. */
  plan: { analysis: Pick<Plan['analysis'], 'provider' | 'prometheus'> } | undefined,
  connection: { client: RelayPort },
  io: Io,
  options: MetricsSourceOptions = {},
): Promise<OpenedMetricsSource> {
  const config = plan?.analysis.prometheus;
  if (plan?.analysis.provider !== 'prometheus' || config === undefined) {
    const relay = connection.client;
    return {
      name: relay.name,
      description: relay.name,
      readMetrics: (query, call) => relay.readMetrics(query, call),
      // The connection owns the relay client and closes it.
      close: async () => {},
    };
  }
  if (!options.transport) throw new Error('createMetricsSource: provider prometheus needs a transport');
  const source = await openPrometheus(config, io, { ...options, transport: options.transport });
  return {
    name: source.name,
    description: `prometheus at ${source.url}`,
    readMetrics: (query, call) => source.readMetrics(query, call),
    close: () => source.close(),
  };
}
