/**
 * `canary status`: where a route's traffic is and how each version is doing, as one block of
 * text. Same columns and formatting as the live table, so the two read alike.
 */

import type { Route, VersionMetrics } from '../domain/relay.js';
import { formatRules } from '../format.js';
import { createChalk } from './select.js';
import { renderVersionTable, type VersionRow } from './table.js';

export interface StatusInput {
  route: Route;
  /** Per version tag; null when that version's metrics could not be read. */
  metrics: Record<string, VersionMetrics | null>;
  /** Where the numbers came from, e.g. `relay` or `prometheus`. */
  source: string;
  /** The metrics window as the user gave it, e.g. `5m`. */
  window: string;
  color: boolean;
  /** Terminal width (default 100). */
  width?: number | undefined;
}

export function renderStatus(input: StatusInput): string {
  const chalk = createChalk(input.color);
  const { route } = input;
  const width = input.width && input.width > 0 ? input.width : 100;

  const facts: string[] = [];
  if (route.revision !== undefined) facts.push(`revision ${route.revision}`);
  if (route.updated_at !== undefined) facts.push(`updated ${route.updated_at}`);
  const lines = [
    `${chalk.bold('route')} ${chalk.bold(route.route_id)}${facts.length ? `  ${chalk.dim(`(${facts.join(', ')})`)}` : ''}`,
    `traffic: ${formatRules(route.route_rules)}`,
    '',
  ];

  const tags = route.route_rules.map((r) => r.version_tag);
  for (const tag of Object.keys(input.metrics)) if (!tags.includes(tag)) tags.push(tag);
  const rows: VersionRow[] = tags.map((tag) => ({
    tag,
    weight: route.route_rules.find((r) => r.version_tag === tag)?.weight ?? null,
    metrics: input.metrics[tag] ?? null,
  }));
  lines.push(renderVersionTable(rows, { chalk, width }));

  const missing = tags.filter((tag) => {
    const m = input.metrics[tag];
    return !m || m.request_count == null || m.request_count === 0;
  });
  if (missing.length > 0) lines.push(chalk.yellow(`no data for ${missing.join(', ')} in this window`));
  lines.push(chalk.dim(`metrics from ${input.source}, last ${input.window}`));
  return lines.join('\n');
}
