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
  options: { transport: TransportFactory; allowInsecureHttp?: boolean | undefined },
): Promise<OpenedCustomMetrics | undefined> {
  const metrics = plan.analysis.customMetrics ?? [];
  if (metrics.length === 0) return undefined;
  const closers: (() => Promise<void>)[] = [];
  const readers = new Map<string, Reader>();
  let prometheus: PrometheusSource | undefined;
  try {
    for (const metric of metrics) readers.set(metric.name, await openOne(metric));
  } catch (error) {
    await Promise.all(closers.map((c) => c().catch(() => {})));
    throw error;
  }

  async function openOne(metric: CustomMetricConfig): Promise<Reader> {
    const source = metric.source;
    if (source.kind === 'prometheus') {
      if (!prometheus) {
        const config = plan.analysis.prometheus;
        if (!config) throw new UsageError(`analysis.metrics ${metric.name} needs analysis.prometheus.url`);
        const opened = await openPrometheus(config, io, options);
        prometheus = opened;
        closers.push(() => opened.close());
      }
      const p = prometheus;
      return async (q, call) => ({ value: await p.readQuery(metric.name, source.query, q, call) });
    }
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

  return {
    async read(q, call) {
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
      // A metric that can fail a check and could not be read fails the whole read (fail safe, as
      // for the built-in metrics); a dry-run one is only reported.
      const failed = entries.find(([metric, v]) => !metric.dryRun && 'error' in v);
      if (failed) throw new Error((failed[1] as { error: string }).error);
      const values: CustomValues = {};
      for (const [metric, v] of entries) values[metric.name] = v;
      return values;
    },
    async close() {
      await Promise.all(closers.map((c) => c().catch(() => {})));
    },
  };
}
