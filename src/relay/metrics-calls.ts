/** The relay's per-version metrics call, for a window given in epoch milliseconds. */

import type { CallOptions, MetricsQuery, RelayPort, VersionMetrics } from '../domain/relay.js';
import { readMetrics, toVersionMetrics } from './schemas.js';
import type { Wire } from './wire.js';

export type MetricsCalls = Pick<RelayPort, 'readMetrics'>;

export function metricsCalls(wire: Wire): MetricsCalls {
  return {
    async readMetrics(query: MetricsQuery, opts?: CallOptions): Promise<VersionMetrics> {
      const start = new Date(query.start).toISOString();
      const end = new Date(query.end).toISOString();
      const raw = await wire.call(
        {
          method: 'GET',
          path: '/metrics/versions',
          query: { version_tag: query.versionTag, start_time: start, end_time: end },
          subject: `metrics for version ${query.versionTag}`,
        },
        readMetrics,
        opts,
      );
      return toVersionMetrics(raw, { versionTag: query.versionTag, start, end });
    },
  };
}
