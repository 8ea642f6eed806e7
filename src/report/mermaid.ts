/**
 * The deciding metric as a Mermaid `xychart-beta` block, which GitHub renders natively in a step
 * summary: canary, baseline and the threshold per evaluation. Pure; no charting library.
 */

import { buildReportModel } from './build-model.js';
import { COLORS } from './charts.js';
import type { Raw } from './fields.js';
import { type Unit, unitOf } from './units.js';

/** Points drawn at most: a summary chart is read at a glance, evenly thinned beyond this. */
const MAX_POINTS = 40;

function scale(unit: Unit, v: number): number {
  const n = unit === 'rate' ? v * 100 : v;
  return Number(n.toPrecision(4));
}

function axisName(metric: string, unit: Unit): string {
  if (unit === 'rate') return `${metric} (%)`;
  return metric;
}

function thin<T>(items: T[]): T[] {
  if (items.length <= MAX_POINTS) return items;
  const step = (items.length - 1) / (MAX_POINTS - 1);
  return Array.from({ length: MAX_POINTS }, (_, i) => items[Math.round(i * step)] as T);
}

function elapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}`;
}

/** Markdown (a heading line, the fenced block and a key), or undefined when nothing was measured. */
export function decidingMetricChart(records: Raw[]): string | undefined {
  const model = buildReportModel(records, 'events');
  const view = model.metrics.find((m) => m.metric === model.decidingMetric);
  if (!view) return undefined;
  const unit = unitOf(view.metric);
  const points = thin(view.points.filter((p) => p.canary !== null));
  if (points.length < 2) return undefined;
  const withBaseline = points.every((p) => p.baseline !== null);
  const threshold = view.thresholds[0];
  const start = model.startedAt ?? (points[0] as { at: number }).at;
  const lines = [
    `line [${points.map((p) => scale(unit, p.canary as number)).join(', ')}]`,
    ...(withBaseline ? [`line [${points.map((p) => scale(unit, p.baseline as number)).join(', ')}]`] : []),
    ...(threshold !== undefined ? [`line [${points.map(() => scale(unit, threshold)).join(', ')}]`] : []),
  ];
  const values = points
    .flatMap((p) => [p.canary, withBaseline ? p.baseline : null])
    .filter((v): v is number => v !== null);
  if (threshold !== undefined) values.push(threshold);
  const top = scale(unit, Math.max(...values) * 1.15) || 1;
  const key = [
    'canary (orange)',
    ...(withBaseline ? ['baseline (blue)'] : []),
    ...(threshold !== undefined ? ['threshold (red)'] : []),
  ];
  const why = model.rollback ? 'the metric that decided the rollback' : 'the first judged metric';
  return [
    `### \`${view.metric}\` per evaluation (${why})`,
    '',
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${COLORS.canary}, ${COLORS.baseline}, ${COLORS.threshold}"}}}}%%`,
    'xychart-beta',
    `  title "${view.metric}: canary vs baseline"`,
    `  x-axis "time since start" [${points.map((p) => `"${elapsed(p.at - start)}"`).join(', ')}]`,
    `  y-axis "${axisName(view.metric, unit)}" 0 --> ${top}`,
    ...lines.map((l) => `  ${l}`),
    '```',
    '',
    `Lines: ${key.join(', ')}.`,
    '',
  ].join('\n');
}
