import { describe, expect, it } from 'vitest';
import type { Route, VersionMetrics } from '../../src/domain/relay.js';
import { renderStatus } from '../../src/reporters/status.js';
import { visibleWidth } from '../../src/reporters/table.js';
import { ANSI_COLOR, BASE, CAN, ROUTE } from './helpers.js';

const route: Route = {
  route_id: ROUTE,
  model_alias: ROUTE,
  route_rules: [
    { version_tag: BASE, weight: 75 },
    { version_tag: CAN, weight: 25 },
  ],
  revision: 7,
  updated_at: '2026-11-21T10:00:00Z',
};

const baseline: VersionMetrics = {
  version_tag: BASE,
  start_time: '2026-11-21T09:55:00Z',
  end_time: '2026-11-21T10:00:00Z',
  request_count: 5502,
  error_count: 22,
  error_rate: 0.004,
  latency_p50_ms: 398,
  latency_p99_ms: 2105,
  cost_per_token: 0.0000148,
};

describe('renderStatus', () => {
  it('shows weights, revision, per-version metrics and where they came from', () => {
    const text = renderStatus({
      route,
      metrics: { [BASE]: baseline, [CAN]: null },
      source: 'relay',
      window: '5m',
      color: false,
    });
    expect(text).toContain(`route ${ROUTE}  (revision 7, updated 2026-11-21T10:00:00Z)`);
    expect(text).toContain(`traffic: ${BASE} 75%, ${CAN} 25%`);
    const rows = text.split('\n').filter((l) => l.startsWith('│'));
    expect(rows[0]).toMatch(/version.*weight.*requests.*errors.*error rate.*p50.*p99.*cost\/token/);
    expect(rows.find((l) => l.includes(BASE))).toMatch(/75%.*5502.*22.*0\.40%.*398ms.*2105ms.*\$14\.8\/Mtok/);
    // Unreadable metrics are "no data", never zeros.
    expect(rows.find((l) => l.includes(CAN))).toMatch(/25%\s*│\s*–\s*│\s*–\s*│\s*–/);
    expect(text).toContain(`no data for ${CAN} in this window`);
    expect(text).toContain('metrics from relay, last 5m');
    expect(text).not.toMatch(ANSI_COLOR);
  });

  it('treats zero requests as no data and lists versions outside the route', () => {
    const idle: VersionMetrics = { ...baseline, version_tag: 'old-v0', request_count: 0, error_rate: null };
    const text = renderStatus({
      route: { route_id: ROUTE, model_alias: ROUTE, route_rules: route.route_rules },
      metrics: { [BASE]: baseline, [CAN]: baseline, 'old-v0': idle },
      source: 'prometheus',
      window: '1h',
      color: true,
      width: 60,
    });
    expect(text).toContain('old-v0');
    expect(text).toMatch(/no data for old-v0 in this window/);
    expect(text).toMatch(ANSI_COLOR);
    expect(text).not.toContain('revision');
    for (const line of text.split('\n')) expect(visibleWidth(line)).toBeLessThanOrEqual(60);
  });
});
