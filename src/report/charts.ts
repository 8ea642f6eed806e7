/**
 * The report's charts as Apache ECharts options: plain JSON (no functions) so the same option
 * renders to SVG on the server and again in the browser for hover values. Colours are mid-tones
 * on a transparent background, readable on a light page, a dark one and paper alike.
 */
import { formatWeight, truncate } from '../format.js';
import type { MetricView, ReportModel, StageView, TimelineEntry } from './model.js';
import { formatValue, type Unit, unitOf } from './units.js';

export interface ChartSpec {
  id: string;
  title: string;
  unit: Unit;
  option: Record<string, unknown>;
  /** A sentence under the chart: what is drawn, for print and screen readers. */
  caption: string;
}

export const COLORS = {
  canary: '#e8590c',
  baseline: '#1c7ed6',
  bound: '#868e96',
  threshold: '#e03131',
  text: '#7d7d7d',
  grid: 'rgba(128,128,128,0.25)',
  pass: '#2f9e44',
  fail: '#e03131',
  no_data: '#868e96',
  shared_incident: '#9c36b5',
  rollback: '#c92a2a',
  operator: '#f08c00',
  gate: '#1098ad',
  drift: '#d6336c',
} as const;

const VERDICT_SYMBOL: Record<string, string> = {
  pass: 'circle',
  fail: 'triangle',
  no_data: 'diamond',
  shared_incident: 'rect',
};

const verdictLabel = (v: string) => v.replace(/_/g, ' ');

function base(): Record<string, unknown> {
  return {
    animation: false,
    useUTC: true,
    backgroundColor: 'transparent',
    textStyle: { color: COLORS.text, fontFamily: 'system-ui, sans-serif' },
    grid: { left: 72, right: 150, top: 48, bottom: 36 },
    legend: { top: 0, textStyle: { color: COLORS.text } },
    tooltip: { trigger: 'axis', confine: true },
    xAxis: {
      type: 'time',
      axisLabel: { color: COLORS.text, hideOverlap: true },
      axisLine: { lineStyle: { color: COLORS.text } },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      min: 0,
      axisLabel: { color: COLORS.text },
      splitLine: { lineStyle: { color: COLORS.grid } },
    },
  };
}

/** Stage bands (alternately shaded, labelled with the canary weight) for markArea. */
function stageBands(stages: StageView[], endAt: number | null): unknown[] {
  return stages
    .filter((s) => s.startedAt !== null)
    .map((s, i) => [
      {
        name: formatWeight(s.weight),
        xAxis: s.startedAt,
        itemStyle: { color: i % 2 === 0 ? 'rgba(128,128,128,0.07)' : 'rgba(128,128,128,0.15)' },
        label: { color: COLORS.text, position: 'insideTop' },
      },
      { xAxis: s.endedAt ?? endAt ?? s.startedAt },
    ]);
}

function rollbackLine(model: ReportModel): unknown[] {
  if (!model.rollback) return [];
  return [
    {
      xAxis: model.rollback.at,
      name: 'rollback',
      lineStyle: { color: COLORS.rollback, type: 'solid', width: 2 },
      label: {
        formatter: `rollback (${model.rollback.cause})`,
        color: COLORS.rollback,
        position: 'insideEndTop',
      },
    },
  ];
}

function niceMax(values: (number | null)[]): number | undefined {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return undefined;
  const max = Math.max(...finite);
  return max > 0 ? max * 1.15 : undefined;
}

export function metricChart(model: ReportModel, view: MetricView): ChartSpec {
  const unit = unitOf(view.metric);
  const option = base();
  const canaryData = view.points.map((p) => [p.at, p.canary]);
  const baselineData = view.points.map((p) => [p.at, p.baseline]);
  const thresholdLines = view.thresholds.map((t) => ({
    yAxis: t,
    name: 'threshold',
    lineStyle: { color: COLORS.threshold, type: 'solid', width: 1.5 },
    label: { formatter: `max ${formatValue(unit, t)}`, color: COLORS.threshold, position: 'end' },
  }));
  const series: Record<string, unknown>[] = [
    {
      name: `canary ${model.canary ?? ''}`.trim(),
      type: 'line',
      color: COLORS.canary,
      data: canaryData,
      symbolSize: 4,
      lineStyle: { width: 2 },
      markArea: { silent: true, data: stageBands(model.stages, model.endedAt) },
      markLine: { silent: true, symbol: 'none', data: [...thresholdLines, ...rollbackLine(model)] },
    },
    {
      name: `baseline ${model.baseline ?? ''}`.trim(),
      type: 'line',
      color: COLORS.baseline,
      data: baselineData,
      symbolSize: 4,
      lineStyle: { width: 2 },
    },
  ];
  if (view.comparison.length > 0) {
    series.push({
      name: 'comparison bound',
      type: 'line',
      step: 'end',
      color: COLORS.bound,
      data: view.comparison.map((c) => [c.at, c.bound]),
      showSymbol: false,
      lineStyle: { type: 'dashed', width: 1.5 },
    });
  }
  const verdicts = [...new Set(view.points.map((p) => p.verdict).filter((v): v is string => v !== null))];
  for (const verdict of verdicts) {
    series.push({
      name: verdictLabel(verdict),
      type: 'scatter',
      color: (COLORS as Record<string, string>)[verdict] ?? COLORS.bound,
      symbol: VERDICT_SYMBOL[verdict] ?? 'pin',
      symbolSize: verdict === 'fail' ? 12 : 8,
      // A check without a value (no data) is marked on the axis, where nothing was measured.
      data: view.points.filter((p) => p.verdict === verdict).map((p) => [p.at, p.canary ?? 0]),
      z: 5,
    });
  }
  const yMax = niceMax([
    ...view.points.flatMap((p) => [p.canary, p.baseline]),
    ...view.thresholds,
    ...view.comparison.map((c) => c.bound),
  ]);
  (option.yAxis as Record<string, unknown>).max = yMax;
  option.series = series;
  const parts = [`canary and baseline ${view.metric} per evaluation`];
  if (view.thresholds.length > 0)
    parts.push(`threshold ${view.thresholds.map((t) => formatValue(unit, t)).join(', ')}`);
  if (view.comparison.length > 0) parts.push('the comparison bound (dashed)');
  parts.push(`verdicts: ${verdicts.map(verdictLabel).join(', ') || 'none'}`);
  return {
    id: `metric-${view.metric.replace(/[^a-z0-9_-]/gi, '_')}`,
    title: view.metric,
    unit,
    option,
    caption: `${parts.join('; ')}.`,
  };
}

const MARKED: TimelineEntry['kind'][] = ['gate', 'operator', 'drift', 'rollback', 'check'];

/** Canary weight over time with stage bands and a marker per gate, operator action, drift and rollback. */
export function trafficChart(model: ReportModel): ChartSpec {
  const option = base();
  const data = model.weights.map((w) => [w.at, w.weight]);
  const last = model.weights[model.weights.length - 1];
  if (last && model.endedAt !== null && model.endedAt > last.at) data.push([model.endedAt, last.weight]);
  const markers = model.timeline
    // One marker per rollback (its start, with the cause), and only failed checks: labels must not pile up.
    .filter(
      (e) =>
        MARKED.includes(e.kind) &&
        !(e.kind === 'check' && !e.label.endsWith('fail')) &&
        e.label !== 'rolled back',
    )
    .map((e) => {
      const color = (COLORS as Record<string, string>)[e.kind] ?? COLORS.text;
      return {
        xAxis: e.at,
        name: e.label,
        lineStyle: {
          color,
          type: e.kind === 'rollback' ? 'solid' : 'dashed',
          width: e.kind === 'rollback' ? 2 : 1,
        },
        label: {
          formatter: truncate(e.label, 28),
          color,
          position: 'insideEndTop',
        },
      };
    });
  option.yAxis = { ...(option.yAxis as object), max: 100, interval: 25 };
  option.series = [
    {
      name: `canary weight (${model.canary ?? 'canary'})`,
      type: 'line',
      step: 'end',
      color: COLORS.canary,
      areaStyle: { opacity: 0.2 },
      data,
      symbolSize: 5,
      markArea: { silent: true, data: stageBands(model.stages, model.endedAt) },
      markLine: { silent: true, symbol: 'none', data: markers },
    },
  ];
  return {
    id: 'traffic',
    title: 'Traffic',
    unit: 'percent',
    option,
    caption: `canary weight as set and confirmed, stage bands, and ${markers.length} marked event(s): gates, operator actions, drift and the rollback.`,
  };
}

export function reportCharts(model: ReportModel): ChartSpec[] {
  const charts: ChartSpec[] = [];
  if (model.weights.length > 0) charts.push(trafficChart(model));
  for (const view of model.metrics) charts.push(metricChart(model, view));
  return charts;
}
