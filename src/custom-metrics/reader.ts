/**
 * Opens the sources of a plan's `analysis.metrics:` for a rollout: one Prometheus client for
 * the PromQL ones (`analysis.prometheus`: its URL and credentials, whatever `provider` says) and
 * one HTTP client per JSON API. Secrets are read from env vars here, registered with the Io so
 * no output can show them, and missing ones stop the rollout before anything is changed.
 */

import type { CustomMetricConfig, Plan } from '../domain/plan.js';
import { CredentialsError, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { openPrometheus } from '../metrics/index.js';
import type { PrometheusSource } from '../metrics/prometheus.js';
import type { TransportFactory } from '../relay/transport.js';
import { isLoopbackHost } from '../relay/url.js';
import { createHttpMetric } from './http-source.js';
import type { CustomMetricsPort, CustomValue, CustomValues } from './types.js';

export interface OpenedCustomMetrics extends CustomMetricsPort {
  close(): Promise<void>;
}

type Reader = (
  q: Parameters<CustomMetricsPort['read']>[0],
  call?: { signal?: AbortSignal | undefined },
) => Promise<CustomValue>;

function envSecret(io: Io, metric: string, header: string, name: string): string {
  const value = io.env[name]?.trim();
  if (!value) {
    throw new CredentialsError(
      `analysis.metrics ${metric}: header ${header} comes from $${name}, which is not set or empty.`,
      {
        hint: `Set ${name} (the plan names the variable; the value never goes in the plan).`,
      },
    );
  }
  io.addSecret(value);
  return value;
}

export async function openCustomMetrics(
  plan: Pick<Plan, 'analysis'>,
  io: Io,
  options: OpenOptions,
): Promise<OpenedCustomMetrics | undefined> {
  const metrics = plan.analysis.customMetrics ?? [];
  if (metrics.length === 0) return undefined;
  const opening: Opening = { plan, io, options, closers: [], prometheus: undefined };
  const readers = new Map<string, Reader>();
  try {
    for (const metric of metrics) readers.set(metric.name, await openReader(opening, metric));
  } catch (error) {
    await closeAll(opening.closers);
    throw error;
  }
  return {
    read: (q, call) => readAll(metrics, readers, q, call),
    close: () => closeAll(opening.closers),
  };
}

type OpenOptions = { transport: TransportFactory; allowInsecureHttp?: boolean | undefined };

/** What opening the sources shares: one Prometheus client for every PromQL metric, and what to close. */
interface Opening {
  plan: Pick<Plan, 'analysis'>;
  io: Io;
  options: OpenOptions;
  closers: (() => Promise<void>)[];
  prometheus: PrometheusSource | undefined;
}

async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  await Promise.all(closers.map((c) => c().catch(() => {})));
}

async function openReader(opening: Opening, metric: CustomMetricConfig): Promise<Reader> {
  const source = metric.source;
  if (source.kind === 'prometheus') {
    if (!opening.prometheus) {
      const config = opening.plan.analysis.prometheus;
      if (!config) throw new UsageError(`analysis.metrics ${metric.name} needs analysis.prometheus.url`);
      const opened = await openPrometheus(config, opening.io, opening.options);
      opening.prometheus = opened;
      opening.closers.push(() => opened.close());
    }
    const p = opening.prometheus;
    return async (q, call) => ({ value: await p.readQuery(metric.name, source.query, q, call) });
  }
  return openHttpReader(opening, metric, source);
}

/** A JSON API's reader: its header secrets from env vars, never over plain http to another host. */
function openHttpReader(
  { io, options, closers }: Opening,
  metric: CustomMetricConfig,
  source: Extract<CustomMetricConfig['source'], { kind: 'http' }>,
): Reader {
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  for (const h of source.headers) {
    if (h.env !== undefined) {
      const secret = envSecret(io, metric.name, h.name, h.env);
      secrets.push(secret);
      headers[h.name.toLowerCase()] = `${h.prefix ?? ''}${secret}`;
    } else if (h.value !== undefined) headers[h.name.toLowerCase()] = h.value;
  }
  const url = new URL(source.url.replace(/\{\{[^}]*\}\}/g, 'x'));
  if (
    secrets.length > 0 &&
    url.protocol === 'http:' &&
    !isLoopbackHost(url.hostname) &&
    !options.allowInsecureHttp
  ) {
    throw new UsageError(
      `Refusing plain http to ${url.host} for analysis.metrics ${metric.name}: its headers carry a secret. Use https, or pass --allow-insecure-http.`,
    );
  }
  const reader = createHttpMetric({
    name: metric.name,
    source,
    headers,
    secrets,
    transport: options.transport,
  });
  closers.push(() => reader.close());
  return (q, call) => reader.read(q, call);
}

/**
 * Every metric at once. A metric that can fail a check and could not be read fails the whole
 * read (fail safe, as for the built-in metrics); a dry-run one is only reported.
 */
async function readAll(
  metrics: readonly CustomMetricConfig[],
  readers: Map<string, Reader>,
  q: Parameters<CustomMetricsPort['read']>[0],
  call?: { signal?: AbortSignal | undefined },
): Promise<CustomValues> {
  const entries = await Promise.all(
    metrics.map(async (metric): Promise<[CustomMetricConfig, CustomValue]> => {
      try {
        return [metric, await (readers.get(metric.name) as Reader)(q, call)];
      } catch (error) {
        if (call?.signal?.aborted) throw error;
        return [metric, { error: error instanceof Error ? error.message : String(error) }];
      }
    }),
  );
  const failed = entries.find(([metric, v]) => !metric.dryRun && 'error' in v);
  if (failed) throw new Error((failed[1] as { error: string }).error);
  const values: CustomValues = {};
  for (const [metric, v] of entries) values[metric.name] = v;
  return values;
}
