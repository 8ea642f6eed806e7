/**
 * The report renderer: records → model → charts drawn by Apache ECharts as SVG on the server
 * (readable with scripts off, printed, or in a mail preview) → one self-contained HTML file that
 * also carries ECharts' browser runtime, which redraws each chart in place for hover values.
 *
 * scripts/build.mjs builds this file as its own bundle (dist/report.cjs), loaded only by
 * `canary report` and `canary rollout --report`: ECharts never slows any other command's start.
 */

import { buildReportModel } from './build-model.js';
import { type ChartSpec, reportCharts } from './charts.js';
import { clientScript } from './client-script.js';
import type { Raw } from './fields.js';
import { reportHtml } from './html.js';
import type { ReportModel } from './model.js';
import { withFormatters } from './units.js';

interface Charts {
  init(
    dom: null,
    theme: null,
    opts: { renderer: 'svg'; ssr: true; width: number; height: number },
  ): { setOption(option: unknown): void; renderToSVGString(): string; dispose(): void };
}

let charts: Charts | undefined;

/** ECharts, from the page's own script (src/report/client.ts): one copy serves both sides. */
function echarts(): Charts {
  charts ??= new Function(`${clientScript()}\nreturn canaryCharts;`)() as Charts;
  return charts;
}

export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 320;

/** One chart as an SVG string, drawn by ECharts' server-side renderer. */
export function renderChartSvg(spec: ChartSpec, width = CHART_WIDTH, height = CHART_HEIGHT): string {
  const chart = echarts().init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    // A copy: the formatters are functions, and the option also goes to the page as JSON.
    chart.setOption(withFormatters(structuredClone(spec.option), spec.unit));
    return chart.renderToSVGString();
  } finally {
    // Without it ECharts keeps an animation timer alive and the process cannot exit.
    chart.dispose();
  }
}

export interface RenderOptions {
  /** Shown in the footer. */
  version: string;
  generatedAt: number;
}

export interface RenderedReport {
  html: string;
  model: ReportModel;
}

export function renderReport(records: Raw[], source: string, options: RenderOptions): RenderedReport {
  const model = buildReportModel(records, source);
  const charts = reportCharts(model).map((spec) => ({ spec, svg: renderChartSvg(spec) }));
  return { html: reportHtml(model, charts, { ...options, script: clientScript() }), model };
}

/** The model alone, for callers that need no HTML (tests, the GitHub summary). */
export { buildReportModel };
